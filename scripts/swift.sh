#!/usr/bin/env bash
# An OpenStack Swift all-in-one on 127.0.0.1 for the tests: the object store
# the server's object-store back-end and the cross-instance tests run on.
# Debian's packages (scripts/setup.sh --tests installs them), nothing else.
#
#   scripts/swift.sh start DIR [--owner PID] [--token-life SECONDS]
#   scripts/swift.sh stop DIR
#
# start builds everything under DIR (created if missing, empty or a stopped
# instance's): one replica, one device per ring, rings built here, storage in
# DIR/srv with mount_check = false, its own memcached (tempauth keeps its
# tokens there), free ports below the ephemeral range picked at start. It
# starts memcached and the account, container, object and proxy servers (one
# process each, workers = 0, logs in DIR/log/), writes their PIDs to
# DIR/pid/, waits until every server
# answers /healthcheck, the proxy /info and tempauth a token, creates the
# container, writes DIR/env and prints it. With --owner PID, a watcher stops
# the lot and removes DIR once process PID is gone (a test binary that dies
# without running its destructors leaves nothing behind). stop stops exactly
# the processes start wrote down (each checked against its start time, so a
# reused PID is left alone) and keeps DIR. --token-life sets how long a
# tempauth token lives (default 86400 s; the tests of token expiry use a few
# seconds).
#
# DIR/env, one KEY=value a line (no quoting needed; `. DIR/env` works):
#   SWIFT_AUTH_URL     http://127.0.0.1:P/auth/v1.0   tempauth v1
#   SWIFT_USER         test:tester                    (account test, .admin)
#   SWIFT_KEY          testing
#   SWIFT_STORAGE_URL  http://127.0.0.1:P/v1/AUTH_test
#   SWIFT_TOKEN        a token valid for SWIFT_TOKEN_LIFE seconds (86400, or --token-life)
#   SWIFT_CONTAINER    ferry                           (created, empty)
#   MEMCACHED_ADDR     127.0.0.1:P                     where tempauth keeps its tokens
#   S3_ENDPOINT        http://127.0.0.1:P              same proxy, s3api, path style
#   S3_REGION          us-east-1                       for SigV4
#   S3_BUCKET          ferry                           the same container
#   S3_ACCESS_KEY      test:tester                     tempauth's user ...
#   S3_SECRET          testing                         ... and key, as S3 credentials
#
# A token: GET $SWIFT_AUTH_URL with X-Auth-User: $SWIFT_USER and
# X-Auth-Key: $SWIFT_KEY -> 200, X-Storage-Url and X-Auth-Token (also
# X-Auth-Token-Expires, seconds left). Send X-Auth-Token on every request;
# an expired or unknown token gets 401 (fetch a new one then). Asking again
# before it expires gives the same token. Tokens live in this instance's
# memcached: they do not survive a stop.
#
# The proxy pipeline is the sample's tempauth one with s3api before tempauth:
#   catch_errors gatekeeper healthcheck proxy-logging cache listing_formats
#   container_sync bulk tempurl ratelimit s3api tempauth copy container-quotas
#   account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server
# so static and dynamic large objects (slo, dlo), server-side COPY (copy),
# bulk delete (bulk) and S3 multipart uploads (s3api on slo; segments go to
# the container "<bucket>+segments", made on first use; parts >= 5 MiB except
# the last) are all there. GET /info lists what is on and its limits.
#
# Swift 2.30 as found here:
# - 5 GiB per object (max_file_size), 1,024-byte object names; a listing page
#   has at most 10,000 entries (limit=20000 is a 412), continue with marker=.
# - an SLO has at most 1,000 segments (max_manifest_segments), each >= 1 byte;
#   an S3 multipart upload at most 1,000 parts (max_upload_part_num); an S3
#   listing page at most 1,000 keys.
# - DELETE ?multipart-manifest=delete on an object that is not an SLO
#   answers 200 with a body saying "400 Bad Request ... Not an SLO manifest"
#   and deletes nothing: HEAD first (X-Static-Large-Object: True).
# - a PUT into a container that does not exist is a 404: create it first.
# - one replica and synchronous container updates: a listing shows an object
#   as soon as its PUT has answered (the timeouts below keep it so on busy
#   cores).
# - curl 7.88's --aws-sigv4 takes the user up to the first colon (the access
#   key has one: give it in a netrc file), signs the query as given (write it
#   sorted and percent-encoded), and sends no x-amz-content-sha256, which
#   s3api requires (add "x-amz-content-sha256: UNSIGNED-PAYLOAD").
set -euo pipefail

die() { echo "swift.sh: $*" >&2; exit 1; }
usage() { die "usage: swift.sh start DIR [--owner PID] [--token-life SECONDS] | swift.sh stop DIR"; }

[ $# -ge 2 ] || usage
action=$1
dir=$2
shift 2
owner=
token_life=86400
case "$action" in
    start)
        while [ $# -gt 0 ]; do
            [ $# -ge 2 ] || usage
            case "$1" in
                --owner) owner=$2 ;;
                --token-life)
                    case "$2" in '' | *[!0-9]*) die "--token-life takes whole seconds" ;; esac
                    token_life=$2 ;;
                *) usage ;;
            esac
            shift 2
        done ;;
    stop) [ $# = 0 ] || usage ;;
    *) usage ;;
