#!/usr/bin/env bash
# Installs what PathLab's build and tests need. Every step checks first and is
# skipped when its tool is already in place, so a second run takes seconds.
#
#   source scripts/setup.sh --no-browser   # build and serve tools
#   source scripts/setup.sh --browser      # plus Chromium and its driver (tests)
#
# (Always pass one of the two when sourcing: a sourced script without
# arguments sees the caller's.)
# Sourcing keeps the PATH change (node_modules/.bin first, so Trunk finds the
# pinned wasm-opt); running it as `bash scripts/setup.sh [--browser]` also works.

pathlab_setup() {
  local browser="${PATHLAB_SETUP_BROWSER:-0}"
  local arg
  for arg in "$@"; do
    case "$arg" in
      --browser) browser=1 ;;
      --no-browser) browser=0 ;;
      *) echo "setup: unknown argument: $arg" >&2; return 2 ;;
    esac
  done

  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
  local trunk_version="0.21.14"

  log() { printf 'setup: %s\n' "$*"; }

  if [ -d "$HOME/.cargo/bin" ]; then
    case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) export PATH="$HOME/.cargo/bin:$PATH" ;; esac
  fi
  command -v cargo >/dev/null || { log "cargo not found: install Rust with rustup first"; return 1; }

  # Rust: the WebAssembly target and the lint/format components.
  if rustup target list --installed | grep -qx 'wasm32-unknown-unknown'; then
    log "rust target wasm32-unknown-unknown: present"
  else
    log "adding rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown || return 1
  fi
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    log "adding rustup components rustfmt and clippy"
    rustup component add rustfmt clippy || return 1
  fi

  # Trunk, pinned: 0.22 needs a newer rustc than this toolchain.
  if [ "$(trunk --version 2>/dev/null)" = "trunk $trunk_version" ]; then
    log "trunk $trunk_version: present"
  else
    log "installing trunk $trunk_version (slow: about 15 minutes on 2 cores)"
    cargo install --locked trunk --version "$trunk_version" || return 1
  fi

  # wasm-bindgen CLI: must equal the wasm-bindgen version in Cargo.lock exactly.
  local bindgen_version
  bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { found = 1; next }
                          found && /^version = / { gsub(/"/, "", $3); print $3; exit }' "$root/Cargo.lock")"
  [ -n "$bindgen_version" ] || { log "no wasm-bindgen entry in Cargo.lock"; return 1; }
  if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $bindgen_version" ] \
     && command -v wasm-bindgen-test-runner >/dev/null; then
    log "wasm-bindgen-cli $bindgen_version: present"
  else
    log "installing wasm-bindgen-cli $bindgen_version (about 5 minutes on 2 cores)"
    cargo install --locked wasm-bindgen-cli --version "$bindgen_version" \
      || { log "retrying wasm-bindgen-cli without --locked";
           cargo install wasm-bindgen-cli --version "$bindgen_version"; } \
      || return 1
  fi

  # Node packages: wasm-opt (npm binaryen) and playwright-core.
  if ! command -v npm >/dev/null; then
    log "installing nodejs and npm"
    pathlab_apt_install nodejs npm || return 1
  fi
  if pathlab_node_modules_current "$root"; then
    log "node_modules: present"
  else
    log "installing node packages"
    if [ -f "$root/package-lock.json" ]; then
      (cd "$root" && npm ci --no-audit --no-fund) || return 1
    else
      (cd "$root" && npm install --no-audit --no-fund) || return 1
    fi
  fi
  case ":$PATH:" in
    ":$root/node_modules/.bin:"*) ;;
    *) export PATH="$root/node_modules/.bin:$PATH" ;;
  esac

  # Trunk's tools are pinned in Trunk.toml; it need not look for a newer Trunk either.
  export TRUNK_SKIP_VERSION_CHECK=true

  # Chromium and chromedriver: only the tests need them.
  if [ "$browser" = 1 ]; then
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
      log "chromium and chromedriver: present"
    else
      log "installing chromium and chromium-driver"
      pathlab_apt_install chromium chromium-driver || return 1
    fi
  fi

  # Crates, so that Trunk's offline cargo build finds everything.
  (cd "$root" && cargo fetch --quiet) || return 1
  log "ready"
}

# True when node_modules holds exactly the versions package.json pins.
pathlab_node_modules_current() {
  local root="$1"
  [ -d "$root/node_modules" ] || return 1
  (cd "$root" && node -e '
    const want = require("./package.json").devDependencies;
    for (const [name, version] of Object.entries(want)) {
      let have;
      try { have = require(`./node_modules/${name}/package.json`).version; } catch { process.exit(1); }
      if (have !== version) process.exit(1);
    }')
}

pathlab_apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install $*" >&2; return 1; }
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  pathlab_setup "$@"
else
  pathlab_setup "$@" || return
fi
