# The README's two commands: `make demo` and `make test`. Both set up what they need.
.PHONY: setup demo test lint screens

setup:
	./scripts/bootstrap.sh

demo: setup
	.venv/bin/myopenip demo

test: setup
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check src tests
	.venv/bin/ruff format --check src tests
	.venv/bin/mypy

screens: setup
	.venv/bin/python scripts/screens.py
