#!/usr/bin/env bash
# One-command demo: installs what is missing, builds the web UI (release) and the
# server and bridge, then serves everything at http://127.0.0.1:8080.
# The server shares ./ferry-files (created with sample files on first run).
# The bridge reaches the server through its proxy listener (8889), announcing
# each browser's address in a PROXY header so the server logs and limits the
# real client; the CLI on this machine keeps using the main listener (8888).
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SERVER_ADDR=${FERRY_SERVER_ADDR:-127.0.0.1:8888}
PROXY_ADDR=${FERRY_PROXY_ADDR:-127.0.0.1:8889}
BRIDGE_ADDR=${FERRY_BRIDGE_ADDR:-127.0.0.1:8080}
FILES=${FERRY_ROOT:-$ROOT/ferry-files}

./scripts/setup.sh
. scripts/tools.sh
export PATH="$(tools_path "$ROOT"):$PATH"

echo "[run] building the web client (trunk build --release)"
trunk build --release
echo "[run] building ferry-server and ferry-bridge (release)"
cargo build --release -p ferry-server -p ferry-bridge
BIN=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release

pids=()
cleanup() {
    trap - INT TERM EXIT
    if [ ${#pids[@]} -gt 0 ]; then
        echo
        echo "[run] stopping server and bridge"
        kill "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
}
trap cleanup INT TERM EXIT

"$BIN/ferry-server" --root "$FILES" --listen "$SERVER_ADDR" --proxy-listen "$PROXY_ADDR" &
pids+=($!)
"$BIN/ferry-bridge" --listen "$BRIDGE_ADDR" --upstream "$PROXY_ADDR" --proxy-protocol --static "$ROOT/dist" &
pids+=($!)

for _ in $(seq 100); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://$BRIDGE_ADDR/healthz', timeout=1)" 2>/dev/null; then
        break
    fi
    sleep 0.1
done

echo
echo "  Ferry is running: open http://$BRIDGE_ADDR/"
echo "  (server on $SERVER_ADDR sharing $FILES, bridge via $PROXY_ADDR; Ctrl-C stops both)"
echo

# Stop when either process ends, or on Ctrl-C.
wait -n "${pids[@]}"
