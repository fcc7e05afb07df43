# Sourced by the other scripts: where the build tools live and how to put them on PATH.
#
# Trunk, wasm-bindgen-cli and wasm-opt take minutes to build or fetch, so they live
# in one per-user cache keyed by version, not in the clone: every clone on the
# machine finds the same binaries, and a version bump installs beside the old one.
# FERRY_TOOLS overrides the cache's place.

TRUNK_VERSION=0.21.14       # Trunk 0.22 needs a newer rustc than the project's 1.95
BINARYEN_VERSION=132.0.0    # must match tools/binaryen/package.json
KOSOKU_VERSION=0.1.0        # Autobahn's WebSocket cases on Python 3 (tests only)

FERRY_TOOLS=${FERRY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry}

# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock.
bindgen_version() {
    awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' "$1/Cargo.lock"
}

# tools_path REPO: prints the PATH entries (colon-joined) for REPO's pinned tools.
tools_path() {
    local bindgen
    bindgen=$(bindgen_version "$1")
    printf '%s:%s:%s' \
        "$FERRY_TOOLS/trunk-$TRUNK_VERSION/bin" \
        "$FERRY_TOOLS/wasm-bindgen-$bindgen/bin" \
        "$FERRY_TOOLS/binaryen-$BINARYEN_VERSION/node_modules/.bin"
}
