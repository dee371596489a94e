#!/usr/bin/env bash
# The KV server (examples/kv.rs, doppel's real backend) against Debian's redis-server, both
# single-threaded on loopback, driven by redis-benchmark: SET and GET, without and with
# pipelining (-P 16), in interleaved pairs (doppel, redis, doppel, redis, ...), then one extra
# run per server and mode under `perf stat -e raw_syscalls:sys_enter` (or `strace -c -f` if
# perf cannot attach) for syscalls per request.
#
#   bash benches/redis/run.sh              # about 3 minutes
#   PAIRS=3 N=50000 NP=500000 bash benches/redis/run.sh
#
# Prints, per test, the median requests/s of each server, the median of the per-pair ratios
# doppel/redis, and each server's syscalls per request. Not part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

PAIRS=${PAIRS:-5}             # interleaved pairs
N=${N:-100000}                # requests per test without pipelining
NP=${NP:-1000000}             # requests per test with -P 16
CLIENTS=${CLIENTS:-50}        # connections
DOPPEL_PORT=${DOPPEL_PORT:-6380}
REDIS_PORT=${REDIS_PORT:-6381}
# shellcheck source=../common.sh
source "$ROOT/benches/common.sh"
need_pkg redis-benchmark redis-tools
need_pkg redis-server redis-server

# shellcheck source=servers.sh
source "$ROOT/benches/redis/servers.sh"
start_servers "$DOPPEL_PORT" "$REDIS_PORT"

bench() { # bench PORT PIPELINE COUNT TEST: prints the requests/s redis-benchmark reports
    redis-benchmark -p "$1" -t "$4" -n "$3" -c "$CLIENTS" -P "$2" -q 2>&1 |
        tr '\r' '\n' | awk '/requests per second/ { print $2 }'
}

# Results: one line per run, "server mode test rps cpu_us_per_request pair".
RESULTS=$WORK/results
: >"$RESULTS"
for pair in $(seq "$PAIRS"); do
    for mode in 1 16; do
        count=$N
        [ "$mode" = 16 ] && count=$NP
        for test in set get; do
            for server in doppel redis; do
                port=$DOPPEL_PORT pid=$DOPPEL_PID
                [ "$server" = redis ] && port=$REDIS_PORT pid=$REDIS_PID
                before=$(cpu_ticks "$pid")
                rps=$(bench "$port" "$mode" "$count" "$test")
                after=$(cpu_ticks "$pid")
                cpu=$(awk -v t=$((after - before)) -v us="$TICK_US" -v n="$count" \
                    'BEGIN { printf "%.3f", t * us / n }')
                echo "$server $mode ${test^^} ${rps:-0} $cpu $pair" >>"$RESULTS"
            done
        done
    done
    echo "pair $pair of $PAIRS done" >&2
done

syscalls() { # syscalls PID PORT PIPELINE COUNT TEST: syscalls per request during one run
    local out=$WORK/perf.$1.$3.$5
    perf stat -x, -e raw_syscalls:sys_enter -o "$out" -p "$1" 2>/dev/null &
    local perf_pid=$!
    sleep 1
    if kill -0 "$perf_pid" 2>/dev/null; then
        bench "$2" "$3" "$4" "$5" >/dev/null
        sleep 0.2
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
        awk -F, -v n="$4" '/raw_syscalls:sys_enter/ { printf "%.3f", $1 / n }' "$out"
        return
    fi
    # perf cannot attach here: strace counts instead.
    strace -f -c -p "$1" -o "$out" 2>/dev/null &
    local strace_pid=$!
    sleep 1
    bench "$2" "$3" "$4" "$5" >/dev/null
    kill -INT "$strace_pid" 2>/dev/null || true
    wait "$strace_pid" 2>/dev/null || true
    awk -v n="$4" '/total/ { printf "%.3f", $4 / n }' "$out"
}

declare -A SYS
for mode in 1 16; do
    count=$N
    [ "$mode" = 16 ] && count=$NP
    for test in set get; do
        SYS[doppel.$mode.$test]=$(syscalls "$DOPPEL_PID" "$DOPPEL_PORT" "$mode" "$count" "$test")
        SYS[redis.$mode.$test]=$(syscalls "$REDIS_PID" "$REDIS_PORT" "$mode" "$count" "$test")
    done
done

col() { # col SERVER MODE TEST FIELD: that column of the matching runs
    awk -v s="$1" -v m="$2" -v t="$3" -v f="$4" '$1 == s && $2 == m && $3 == t { print $f }' "$RESULTS"
}
ratio() { # ratio MODE TEST FIELD: doppel/redis of FIELD in each pair
    awk -v m="$1" -v t="$2" -v f="$3" '
        $2 == m && $3 == t { v[$1, $6] = $f; p[$6] = 1 }
        END { for (i in p) if (v["redis", i] > 0) print v["doppel", i] / v["redis", i] }' "$RESULTS"
}

echo
echo "redis-benchmark -c $CLIENTS -n $N (plain) or $NP (-P 16), $PAIRS interleaved pairs;" \
    "redis-server $(redis-server --version | awk '{ sub("v=", "", $3); print $3 }'), both single-threaded"
echo
echo "| test | doppel req/s | redis req/s | doppel/redis | doppel syscalls/req | redis syscalls/req | doppel CPU µs/req | redis CPU µs/req |"
echo "|---|---|---|---|---|---|---|---|"
for mode in 1 16; do
    for test in SET GET; do
        t=${test,,}
        name=$test
        [ "$mode" = 16 ] && name="$test -P 16"
        printf "| %s | %.0f | %.0f | %.2f | %s | %s | %.3f | %.3f |\n" "$name" \
            "$(col doppel "$mode" "$test" 4 | median)" "$(col redis "$mode" "$test" 4 | median)" \
            "$(ratio "$mode" "$test" 4 | median)" \
            "${SYS[doppel.$mode.$t]:-n/a}" "${SYS[redis.$mode.$t]:-n/a}" \
            "$(col doppel "$mode" "$test" 5 | median)" "$(col redis "$mode" "$test" 5 | median)"
    done
done
echo
echo "req/s and CPU: medians over the pairs; doppel/redis: the median of the per-pair ratios of req/s."
echo "syscalls/req: perf raw_syscalls:sys_enter on the server process during one extra run each."
echo "CPU µs/req: the server's user + system time (/proc, $TICK_US µs ticks) per request."
