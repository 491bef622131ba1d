#!/usr/bin/env bash
# The README's test command: installs what it needs, then typechecks, lints and runs every test
# against private redis-server and etcd processes that the tests start and stop themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
rm -rf dist
echo "[test] typecheck and compile"
npx tsc -p tsconfig.json
echo "[test] lint"
npm run --silent lint
echo "[test] specs"
node scripts/run-tests.js "$@"
