#!/usr/bin/env bash
# Builds the release binaries and runs the benchmark harness; pass a scenario
# (direct | list | big-listing | bridge | logins | resume | sessions | soak | ftp | store | all, default all) and its flags.
# `web [--rounds N]` instead times the web client in headless Chromium against a bare
# JavaScript WebSocket client (e2e/bench/speed.bench.js): it always rebuilds the page
# (trunk build --release; a dist/ older than the sources would be measured otherwise)
# and the server and bridge, unless FERRY_BIN_DIR names built ones.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = web ]; then
    shift
    rounds=12
    while [ $# != 0 ]; do
        case $1 in
            --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
            *) echo "web: unknown flag $1 (web [--rounds N])" >&2; exit 2 ;;
        esac
    done
    [[ $rounds =~ ^[1-9][0-9]*$ ]] && [ $((rounds % 2)) = 0 ] ||
        { echo "web: --rounds takes a positive even number (each two rounds have each client first once)" >&2; exit 2; }
    . scripts/tools.sh
    export PATH="$(tools_path "$PWD"):$PATH"
    trunk build --release
    [ -n "${FERRY_BIN_DIR:-}" ] || cargo build --release -p ferry-server -p ferry-bridge
    cd e2e
    [ -d node_modules/@playwright/test ] || npm ci
    FERRY_BENCH_ROUNDS=$rounds exec npx playwright test -c bench.config.js
fi
# The ftp scenario's clients and its reference server (apt), when missing.
ftp=no
for arg in "${@:-all}"; do case $arg in ftp | all) ftp=yes ;; esac; done
if [ "$ftp" = yes ]; then
    missing=()
    for tool in curl lftp; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    [ -x /usr/sbin/vsftpd ] || missing+=(vsftpd)
    if [ ${#missing[@]} != 0 ]; then
        echo "[bench] installing ${missing[*]} (apt) for the ftp scenario"
        as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
    fi
fi
cargo build --release -p ferry-server -p ferry-bridge -p ferry-client -p ferry-bench
exec target/release/ferry-bench "${@:-all}"
