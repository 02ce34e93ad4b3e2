#!/usr/bin/env bash
# Runs every check PathLab has, stopping at the first failure:
# formatting, lints (native and wasm32), native tests, browser tests,
# the release web build (with its size budget) and end-to-end tests of that build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Release bundle budget: wasm + JS + CSS the page loads, gzipped. The core's
# worker (pathlab-core*, started by the page as it opens, built for speed)
# is reported on its own line.
budget_kb=300

sections=()
passed=0
started_all=$SECONDS

# Prints a command, then runs it.
run() {
  printf '    $ %s\n' "$*"
  "$@"
}

section() {
  local name="$1"; shift
  local start=$SECONDS
  printf '\n==> [%d] %s\n' "$((passed + 1))" "$name"
  if "$@"; then
    local took=$((SECONDS - start))
    passed=$((passed + 1))
    sections+=("$(printf '%4ss  %s' "$took" "$name")")
    printf -- '--- ok: %s (%ss)\n' "$name" "$took"
  else
    local status=$?
    printf -- '--- FAILED: %s (exit %s, after %ss)\n' "$name" "$status" "$((SECONDS - start))"
    printf '\n%d passed, 1 failed\n' "$passed"
    exit 1
  fi
}

setup() {
  # Sourced so that PATH (node_modules/.bin first) reaches the later sections.
  printf '    $ source scripts/setup.sh --browser\n'
  source "$root/scripts/setup.sh" --browser
}

clippy_wasm() {
  # The second run lints the browser tests, which exist only on wasm32.
  run cargo clippy --workspace --target wasm32-unknown-unknown -- -D warnings \
    && run cargo clippy -p pathlab --tests --target wasm32-unknown-unknown -- -D warnings
}

browser_tests() {
  # Never pass -q here: wasm-bindgen-test-runner rejects --quiet.
  run env CHROMEDRIVER=/usr/bin/chromedriver cargo test -p pathlab --target wasm32-unknown-unknown
}

release_build() {
  run trunk build --release || return
  local wasm js css total worker
  wasm=$(gzipped_bytes $(page_files wasm))
  js=$(gzipped_bytes $(page_files js))
  css=$(gzipped_bytes dist/*.css)
  total=$((wasm + js + css))
  worker=$(gzipped_bytes dist/pathlab-core*)
  printf '    page, gzipped: wasm %s B, js %s B, css %s B, total %s B (budget %s KB)\n' \
    "$wasm" "$js" "$css" "$total" "$budget_kb"
  printf '    core worker (started by the page, built for speed), gzipped: %s B\n' "$worker"
  if [ "$total" -gt $((budget_kb * 1024)) ]; then
    echo "    the release bundle is over its budget" >&2
    return 1
  fi
}

# dist/ files with extension $1 that the page itself loads (not the worker).
page_files() {
  local f
  for f in dist/*."$1"; do
    case "$f" in dist/pathlab-core*) ;; *) echo "$f" ;; esac
  done
}

gzipped_bytes() {
  local sum=0 file
  for file in "$@"; do
    [ -f "$file" ] || continue
    sum=$((sum + $(gzip -9 -c "$file" | wc -c)))
  done
  echo "$sum"
}

e2e_tests() {
  [ -f dist/index.html ] || { echo "dist/ has no release build" >&2; return 1; }
  local out server_pid url="" i status=0
  out="$(mktemp)"
  node e2e/static-server.mjs dist >"$out" 2>&1 &
  server_pid=$!
  for i in $(seq 1 100); do
    url="$(head -n 1 "$out")"
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "the static server did not start:" >&2; cat "$out" >&2
    kill "$server_pid" 2>/dev/null || true
    return 1
  fi
  echo "    serving dist/ at $url"
  run env PATHLAB_BASE_URL="$url" node --test e2e/*.test.mjs || status=$?
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  rm -f "$out"
  return "$status"
}

section "setup (tools and crates)" setup
section "format" run cargo fmt --all --check
section "clippy (native)" run cargo clippy --workspace --all-targets -- -D warnings
section "clippy (wasm32)" clippy_wasm
section "tests (native)" run cargo test --workspace
section "tests (browser, wasm32)" browser_tests
section "release web build" release_build
section "end-to-end (release build in Chromium)" e2e_tests

printf '\nSection times:\n'
printf '  %s\n' "${sections[@]}"
printf '  %4ss  total\n' "$((SECONDS - started_all))"
printf '\n%d passed, 0 failed\n' "$passed"
