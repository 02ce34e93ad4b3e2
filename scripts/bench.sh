#!/usr/bin/env bash
# Benchmarks, run on demand (never part of the tests): simulation events per
# second natively, then frames per second and bundle size of the release
# web build in headless Chromium.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source "$root/scripts/setup.sh" --browser

echo "==> simulation core, native (release)"
cargo run --quiet --release -p pathlab-sim -- bench

echo
echo "==> interface, release build in headless Chromium"
trunk build --release >/dev/null
log=$(mktemp)
node e2e/static-server.mjs dist >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 50); do
  url=$(head -n 1 "$log" 2>/dev/null || true)
  [ -n "$url" ] && break
  sleep 0.1
done
node e2e/bench.mjs "$url" dist
