#!/usr/bin/env bash
# Installs what the web client's build and the end-to-end tests need, and skips
# whatever is already present at the right version:
#   - the wasm32-unknown-unknown Rust target            (rustup)
#   - Trunk, pinned                                      (cargo install --locked)
#   - wasm-bindgen-cli at exactly Cargo.lock's version   (cargo install)
#   - Chromium and its driver                            (apt)
#   - Node.js/npm if missing                             (apt)
#   - e2e/ npm packages from package-lock.json: @playwright/test and binaryen (wasm-opt)
# Nothing downloads a browser or a prebuilt binary: Trunk runs offline and finds
# wasm-bindgen and wasm-opt on PATH (.tools/bin and e2e/node_modules/.bin).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TRUNK_VERSION=0.21.14       # Trunk 0.22 needs a newer rustc than the project's 1.95
TOOLS=$ROOT/.tools          # cargo-installed tools (gitignored)
export PATH="$TOOLS/bin:$ROOT/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=no
apt_install() {
    if [ "$apt_updated" = no ]; then
        as_root apt-get update -qq
        apt_updated=yes
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

# --- Rust target ------------------------------------------------------------
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "skip: rust target wasm32-unknown-unknown is installed"
else
    say "installing rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

# --- Trunk --------------------------------------------------------------------
if [ "$(trunk --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then
    say "skip: trunk $TRUNK_VERSION ($(command -v trunk))"
else
    say "installing trunk $TRUNK_VERSION into $TOOLS (takes a few minutes)"
    cargo install trunk --version "=$TRUNK_VERSION" --locked --root "$TOOLS"
fi

# --- wasm-bindgen-cli, at the library's exact version ---------------------------
bindgen_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$bindgen_version" ]; then
    echo "setup: no wasm-bindgen in Cargo.lock" >&2
    exit 1
fi
if ! grep -q "^wasm_bindgen = \"$bindgen_version\"" Trunk.toml; then
    echo "setup: Trunk.toml's [tools] wasm_bindgen must be \"$bindgen_version\" (the version in Cargo.lock)" >&2
    exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $bindgen_version" ]; then
    say "skip: wasm-bindgen $bindgen_version ($(command -v wasm-bindgen))"
else
    say "installing wasm-bindgen-cli $bindgen_version into $TOOLS (takes a few minutes)"
    # Not --locked: the CLI's own lockfile names a crate version crates.io no longer has.
    cargo install wasm-bindgen-cli --version "=$bindgen_version" --root "$TOOLS"
fi

# --- Chromium (apt) ---------------------------------------------------------------
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    say "skip: $(chromium --version 2>/dev/null | head -n1) and chromedriver are installed"
else
    say "installing chromium and chromium-driver (apt)"
    apt_install chromium chromium-driver
fi

# --- Node.js, npm packages --------------------------------------------------------
if command -v node >/dev/null && command -v npm >/dev/null; then
    say "skip: node $(node --version) and npm $(npm --version) are installed"
else
    say "installing nodejs and npm (apt)"
    apt_install nodejs npm
fi
lock_sum=$(sha256sum e2e/package-lock.json | cut -d' ' -f1)
stamp=e2e/node_modules/.ferry-lock-sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
    say "skip: e2e/node_modules matches e2e/package-lock.json"
else
    say "installing npm packages from e2e/package-lock.json (npm ci)"
    (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    echo "$lock_sum" > "$stamp"
fi
if ! wasm-opt --version | grep -q 'version 132'; then
    echo "setup: wasm-opt on PATH is not binaryen 132: $(command -v wasm-opt)" >&2
    exit 1
fi

say "ready. Put the tools on PATH with:"
say "  export PATH=\"$TOOLS/bin:$ROOT/e2e/node_modules/.bin:\$PATH\""
