#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmark need on a fresh machine: the Node packages of
# package-lock.json, and the Debian packages redis-server, etcd-server (binaries only: their system
# services are kept from starting, since every run starts its own servers on free loopback ports) and
# openssl (the TLS tests make their own CA and certificates with it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[deps] npm ci"
  # The lock file lists every platform's optional packages, so npm ci installs exactly it; a failure here is a
  # broken lock file or registry, to fix, not to paper over with npm install.
  if ! npm ci --no-audit --no-fund --loglevel=error; then
    echo "[deps] npm ci failed (see above). If the lock file is out of sync with package.json, run" >&2
    echo "[deps] 'npm install --package-lock-only', commit package-lock.json and run again" >&2
    exit 1
  fi
fi

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "[deps] missing ${missing[*]} and no apt-get here; install them and run again" >&2
    exit 1
  fi
  echo "[deps] apt-get install ${missing[*]}"
  policy=/usr/sbin/policy-rc.d
  made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && made_policy=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$made_policy" ] || $sudo rm -f "$policy"
fi
