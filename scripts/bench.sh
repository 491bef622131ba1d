#!/usr/bin/env bash
# `npm run bench`: installs what it needs (Node packages, redis-server, etcd), compiles, then runs
# bench/run.ts, which starts a private redis-server and etcd on free loopback ports and stops them after.
# Settings: BENCH_SECONDS, BENCH_ROUNDS, BENCH_MANY_KEYS, BENCH_ONLY, BENCH_CONTENDERS, BENCH_OUT (see bench/run.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "[bench] compile"
npx tsc -p tsconfig.json
exec node --expose-gc dist/bench/run.js