esac
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

# The 22nd field of /proc/PID/stat: when the process started, in clock ticks;
# fails if there is no such process or only its zombie (whoever inherited it
# from this script reaps it in its own time).
started_at() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    set -- $stat
    case "$1" in Z | X) return 1 ;; esac
    echo "${20}"
}

# stop_pid FILE: stops the process FILE names ("PID START"), if it is still
# that process: SIGTERM, up to 5 s, then SIGKILL. Removes FILE.
stop_pid() {
    local file=$1 pid start
    read -r pid start < "$file" || true
    rm -f "$file"
    [ -n "${pid:-}" ] || return 0
    [ "$(started_at "$pid")" = "$start" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        [ "$(started_at "$pid")" = "$start" ] || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

stop_all() {
    local file
    [ -d "$dir/pid" ] || return 0
    # The watcher first, unless it is the one stopping the rest.
    if [ -f "$dir/pid/watcher" ] && [ "${FERRY_SWIFT_WATCHER:-}" != "$dir" ]; then
        stop_pid "$dir/pid/watcher"
    fi
    for file in "$dir"/pid/*; do
        [ -f "$file" ] || continue
        [ "$(basename "$file")" = watcher ] && continue
        stop_pid "$file"
    done
    rm -f "$dir/pid/watcher"
}

if [ "$action" = stop ]; then
    stop_all
    exit 0
fi

# --- start ------------------------------------------------------------------------
for program in swift-ring-builder swift-proxy-server swift-object-server \
    swift-container-server swift-account-server memcached curl; do
    command -v "$program" >/dev/null ||
        die "$program is not installed: run ./scripts/setup.sh --tests"
done
if [ -d "$dir/pid" ] && [ -n "$(ls -A "$dir/pid")" ]; then
    die "$dir/pid/ is not empty: stop the instance there first (swift.sh stop $dir)"
fi
# Anything that goes wrong from here on stops what was started.
trap 'status=$?; if [ $status != 0 ]; then stop_all; fi' EXIT

t0=$(date +%s%N)
# Eventlet's green DNS resolver costs each Swift process half a second of
# imports at start; every address here is an IP.
export EVENTLET_NO_GREENDNS=yes
user=$(id -un)
rm -rf "$dir/conf" "$dir/srv" "$dir/log" "$dir/env"
mkdir -p "$dir/conf" "$dir/srv/d1" "$dir/log" "$dir/pid"

# Five free loopback ports, below the ephemeral range: the servers bind them
# seconds later, and meanwhile no outgoing connection or bind to port 0 (the
# tests make thousands) can be handed one of them.
read -r proxy_port account_port container_port object_port memcached_port < <(
    /usr/bin/python3 - <<'EOF'
import random, socket
with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
    low = int(f.read().split()[0])
chosen, sockets = [], []
for attempt in range(1000):
    if len(chosen) == 5:
        break
    # Below the range if it leaves room, else (or after 900 misses) any free port.
    port = random.randrange(10000, low) if low > 10100 and attempt < 900 else 0
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    chosen.append(s.getsockname()[1])
    sockets.append(s)
print(" ".join(map(str, chosen)))
EOF
)

cat > "$dir/conf/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = ferry-tests
swift_hash_path_prefix = ferry-tests

[storage-policy:0]
name = Policy-0
default = yes
EOF

common() {
    cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = $user
swift_dir = $dir/conf
devices = $dir/srv
mount_check = false
log_name = $2
log_level = INFO
EOF
}

# Timeouts well above Swift's (0.5 s to connect, 1-3 s for an update) on
# every hop: on two busy cores a server can take seconds to answer, and
# with one replica a connect that times out is a 503, and an object server's
# container update that times out is left for an object-updater (not run
# here), the object missing from listings meanwhile.
declare -A app_options=(
    [account]=""
    [container]="conn_timeout = 5
node_timeout = 30"
    [object]="conn_timeout = 5
container_update_timeout = 30"
)
for server in account container object; do
    port_var=${server}_port
    {
        common "${!port_var}" "$server"
        cat <<EOF

[pipeline:main]
pipeline = healthcheck $server-server

[app:$server-server]
use = egg:swift#$server
${app_options[$server]}

[filter:healthcheck]
use = egg:swift#healthcheck
EOF
    } > "$dir/conf/$server-server.conf"
done

{
    common "$proxy_port" proxy
    cat <<EOF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats container_sync bulk tempurl ratelimit s3api tempauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
conn_timeout = 5
node_timeout = 60

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
token_life = $token_life

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcached_port
# Swift's default pool is 2 connections to memcached, waited for 1 s: past
# that tempauth cannot look the token up and answers 401 to a valid one
# (hundreds of requests at once do it).
memcache_max_connections = 256
pool_timeout = 10

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:container_sync]
use = egg:swift#container_sync
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:ratelimit]
use = egg:swift#ratelimit
[filter:copy]
use = egg:swift#copy
[filter:container-quotas]
use = egg:swift#container_quotas
[filter:account-quotas]
use = egg:swift#account_quotas
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
[filter:symlink]
use = egg:swift#symlink
EOF
} > "$dir/conf/proxy-server.conf"

# Rings: one device each, one replica, 2^6 partitions, built with Swift's own
# RingBuilder in one Python run (the swift-ring-builder CLI costs a start-up
# per step), while the account, container and object servers start: only the
# proxy reads rings at start.
build_rings() {
    /usr/bin/python3 - "$dir/conf" "$account_port" "$container_port" "$object_port" <<'EOF'
import sys
from swift.common.ring import RingBuilder
conf, ports = sys.argv[1], dict(zip(("account", "container", "object"), sys.argv[2:]))
for name, port in ports.items():
    builder = RingBuilder(6, 1, 0)
    builder.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
                     "device": "d1", "weight": 1.0})
    builder.rebalance()
    builder.save(f"{conf}/{name}.builder")
    builder.get_ring().save(f"{conf}/{name}.ring.gz")
EOF
}

# spawn NAME COMMAND...: runs COMMAND in the background, its output in
# DIR/log/NAME.log, and writes "PID START" to DIR/pid/NAME.
spawn() {
    local name=$1
    shift
    "$@" < /dev/null > "$dir/log/$name.log" 2>&1 &
    local pid=$!
    local start
    start=$(started_at "$pid") || die "$name exited at once: $(cat "$dir/log/$name.log")"
    echo "$pid $start" > "$dir/pid/$name"
}

if [ -n "$owner" ]; then
    spawn watcher bash -c \
        'while kill -0 "$1" 2>/dev/null; do sleep 1; done; FERRY_SWIFT_WATCHER=$3 "$2" stop "$3"; rm -rf "$3"' \
        watcher "$owner" "$script" "$dir"
fi
memcached_user=()
[ "$(id -u)" = 0 ] && memcached_user=(-u root)
spawn memcached memcached -l 127.0.0.1 -p "$memcached_port" -U 0 -m 64 "${memcached_user[@]}"
for server in account container object; do
    spawn "$server" "swift-$server-server" "$dir/conf/$server-server.conf" --verbose
done
build_rings
spawn proxy swift-proxy-server "$dir/conf/proxy-server.conf" --verbose

# ready NAME URL: waits until URL answers 200, or fails with NAME's log. Up to
# 120 s: the four servers' start is Python's imports, about 1 s of CPU each,
# which two cores busy with builds can stretch to 30 s.
ready() {
    local name=$1 url=$2 deadline=$((SECONDS + 120)) pid start
    read -r pid start < "$dir/pid/$name"
    until [ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$url")" = 200 ]; do
        [ "$(started_at "$pid")" = "$start" ] ||
            die "$name exited: $(tail -n 20 "$dir/log/$name.log")"
        [ "$SECONDS" -lt "$deadline" ] ||
            die "$name did not answer $url within 120 s: $(tail -n 20 "$dir/log/$name.log")"
        sleep 0.1
    done
}
ready account "http://127.0.0.1:$account_port/healthcheck"
ready container "http://127.0.0.1:$container_port/healthcheck"
ready object "http://127.0.0.1:$object_port/healthcheck"
ready proxy "http://127.0.0.1:$proxy_port/info"

auth_url=http://127.0.0.1:$proxy_port/auth/v1.0
headers=$(curl -sS -f -m 30 -D - -o /dev/null -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "$auth_url") ||
    die "no token from $auth_url: $(tail -n 20 "$dir/log/proxy.log")"
header() { printf '%s\n' "$headers" | tr -d '\r' | sed -n "s/^$1: //Ip" | head -n 1; }
token=$(header X-Auth-Token)
storage_url=$(header X-Storage-Url)
[ -n "$token" ] && [ -n "$storage_url" ] || die "tempauth's reply lacks a token or storage URL: $headers"

code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -X PUT -H "X-Auth-Token: $token" "$storage_url/ferry")
case "$code" in
    201 | 202) ;;
    *) die "PUT $storage_url/ferry answered $code: $(tail -n 20 "$dir/log/proxy.log")" ;;
esac

cat > "$dir/env.tmp" <<EOF
SWIFT_AUTH_URL=$auth_url
SWIFT_USER=test:tester
SWIFT_KEY=testing
SWIFT_STORAGE_URL=$storage_url
SWIFT_TOKEN=$token
SWIFT_TOKEN_LIFE=$token_life
SWIFT_CONTAINER=ferry
MEMCACHED_ADDR=127.0.0.1:$memcached_port
S3_ENDPOINT=http://127.0.0.1:$proxy_port
S3_REGION=us-east-1
S3_BUCKET=ferry
S3_ACCESS_KEY=test:tester
S3_SECRET=testing
EOF
mv "$dir/env.tmp" "$dir/env"
cat "$dir/env"
echo "swift.sh: ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms ($dir)" >&2
