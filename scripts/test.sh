#!/usr/bin/env bash
# Sets up what is missing and runs every check and test of the project.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> [%ds] %s\n' "$SECONDS" "$*"; }

step "toolchain: wasm32 target"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

step "set-up (installs what is missing, skips what is present)"
./scripts/setup.sh --tests
. scripts/tools.sh
export PATH="$(tools_path "$PWD"):$PATH"
export FERRY_KOSOKU_PYTHON="$FERRY_TOOLS/kosoku-$KOSOKU_VERSION/bin/python"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "protocol crate builds for wasm32"
cargo build -p ferry-proto --target wasm32-unknown-unknown

step "cargo test"
# Debug builds keep async state machines large: once, in a fresh clone's run, a
# tokio worker of client/tests/prompt_paths.rs overflowed the default 2 MiB
# stack (it passed on every rerun). Threads get 8 MiB here unless told otherwise.
RUST_MIN_STACK=${RUST_MIN_STACK:-8388608} cargo test --workspace

# The release binaries are built once, here, with the same package set as
# scripts/bench.sh (the soak) builds: another set unifies features
# differently and relinks the server and bridge (about a minute).
release_set="-p ferry-server -p ferry-bridge -p ferry-client -p ferry-bench"

step "hostile clients (release, alone): trickle, churn, oversized input; LIST p99 <= 50 ms, RSS bounded"
cargo build --release $release_set
cargo test --release -p ferry-bench --test hostile -- --ignored --test-threads 1 --nocapture

step "soak (release, 60 s): 1,000 clients over TCP and the bridge, kills, restarts; integrity, leftovers, RSS and descriptors"
./scripts/bench.sh soak

# target/debug/ferry-server is the binary cargo test built for the server's
# integration tests (a `cargo build -p ferry-server` here would build it again
# with other features unified, for nothing).
step "black-box conformance test of ferry-server (written from docs/PROTOCOL.md alone)"
[ -x target/debug/ferry-server ] || cargo build -p ferry-server
python3 tests/conformance/conformance.py target/debug/ferry-server

step "the same conformance test on an object store (a Swift all-in-one on loopback, started here)"
swift_dir=$(mktemp -d)
./scripts/swift.sh start "$swift_dir" --owner $$ >/dev/null
(
    . "$swift_dir/env"
    swift_host=${SWIFT_AUTH_URL#http://}
    swift_host=${swift_host%%/*}
    FERRY_CONFORMANCE_STORE="swift://$swift_host/$SWIFT_CONTAINER/conformance" \
        FERRY_STORE_USER="$SWIFT_USER" FERRY_STORE_KEY="$SWIFT_KEY" \
        python3 tests/conformance/conformance.py target/debug/ferry-server
) || { ./scripts/swift.sh stop "$swift_dir"; exit 1; }
./scripts/swift.sh stop "$swift_dir"
rm -rf "$swift_dir"

# The page's own unit tests (sort, names, listing lines, the console's
# parsing) run natively; the crate is not a default member of the workspace.
step "web: unit tests (native)"
cargo test -p ferry-web

step "web: clippy for wasm32"
cargo clippy -p ferry-web --target wasm32-unknown-unknown -- -D warnings

step "web: release build (trunk, size-optimised, wasm-opt)"
trunk build --release

# Issue 10's budget: 200 KB gzipped (the page is 182,883 bytes).
step "web: .wasm size (budget: 200 KB gzipped)"
wasm=$(ls dist/*_bg.wasm)
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "$wasm: $raw bytes raw, $gz bytes gzipped (gzip -9)"
[ "$gz" -le 200000 ] || { echo "gzipped .wasm is over 200,000 bytes (issue 10's budget)" >&2; exit 1; }

step "e2e: Playwright in headless Chromium against the real server and bridge"
cargo build --release $release_set # built by the hostile step: a no-op
(cd e2e && npx playwright test)

echo
echo "all checks passed in ${SECONDS}s"
