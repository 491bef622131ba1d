#!/usr/bin/env bash
# `npm run test:faults`: installs what it needs (Node packages, redis-server, etcd), compiles, then runs the
# whole fault matrix (test/faults/run-faults.ts) against private servers it starts on free loopback ports
# and stops after. Prints the table; exits 1 on any violation. FAULT_RUNS (default 3), FAULT_ONLY=<text>.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "[faults] compile"
npx tsc -p tsconfig.json
exec node dist/test/faults/run-faults.js
