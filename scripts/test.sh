#!/usr/bin/env bash
# Sets up what is missing and runs every check and test of the project.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32 target"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "protocol crate builds for wasm32"
cargo build -p ferry-proto --target wasm32-unknown-unknown

step "cargo test"
cargo test --workspace

step "black-box conformance test of ferry-server (written from PROTOCOL.md alone)"
cargo build -p ferry-server
python3 tests/conformance/conformance.py target/debug/ferry-server

echo
echo "all checks passed"
