#!/usr/bin/env bash
# Builds PathLab and serves it locally with live reload:
#   bash scripts/serve.sh              # http://127.0.0.1:8080/
#   PORT=9000 bash scripts/serve.sh    # another port
#   RELEASE=1 bash scripts/serve.sh    # the optimised build users get (slower to rebuild)
# Installs whatever is missing first (see scripts/setup.sh). Stop with Ctrl-C.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

port="${PORT:-8080}"
address="127.0.0.1"
url="http://$address:$port/"

# shellcheck source=scripts/setup.sh
source "$root/scripts/setup.sh" --no-browser

args=(serve --address "$address" --port "$port")
if [ "${RELEASE:-0}" = 1 ]; then
  args+=(--release)
fi

echo
echo "Building PathLab; it will be served at $url"
echo "(the first build takes a minute or two; later rebuilds are quick)"
echo

# Trunk logs "success" after each build: announce the address after the first one.
announced=0
trunk "${args[@]}" 2>&1 | while IFS= read -r line; do
  printf '%s\n' "$line"
  if [ "$announced" = 0 ] && [[ "$line" == *"success"* ]]; then
    announced=1
    printf '\n    PathLab is ready:  %s\n    (Ctrl-C stops the server)\n\n' "$url"
  fi
done
