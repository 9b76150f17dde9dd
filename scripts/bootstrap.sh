#!/usr/bin/env bash
# Set up a fresh machine: a virtualenv in .venv with the project, and a Chromium to drive.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"

have_browser() {
  .venv/bin/python - <<'PY' 2>/dev/null
import os, sys
from myopenip_bot.browser import find_browser
launch = find_browser(os.environ.get("MYOPENIP_BROWSER_PATH"))
print(f"Browser: {launch.source}")
PY
}

if have_browser; then exit 0; fi

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
  fi
fi
if have_browser; then exit 0; fi

cat >&2 <<'MSG'
No Chromium could be installed automatically.
Install one yourself (`python -m playwright install chromium`, or your system's chromium
package), or set MYOPENIP_BROWSER_PATH to a Chromium or Chrome binary, then run again.
MSG
exit 1
