# Shared by benches/redis/run.sh and slow.sh (source it after ../common.sh): the KV server's
# release build (or KV_BIN, a build to measure instead, such as a commit before), and starting
# it beside redis-server on loopback, both single-threaded, waiting until each answers PING.

if [ -z "${KV_BIN:-}" ]; then # KV_BIN=path: measure that build instead (a commit before)
    echo "building examples/kv.rs (release)" >&2
    cargo build --release --quiet --example kv
    KV_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/kv
fi

wait_up() { # wait_up PORT: until the server answers PING (10 s at most)
    for _ in $(seq 200); do
        [ "$(redis-cli -p "$1" PING 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    echo "no server answers on port $1" >&2
    exit 1
}

start_servers() { # start_servers DOPPEL_PORT REDIS_PORT [WRAPPER...]: sets DOPPEL_PID, REDIS_PID
    local dport=$1 rport=$2
    shift 2
    local tag=${1:+wrapped}
    "$@" "$KV_BIN" --addr "127.0.0.1:$dport" >"$WORK/kv$tag.log" 2>&1 &
    DOPPEL_PID=$!
    PIDS+=("$DOPPEL_PID")
    "$@" redis-server --port "$rport" --save '' --appendonly no --bind 127.0.0.1 \
        --daemonize no >"$WORK/redis$tag.log" 2>&1 &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    wait_up "$dport"
    wait_up "$rport"
}
