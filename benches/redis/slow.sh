#!/usr/bin/env bash
# What a slow sender costs the KV server (examples/kv.rs, doppel's real backend) and Debian's
# redis-server, both single-threaded on loopback: one 7 MB DEL sent whole and sent 4 KiB every
# 2 ms, the server's CPU for each (slow/whole should stay under 2), and a normal client's PING
# p50 beside four slow senders; then both again under valgrind's callgrind, for the exact count of
# instructions each server runs per request, whole and slow (user space only: what the parser
# and the runtime do, without the kernel's cost of each wakeup). The client is
# benches/redis/slow_request.py.
#
#   bash benches/redis/slow.sh        # about 2 minutes; installs redis-server and valgrind if missing
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DOPPEL_PORT=${DOPPEL_PORT:-6390}
REDIS_PORT=${REDIS_PORT:-6391}
# shellcheck source=../common.sh
source "$ROOT/benches/common.sh"
need_pkg redis-server redis-server
need_pkg redis-cli redis-tools
need_pkg valgrind valgrind

if [ -z "${KV_BIN:-}" ]; then # KV_BIN=path: measure that build instead (a commit before)
    echo "building examples/kv.rs (release)" >&2
    cargo build --release --quiet --example kv
    KV_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/kv
fi

wait_up() { # wait_up PORT: until the server answers PING
    for _ in $(seq 200); do
        [ "$(redis-cli -p "$1" PING 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    echo "no server answers on port $1" >&2
    exit 1
}

"$KV_BIN" --addr "127.0.0.1:$DOPPEL_PORT" >"$WORK/kv.log" 2>&1 &
DOPPEL_PID=$!
PIDS+=("$DOPPEL_PID")
redis-server --port "$REDIS_PORT" --save '' --appendonly no --bind 127.0.0.1 \
    --daemonize no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
wait_up "$DOPPEL_PORT"
wait_up "$REDIS_PORT"

python3 "$ROOT/benches/redis/slow_request.py" cpu \
    "doppel:$DOPPEL_PORT:$DOPPEL_PID" "redis:$REDIS_PORT:$REDIS_PID"
kill "$DOPPEL_PID" "$REDIS_PID"

CG_DOPPEL_PORT=$((DOPPEL_PORT + 10)) CG_REDIS_PORT=$((REDIS_PORT + 10))
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.doppel" \
    "$KV_BIN" --addr "127.0.0.1:$CG_DOPPEL_PORT" >"$WORK/cg-kv.log" 2>&1 &
CG_DOPPEL_PID=$!
PIDS+=("$CG_DOPPEL_PID")
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.redis" \
    redis-server --port "$CG_REDIS_PORT" --save '' --appendonly no --bind 127.0.0.1 \
    --daemonize no >"$WORK/cg-redis.log" 2>&1 &
CG_REDIS_PID=$!
PIDS+=("$CG_REDIS_PID")
wait_up "$CG_DOPPEL_PORT"
wait_up "$CG_REDIS_PORT"
echo
python3 "$ROOT/benches/redis/slow_request.py" ir \
    "doppel:$CG_DOPPEL_PORT:$CG_DOPPEL_PID:$WORK/cg.doppel" \
    "redis:$CG_REDIS_PORT:$CG_REDIS_PID:$WORK/cg.redis"
