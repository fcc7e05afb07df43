#!/usr/bin/env bash
# Installs what is missing, skipping whatever is already present at the right version.
#
#   scripts/setup.sh            what building and running the web client needs:
#                                 the wasm32-unknown-unknown Rust target      (rustup)
#                                 Trunk, pinned                               (cargo install --locked)
#                                 wasm-bindgen-cli at Cargo.lock's version    (cargo install)
#                                 Node.js/npm if missing                      (apt)
#                                 wasm-opt from npm binaryen, pinned          (npm ci, tools/binaryen)
#   scripts/setup.sh --tests    also what the tests need:
#                                 Chromium and its driver                     (apt)
#                                 e2e/ npm packages (@playwright/test)        (npm ci, e2e/)
#                                 curl and lftp, the FTP door's clients       (apt)
#                                 Swift, memcached and HAProxy, the object    (apt)
#                                   store and load balancer of the scale-out
#                                   tests (scripts/swift.sh), their services
#                                   kept from starting
#                                 kosoku, Autobahn's WebSocket cases          (pip, in a venv)
#
# Trunk, wasm-bindgen-cli and wasm-opt go to a per-user cache keyed by version
# (scripts/tools.sh: ~/.cache/ferry unless FERRY_TOOLS says otherwise), so a second
# clone on the same machine builds none of them again. Nothing downloads a browser
# or a prebuilt binary: Trunk runs offline and finds the tools on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/tools.sh

tests=no
case "${1:-}" in
    "") ;;
    --tests) tests=yes ;;
    *) echo "setup: unknown argument '$1' (expected nothing or --tests)" >&2; exit 2 ;;
