#!/usr/bin/env bash
# Ferry scaled out on one machine, all on 127.0.0.1 (docs/DEPLOYMENT.md says
# what each part is and how the same goes on several machines):
#
#   browser --> HAProxy :WEB --> ferry-bridge x2 --\
#                                                   HAProxy :INTERNAL+9 --> ferry-server x2 --> Swift
#   ferry   --> HAProxy :FERRY ----------------------------------------/        (one container)
#
#   scripts/cluster.sh start [DIR [--owner PID]]   (default DIR: /tmp/ferry-cluster)
#   scripts/cluster.sh stop [DIR]
#
# start: builds the release binaries (cargo, a no-op when built), starts a
# Swift all-in-one (scripts/swift.sh) in DIR/swift, writes an accounts file
# shared by both servers (DIR/accounts.toml, one account "demo" whose
# password is printed), then two ferry-server on the container "ferry"
# (prefix "files"), two ferry-bridge (serving dist/ when it is built), and
# one HAProxy in TCP mode with three front ends: the web one (to the
# bridges), the native one (to the servers' main listeners) and the one
# the bridges use (to the servers' proxy listeners: each bridge sends a
# PROXY v2 header that HAProxy passes through, so the servers log and
# limit by the browser's address). It keeps every PID in DIR/pid/, logs in
# DIR/log/, the demo password in DIR/demo.password (mode 0600), and prints
# the URL. stop: stops exactly those PIDs (each checked to still be the
# program started) and the Swift, keeps DIR. With --owner PID, a watcher
# runs the stop once process PID is gone (a test runner killed before its
# clean-up leaves nothing running).
#
# Ports: FERRY_WEB_PORT (default 8080), FERRY_PORT (8888), and the internal
# ones from FERRY_INTERNAL_BASE (18800): servers +1 +2 (proxy listeners +11
# +12), bridges +21 +22, HAProxy's front end for the bridges +9.
# FERRY_DIST: the web client the bridges serve (default dist/, when built).
# FERRY_BIN_DIR: take ferry-server and ferry-bridge from there as they are
# (the e2e tests do), instead of building target/release.
# FERRY_DEMO_PASSWORD: the demo account's password (default: random).
# HAProxy's admin socket is DIR/haproxy.sock (`show stat`, `set server`).
set -euo pipefail
caller=$PWD
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }
cd "$(dirname "$0")/.."

die() { echo "cluster.sh: $*" >&2; exit 1; }
action=${1:-}
dir=${2:-/tmp/ferry-cluster}
owner=
usage="usage: cluster.sh start [DIR [--owner PID]] | cluster.sh stop [DIR]"
[ "$action" = start ] || [ "$action" = stop ] || die "$usage"
if [ $# -gt 2 ]; then
    [ "$action" = start ] && [ $# = 4 ] && [ "$3" = --owner ] || die "$usage"
    owner=$4
fi

web_port=${FERRY_WEB_PORT:-8080}
ferry_port=${FERRY_PORT:-8888}
base=${FERRY_INTERNAL_BASE:-18800}
relay_port=$((base + 9))

# A PID file holds "PID PROGRAM"; a PID is stopped only while
# /proc/PID/exe is still that program (or that program's file since
# replaced, as a rebuild does: "PROGRAM (deleted)").
ours() {
    local pid=$1 program=$2 exe
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    [ "$exe" = "$program" ] || [ "$exe" = "$program (deleted)" ]
}

# alive PID: the process runs (its zombie, left for whoever inherited it
# to reap, does not count).
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    case "${stat%% *}" in Z | X) return 1 ;; esac
}

