#!/usr/bin/env bash
# Builds the release binaries and runs the benchmark harness; pass a scenario
# (direct | list | big-listing | bridge | logins | resume | sessions | soak | ftp | store | all, default all) and its flags.
set -euo pipefail
cd "$(dirname "$0")/.."
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
