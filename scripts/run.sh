#!/usr/bin/env bash
# One-command demo: installs what is missing, builds the web UI (release) and the
# server and bridge, then serves everything at http://127.0.0.1:8080.
# The server shares ./ferry-files (created with sample files on first run).
# On the first run it also creates a demo account with a random password, in an
# accounts file beside the shared folder (never inside it), and prints the
# login with the URL; later runs print it again (FERRY_ACCOUNTS, FERRY_ACCOUNT
# override the file and the name).
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
FILES_PARENT=$(dirname "$(realpath -m "$FILES")")
ACCOUNTS=${FERRY_ACCOUNTS:-$FILES_PARENT/ferry-accounts.toml}
ACCOUNT=${FERRY_ACCOUNT:-demo}
# The demo login, for printing it again on later runs (mode 0600, beside the accounts file).
LOGIN_NOTE=$(dirname "$ACCOUNTS")/ferry-demo-login.txt

./scripts/setup.sh
. scripts/tools.sh
export PATH="$(tools_path "$ROOT"):$PATH"

echo "[run] building the web client (trunk build --release)"
trunk build --release
echo "[run] building ferry-server and ferry-bridge (release)"
cargo build --release -p ferry-server -p ferry-bridge
BIN=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release

if [ ! -e "$ACCOUNTS" ]; then
    PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
    echo "[run] creating the demo account '$ACCOUNT' in $ACCOUNTS"
    printf '%s\n' "$PASSWORD" | "$BIN/ferry-server" accounts add "$ACCOUNT" --accounts "$ACCOUNTS" --password-stdin
    (umask 077 && printf 'account: %s\npassword: %s\n' "$ACCOUNT" "$PASSWORD" > "$LOGIN_NOTE")
fi

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

"$BIN/ferry-server" --root "$FILES" --listen "$SERVER_ADDR" --proxy-listen "$PROXY_ADDR" --accounts "$ACCOUNTS" &
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
if [ -r "$LOGIN_NOTE" ]; then
    sed 's/^/  log in with /' "$LOGIN_NOTE"
else
    echo "  log in with an account of $ACCOUNTS (ferry-server accounts list --accounts $ACCOUNTS)"
fi
echo "  (server on $SERVER_ADDR sharing $FILES, accounts in $ACCOUNTS, bridge via $PROXY_ADDR; Ctrl-C stops both)"
echo

# Stop when either process ends, or on Ctrl-C.
wait -n "${pids[@]}"
