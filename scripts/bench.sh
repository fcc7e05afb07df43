#!/usr/bin/env bash
# Builds the release binaries and runs the benchmark harness; pass a scenario
# (direct | list | big-listing | bridge | logins | resume | sessions | all, default all) and its flags.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p ferry-server -p ferry-bridge -p ferry-bench
exec target/release/ferry-bench "${@:-all}"
