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

# shellcheck source=servers.sh
source "$ROOT/benches/redis/servers.sh"
start_servers "$DOPPEL_PORT" "$REDIS_PORT"
python3 "$ROOT/benches/redis/slow_request.py" cpu \
    "doppel:$DOPPEL_PORT:$DOPPEL_PID" "redis:$REDIS_PORT:$REDIS_PID"
kill "$DOPPEL_PID" "$REDIS_PID"

# The same two again under callgrind, each writing its counts where `ir` reads them.
CG_DOPPEL_PORT=$((DOPPEL_PORT + 10)) CG_REDIS_PORT=$((REDIS_PORT + 10))
start_servers "$CG_DOPPEL_PORT" "$CG_REDIS_PORT" \
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.%p"
echo
python3 "$ROOT/benches/redis/slow_request.py" ir \
    "doppel:$CG_DOPPEL_PORT:$DOPPEL_PID:$WORK/cg.$DOPPEL_PID" \
    "redis:$CG_REDIS_PORT:$REDIS_PID:$WORK/cg.$REDIS_PID"
