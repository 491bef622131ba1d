#!/usr/bin/env bash
# The README's main command: installs what it needs, compiles, then runs scripts/demo.ts, which starts a
# private redis-server and etcd and three instances of the sample app against them (or, when redis/etcd
# cannot be had, one instance on the memory driver), shows the locks at work, and stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/ensure-deps.sh; then
  echo "[demo] scripts/ensure-deps.sh failed (see above); going on with what is installed"
fi
if [ ! -d node_modules/@nestjs/core ]; then
  echo "[demo] the Node packages are not installed (npm ci failed); cannot compile the demo" >&2
  exit 1
fi
echo "[demo] compile"
npx tsc -p tsconfig.json
exec node dist/scripts/demo.js
