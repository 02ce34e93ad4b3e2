#!/usr/bin/env bash
# Benchmarks, run on demand (never part of the tests): simulation events per
# second natively and as WebAssembly (the core built like the browser's, run
# in Node), then frames per second and bundle size of the release web build
# in headless Chromium, and the interface's memory over 10 simulated hours.
#
#   bash scripts/bench.sh                    # core on the default preset
#   bash scripts/bench.sh --preset stress    # arguments go to both core runs
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source "$root/scripts/setup.sh" --browser

# The core as the browser gets it: the `web-core` profile of the core's
# worker, compiled for WASI so that Node can run its command line. Both builds come first, so that the two
# measurements run back to back.
if ! rustup target list --installed | grep -qx 'wasm32-wasip1'; then
  rustup target add wasm32-wasip1
fi
target_dir="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --release -p pathlab-sim
cargo build --quiet --profile web-core -p pathlab-sim --target wasm32-wasip1

# The figure from the CLI's line "best: 8.50 million simulation events…".
best_of() { sed -n 's/^best: \([0-9.]*\) million.*/\1/p' "$1"; }
native_out=$(mktemp)
wasm_out=$(mktemp)
trap 'rm -f "$native_out" "$wasm_out"' EXIT

# Each run is the CLI's best of five rounds; native and WebAssembly runs
# alternate, so that both meet the same moments of a busy machine, and the
# best of each counts.
runs=${CORE_BENCH_RUNS:-3}
echo "==> simulation core: native (release) and WebAssembly (web-core profile, wasm32-wasip1, Node $(node --version)), $runs runs each"
native=0
wasm=0
for run in $(seq "$runs"); do
  "$target_dir/release/pathlab-sim" bench "$@" >"$native_out"
  node --no-warnings e2e/wasm-bench.mjs "$target_dir/wasm32-wasip1/web-core/pathlab-sim.wasm" "$@" >"$wasm_out"
  n=$(best_of "$native_out")
  w=$(best_of "$wasm_out")
  echo "run $run: native $n, wasm $w million events/s"
  native=$(awk -v a="$native" -v b="$n" 'BEGIN { print (b > a ? b : a) }')
  wasm=$(awk -v a="$wasm" -v b="$w" 'BEGIN { print (b > a ? b : a) }')
done
echo "last native run:"
sed 's/^/  /' "$native_out"
echo "last WebAssembly run:"
sed 's/^/  /' "$wasm_out"
awk -v n="$native" -v w="$wasm" 'BEGIN {
  printf "core: native %.2f M events/s, wasm %.2f M events/s, wasm/native %.2f (goal >= 0.75)\n", n, w, w / n
}'

echo
echo "==> time travel (default preset): native, then WebAssembly (web-core profile, Node)"
"$target_dir/release/pathlab-sim" travel | sed 's/^/  native: /'
node --no-warnings e2e/wasm-bench.mjs "$target_dir/wasm32-wasip1/web-core/pathlab-sim.wasm" travel | sed 's/^/  wasm:   /'
# The command line's sweep, on one thread and then on every core: the
# speed-up of running its variants in parallel.
echo "==> sweep (leader-crash, 3 replication modes × seeds 1..8, 120 s each): one thread, then all $(nproc) cores"
sweep_wall() {
  env RAYON_NUM_THREADS="$1" "$target_dir/release/pathlab-sim" sweep --preset leader-crash \
    --vary db.replication=async,semi-sync,sync --seeds 1..8 --duration 120 --json |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).wall_s.toFixed(3)))'
}
one=$(sweep_wall 1)
all=$(sweep_wall "$(nproc)")
node -e "console.log('  24 runs: ' + $one + ' s on 1 thread, ' + $all + ' s on $(nproc): speed-up ' + ($one / $all).toFixed(2) + '×')"

echo
echo "==> interface, release build in headless Chromium"
trunk build --release >/dev/null
log=$(mktemp)
node e2e/static-server.mjs dist >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log" "$native_out" "$wasm_out"' EXIT
for _ in $(seq 50); do
  url=$(head -n 1 "$log" 2>/dev/null || true)
  [ -n "$url" ] && break
  sleep 0.1
done
node e2e/bench.mjs "$url" dist

echo
echo "==> interface memory: the default scenario at 100× for ${MEMORY_HOURS:-10} simulated hours (MEMORY_HOURS=N to change)"
node e2e/memory-bench.mjs "$url"
