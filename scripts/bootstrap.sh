#!/usr/bin/env bash
# Set up a fresh machine: a virtualenv in .venv with the project, and a Chromium to drive.
# --tests (make test): also PostgreSQL's initdb and pg_ctl, which the ledger's tests start a
# throw-away server with (tests/support/postgres.py).
set -euo pipefail
cd "$(dirname "$0")/.."

tests=false
for arg in "$@"; do
  case $arg in
    --tests) tests=true ;;
    *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-python3}
# Without pip at first: its own install is 5 s of a fresh clone's set-up; uv adds it below.
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv --without-pip .venv
fi
pip_in_venv() {
  .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --upgrade >/dev/null
}
# uv, by the system's pip straight into .venv (pip 22.3 and later), else by .venv's pip.
install_uv() {
  "$python" -m pip --python .venv/bin/python install --quiet --disable-pip-version-check uv \
    >/dev/null 2>&1 && return 0
  pip_in_venv 2>/dev/null || return 1
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1
}
# uv installs the project and its tools in about 10 s where pip takes about 40 (a fresh
# clone's `make test` and `make demo` start sooner); pip does it when uv cannot be had or
# cannot install (uv reads no pip.conf: a package mirror only pip knows, say).
if ! { install_uv \
  && .venv/bin/uv pip install --quiet --python .venv/bin/python -e ".[dev]" pip 2>/dev/null; }; then
  pip_in_venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
fi
# The French catalog's .mo, from its .po (src/myopenip_bot/locale; .mo files are not in git).
# Without it the bot still speaks French, compiling the .po at each start (myopenip_bot.i18n).
.venv/bin/python scripts/catalogs.py compile || echo "(the catalogs were not compiled)" >&2
# The bytecode of the project and its packages, written once, on every core (uv writes
# none; what is up to date is skipped): with PYTHONDONTWRITEBYTECODE set (CI images often
# set it), every `python -m myopenip` would compile what it imports again. Not the
# packages no run of the bot or the tests imports (the type checker, the benchmarks'
# plotting): half the time (4 s instead of 8).
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
unused='/site-packages/(mypy|mypyc|numpy|matplotlib|fontTools|PIL|contourpy|kiwisolver|pip|setuptools)/'
.venv/bin/python -m compileall -j 0 -q -x "$unused" src "$site" >/dev/null || true
# The tests' bytecode too, their assertions rewritten by pytest, on a fresh clone: written
# by one collection here, in the background while the set-up goes on, rather than by each
# of the suite's workers at their start (6 s of CPU each instead of 2). Afterwards the
# suite's own runs keep it up to date (the Makefile lets pytest write it whatever
# PYTHONDONTWRITEBYTECODE says). Its errors are the suite's to say.
if $tests && ! compgen -G "tests/__pycache__/conftest.*-pytest-*.pyc" >/dev/null; then
  env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -m pytest --collect-only -q \
    -p no:cacheprovider >/dev/null 2>&1 &
  collecting=$!
  trap 'wait "$collecting" 2>/dev/null || true' EXIT
fi

# PostgreSQL's server binaries, looked for as the tests look for them (PATH, then Debian's
# /usr/lib/postgresql/*/bin, not in PATH; as root, the `postgres` user to run them as):
# prints where they are and returns 0, or prints what is missing and how to get it and
# returns 3; anything else (the project cannot be imported, say) is shown and stops.
postgres_check() {
  .venv/bin/python - <<'PY'
import sys
sys.path.insert(0, "tests/support")
from postgres import Postgres, PostgresNotFoundError
try:
    print(f"PostgreSQL for the ledger's tests: {Postgres().binaries}")
except PostgresNotFoundError as error:
    print(error)
    sys.exit(3)
PY
}
# Debian's postgresql package, with apt-get as root or with sudo without a password. It
# also creates and starts Debian's own cluster (port 5432), which the tests do not use.
# The lists first (a fresh image has none, an old machine stale ones); their failure is
# not the end (an unreachable third-party source): the install says whether it can.
install_postgres() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo -n true 2>/dev/null || return 1
    sudo="sudo -n"
  fi
  echo "Installing Debian's postgresql with apt-get (initdb and pg_ctl for the ledger's tests)..."
  local log code=0
  log=$(mktemp)
  # env: sudo resets the environment; the lock timeout waits for an apt already running
  # (a fresh machine's unattended upgrades).
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 update \
    >"$log" 2>&1 || true
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 \
    install -y --no-install-recommends postgresql >>"$log" 2>&1 || code=$?
  if [ "$code" -ne 0 ]; then
    echo "apt-get failed (exit code $code):" >&2
    tail -n 20 "$log" >&2
  fi
  rm -f "$log"
  return "$code"
}
setup_postgres() {
  local said code=0
  said=$(postgres_check) || code=$?
  if [ "$code" -eq 3 ] && install_postgres; then
    code=0
    said=$(postgres_check) || code=$?
  fi
  case $code in
    0) echo "$said" ;;
    3) printf '%s\n%s\n' "$said" "(The other tests run; the ledger's fail until then.)" >&2 ;;
    *) echo "The setup cannot check for PostgreSQL (above)." >&2; exit "$code" ;;
  esac
}
if $tests; then setup_postgres; fi

# Returns 0 with the browser named when one is usable, 1 when none is; anything else (the
# project cannot be imported, say) is shown and stops the setup.
have_browser() {
  local code=0
  .venv/bin/python - <<'PY' || code=$?
import os, sys
from myopenip_bot.browser.launch import find_browser
from myopenip_bot.errors import BrowserNotFoundError
try:
    launch = find_browser(os.environ.get("MYOPENIP_BROWSER_PATH"))
except BrowserNotFoundError:
    sys.exit(3)
print(f"Browser: {launch.source}")
PY
  if [ "$code" -eq 3 ]; then return 1; fi
  if [ "$code" -ne 0 ]; then echo "The setup cannot check for a browser (above)." >&2; exit "$code"; fi
}

# Debian's Chromium without a window: the headless shell, a fraction of its CPU. Added
# beside a system Chromium when apt-get can (root, or sudo without a password).
add_headless_shell() {
  command -v apt-get >/dev/null 2>&1 || return 0
  [ -x /usr/lib/chromium/chromium-headless-shell ] && return 0
  [ -x /usr/bin/chromium ] || return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo -n true 2>/dev/null || return 0
    sudo="sudo -n"
  fi
  apt-cache show chromium-headless-shell >/dev/null 2>&1 || return 0
  echo "Adding Debian's chromium-headless-shell (headless runs use it)..."
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium-headless-shell \
    >/dev/null 2>&1 || echo "(not added; the full Chromium is used)"
}

if have_browser; then add_headless_shell; exit 0; fi

echo "No Chromium found; trying Playwright's download (needs internet)..."
timeout 300 .venv/bin/python -m playwright install chromium >/dev/null 2>&1 || true
if have_browser; then exit 0; fi

if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="__none__"; fi
  fi
  if [ "$sudo" != "__none__" ]; then
    echo "Installing Debian's chromium with apt-get..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium-headless-shell \
      >/dev/null 2>&1 || echo "(chromium-headless-shell not installed; the full Chromium is used)"
  fi
fi
if have_browser; then exit 0; fi

cat >&2 <<'MSG'
No Chromium could be installed automatically.
Install one yourself (`python -m playwright install chromium`, or your system's chromium
package), or set MYOPENIP_BROWSER_PATH to a Chromium or Chrome binary, then run again.
MSG
exit 1