esac

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
# apt_install_no_services PACKAGE...: apt_install without starting the
# packages' services (Swift's and memcached's would take 8080, 6200-6202 and
# 11211, and the tests start their own on free ports): a policy-rc.d that
# forbids every start while apt runs, unless the machine has one already
# (Docker images do, forbidding the same), and on a systemd machine the
# units the packages enabled disabled again.
apt_install_no_services() {
    local policy=/usr/sbin/policy-rc.d ours=no units
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# scripts/setup.sh: no service starts while it installs\nexit 101\n' |
            as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        ours=yes
        trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt_install "$@"
    if [ "$ours" = yes ]; then
        as_root rm -f "$policy"
        trap - EXIT
    fi
    if [ -d /run/systemd/system ]; then
        units=$(dpkg -L "$@" | sed -n 's|^/lib/systemd/system/\([^/]*\.service\)$|\1|p')
        if [ -n "$units" ]; then
            # shellcheck disable=SC2086 # one unit a word
            as_root systemctl disable --now --quiet $units
        fi
    fi
}
# npm_ci DIR: installs DIR's package-lock.json into DIR/node_modules unless it already matches.
npm_ci() {
    local dir=$1 sum stamp
    sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    stamp=$dir/node_modules/.ferry-lock-sha256
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
        say "skip: $dir/node_modules matches its package-lock.json"
    else
        say "installing npm packages into $dir (npm ci)"
        (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
        echo "$sum" > "$stamp"
    fi
}

# --- Rust target ------------------------------------------------------------
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "skip: rust target wasm32-unknown-unknown is installed"
else
    say "installing rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

# --- Trunk --------------------------------------------------------------------
trunk_dir=$FERRY_TOOLS/trunk-$TRUNK_VERSION
if [ "$("$trunk_dir/bin/trunk" --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then
    say "skip: trunk $TRUNK_VERSION ($trunk_dir)"
else
    say "installing trunk $TRUNK_VERSION into $trunk_dir (takes a few minutes, once per machine)"
    cargo install trunk --version "=$TRUNK_VERSION" --locked --root "$trunk_dir"
fi

# --- wasm-bindgen-cli, at the library's exact version ---------------------------
bindgen=$(bindgen_version "$ROOT")
if [ -z "$bindgen" ]; then
    echo "setup: no wasm-bindgen in Cargo.lock" >&2
    exit 1
fi
if ! grep -q "^wasm_bindgen = \"$bindgen\"" Trunk.toml; then
    echo "setup: Trunk.toml's [tools] wasm_bindgen must be \"$bindgen\" (the version in Cargo.lock)" >&2
    exit 1
fi
bindgen_dir=$FERRY_TOOLS/wasm-bindgen-$bindgen
if [ "$("$bindgen_dir/bin/wasm-bindgen" --version 2>/dev/null)" = "wasm-bindgen $bindgen" ]; then
    say "skip: wasm-bindgen $bindgen ($bindgen_dir)"
else
    say "installing wasm-bindgen-cli $bindgen into $bindgen_dir (takes a few minutes, once per machine)"
    # Not --locked: the CLI's own lockfile names a crate version crates.io no longer has.
    cargo install wasm-bindgen-cli --version "=$bindgen" --root "$bindgen_dir"
fi

# --- Node.js and wasm-opt -------------------------------------------------------
if command -v node >/dev/null && command -v npm >/dev/null; then
    say "skip: node $(node --version) and npm $(npm --version) are installed"
else
    say "installing nodejs and npm (apt)"
    apt_install nodejs npm
fi
binaryen_dir=$FERRY_TOOLS/binaryen-$BINARYEN_VERSION
mkdir -p "$binaryen_dir"
cp tools/binaryen/package.json tools/binaryen/package-lock.json "$binaryen_dir/"
npm_ci "$binaryen_dir"
if ! "$binaryen_dir/node_modules/.bin/wasm-opt" --version | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    echo "setup: $binaryen_dir's wasm-opt is not binaryen $BINARYEN_VERSION" >&2
    exit 1
fi

if [ "$tests" = yes ]; then
    # --- Chromium (apt) -----------------------------------------------------------
    if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
        say "skip: $(chromium --version 2>/dev/null | head -n1) and chromedriver are installed"
    else
        say "installing chromium and chromium-driver (apt)"
        apt_install chromium chromium-driver
    fi
    npm_ci "$ROOT/e2e"

    # --- FTP clients (apt) ----------------------------------------------------------
    missing=()
    for tool in curl lftp; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    if [ ${#missing[@]} = 0 ]; then
        say "skip: curl and lftp are installed"
    else
        say "installing ${missing[*]} (apt)"
        apt_install "${missing[@]}"
    fi

    # --- Swift, memcached, HAProxy (apt) ---------------------------------------------
    # command -> package; swift-ring-builder is in swift, the servers each in their own.
    missing=()
    for pair in swift-ring-builder:swift swift-proxy-server:swift-proxy \
        swift-object-server:swift-object swift-container-server:swift-container \
        swift-account-server:swift-account memcached:memcached haproxy:haproxy; do
        # haproxy is in /usr/sbin, off a user's PATH on Debian.
        command -v "${pair%%:*}" >/dev/null || [ -x "/usr/sbin/${pair%%:*}" ] ||
            missing+=("${pair#*:}")
    done
    if [ ${#missing[@]} = 0 ]; then
        say "skip: swift $(dpkg-query -W -f='${Version}' swift), memcached and haproxy are installed"
    else
        say "installing ${missing[*]} (apt, their services not started)"
        apt_install_no_services "${missing[@]}"
    fi

    # --- kosoku (PyPI), in its own venv under the tool cache -------------------------
    kosoku_dir=$FERRY_TOOLS/kosoku-$KOSOKU_VERSION
    if "$kosoku_dir/bin/python" -c 'import kosoku' 2>/dev/null; then
        say "skip: kosoku $KOSOKU_VERSION ($kosoku_dir)"
    else
        say "installing kosoku $KOSOKU_VERSION into $kosoku_dir (pip, in a venv)"
        rm -rf "$kosoku_dir"
        python3 -m venv "$kosoku_dir"
        "$kosoku_dir/bin/pip" install --quiet "kosoku==$KOSOKU_VERSION"
    fi
fi

say "ready. Put the tools on PATH with:"
say "  export PATH=\"$(tools_path "$ROOT"):\$PATH\""