# stop_pids FILE...: SIGTERM to each process still ours, then up to 5 s for
# all of them together, then SIGKILL to what is left. Removes the FILEs.
stop_pids() {
    local file pid program pids=()
    for file in "$@"; do
        [ -e "$file" ] || continue
        if read -r pid program < "$file" && ours "$pid" "$program"; then
            kill "$pid" 2>/dev/null && pids+=("$pid")
        fi
        rm -f "$file"
    done
    for _ in $(seq 50); do
        local left=()
        for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
        pids=("${left[@]}")
        [ ${#pids[@]} = 0 ] && return 0
        sleep 0.1
    done
    kill -9 "${pids[@]}" 2>/dev/null || true
}

if [ "$action" = stop ]; then
    # The watcher first, unless it is the one stopping the rest.
    if [ -n "${FERRY_CLUSTER_WATCHER:-}" ]; then
        rm -f "$dir/pid/watcher.pid"
    else
        stop_pids "$dir/pid/watcher.pid"
    fi
    stop_pids "$dir"/pid/*.pid
    [ -d "$dir/swift" ] && scripts/swift.sh stop "$dir/swift" >/dev/null
    echo "stopped (state kept in $dir)"
    exit 0
fi

[ -e "$dir/pid" ] && [ -n "$(ls -A "$dir/pid" 2>/dev/null)" ] \
    && die "$dir holds a running cluster: scripts/cluster.sh stop $dir first"
mkdir -p "$dir/pid" "$dir/log"
# The watcher has a session of its own: a signal to the caller's process group
# (Ctrl-C) does not end it before the caller.
if [ -n "$owner" ]; then
    kill -0 "$owner" 2>/dev/null || die "no process $owner (--owner)"
    setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; FERRY_CLUSTER_WATCHER=1 "$2" stop "$3"' \
        watcher "$owner" "$PWD/scripts/cluster.sh" "$dir" >"$dir/log/watcher.log" 2>&1 &
    echo "$! $(readlink -f "$BASH")" > "$dir/pid/watcher.pid"
fi
haproxy=$(command -v haproxy || true)
for candidate in /usr/sbin/haproxy /usr/local/sbin/haproxy; do
    [ -z "$haproxy" ] && [ -x "$candidate" ] && haproxy=$candidate
done
[ -n "$haproxy" ] || die "no haproxy: run ./scripts/setup.sh --tests (apt haproxy)"

if [ -n "${FERRY_BIN_DIR:-}" ]; then
    bin_dir=$(absolute "$FERRY_BIN_DIR")
else
    cargo build --release -q -p ferry-server -p ferry-bridge
    bin_dir=$PWD/target/release
fi
server_bin=$bin_dir/ferry-server
bridge_bin=$bin_dir/ferry-bridge
[ -x "$server_bin" ] && [ -x "$bridge_bin" ] || die "no ferry-server or ferry-bridge in $bin_dir"
static=()
if [ -n "${FERRY_DIST:-}" ]; then
    dist=$(absolute "$FERRY_DIST")
    [ -f "$dist/index.html" ] || die "FERRY_DIST=$FERRY_DIST has no index.html"
    static=(--static "$dist")
elif [ -f dist/index.html ]; then
    static=(--static "$PWD/dist")
fi

# start NAME PROGRAM ARGS...: in the background, logging to DIR/log/NAME.log.
start() {
    local name=$1 program=$2
    shift 2
    RUST_LOG=info nohup "$program" "$@" >"$dir/log/$name.log" 2>&1 &
    echo "$! $(readlink -f "$program")" > "$dir/pid/$name.pid"
}

# wait_port PORT NAME: until 127.0.0.1:PORT accepts, at most 60 s.
wait_port() {
    for _ in $(seq 600); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    die "$2 does not listen on 127.0.0.1:$1 (see $dir/log/$2.log)"
}

echo "[cluster] Swift all-in-one in $dir/swift"
scripts/swift.sh start "$dir/swift" >/dev/null
# shellcheck disable=SC1091
. "$dir/swift/env"
swift_hostport=${SWIFT_AUTH_URL#http://}
swift_hostport=${swift_hostport%%/*}
store="swift://$swift_hostport/$SWIFT_CONTAINER/files"
umask 077
printf '%s\n' "$SWIFT_KEY" > "$dir/store.key"

password=${FERRY_DEMO_PASSWORD:-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')}
if [ ! -e "$dir/accounts.toml" ]; then
    printf '%s\n' "$password" | "$server_bin" accounts add demo \
        --accounts "$dir/accounts.toml" --password-stdin >/dev/null
    printf '%s\n' "$password" > "$dir/demo.password"
fi
password=$(cat "$dir/demo.password" 2>/dev/null || echo "(as set before)")

for i in 1 2; do
    echo "[cluster] ferry-server $i on $store"
    start "server$i" "$server_bin" --store "$store" \
        --store-user "$SWIFT_USER" --store-key-file "$dir/store.key" \
        --listen "127.0.0.1:$((base + i))" --proxy-listen "127.0.0.1:$((base + 10 + i))" \
        --accounts "$dir/accounts.toml"
done
for i in 1 2; do wait_port $((base + i)) "server$i"; done

for i in 1 2; do
    echo "[cluster] ferry-bridge $i"
    start "bridge$i" "$bridge_bin" --listen "127.0.0.1:$((base + 20 + i))" \
        --upstream "127.0.0.1:$relay_port" --proxy-protocol \
        --allow-origin "http://127.0.0.1:$web_port" --allow-origin "http://localhost:$web_port" \
        "${static[@]}"
done

cat > "$dir/haproxy.cfg" <<EOF
global
    log stdout format raw local0 info
    stats socket $dir/haproxy.sock mode 600 level admin

defaults
    mode tcp
    log global
    option tcplog
    option redispatch 1
    retries 3
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout check 1s

# Browsers: HTTP and WebSocket, relayed as bytes to either bridge.
frontend web
    bind 127.0.0.1:$web_port
    default_backend bridges
backend bridges
    balance leastconn
    default-server check inter 1s fall 2 rise 1
    server bridge1 127.0.0.1:$((base + 21))
    server bridge2 127.0.0.1:$((base + 22))

# Native clients (ferry, scripts): the servers' main listeners.
frontend ferry
    bind 127.0.0.1:$ferry_port
    default_backend servers
backend servers
    balance leastconn
    default-server check inter 1s fall 2 rise 1
    server server1 127.0.0.1:$((base + 1))
    server server2 127.0.0.1:$((base + 2))

# The bridges' upstream: their PROXY v2 header passes through untouched to
# the servers' proxy listeners (a plain TCP connect is the health check).
frontend relays
    bind 127.0.0.1:$relay_port
    default_backend proxied
backend proxied
    balance leastconn
    default-server check inter 1s fall 2 rise 1
    server server1 127.0.0.1:$((base + 11))
    server server2 127.0.0.1:$((base + 12))
EOF
echo "[cluster] HAProxy on :$web_port (web), :$ferry_port (native), :$relay_port (bridges)"
start haproxy "$haproxy" -db -f "$dir/haproxy.cfg"
for i in 1 2; do wait_port $((base + 20 + i)) "bridge$i"; done
wait_port "$web_port" haproxy
wait_port "$ferry_port" haproxy

echo
echo "Ferry on two servers and two bridges, one Swift container:"
echo "  web client    http://127.0.0.1:$web_port/   (account demo, password $password)"
echo "  native client target/release/ferry, then CONNECT 127.0.0.1 $ferry_port"
echo "  Swift         $SWIFT_STORAGE_URL/$SWIFT_CONTAINER (objects under files/)"
echo "  logs          $dir/log/    stop: scripts/cluster.sh stop $dir"
