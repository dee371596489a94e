#!/usr/bin/env bash
# The README's to-do API (guide/todo) on doppel's real backend against the same axum app on
# tokio (current-thread, and multi-thread with 2 workers), driven by Debian's wrk over loopback:
# GET /todos (three items, 150 bytes of JSON) on keep-alive connections, in interleaved rounds
# (doppel, tokio-ct, tokio-mt, doppel, ...), then one extra run per server under
# `perf stat -e raw_syscalls:sys_enter` (or `strace -c -f` if perf cannot attach) for syscalls
# per request.
#
#   bash benches/axum/run.sh               # about 2 minutes
#   PAIRS=3 SECS=3 CONNS=20 bash benches/axum/run.sh
#
# Prints, per server, the median requests/s, the median of the per-round ratios against doppel,
# p99 latency, syscalls and server CPU per request. Not part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD

PAIRS=${PAIRS:-5}      # interleaved rounds
SECS=${SECS:-5}        # seconds per wrk run
CONNS=${CONNS:-50}     # connections
BASE_PORT=${BASE_PORT:-3101}
SERVERS=(doppel tokio-ct tokio-mt)
# shellcheck source=../common.sh
source "$HERE/../common.sh"
need_pkg wrk wrk
need_pkg curl curl

echo "building benches/axum (release)" >&2
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-$HERE/target}/release/axum-bench

declare -A PID PORT
i=0
for s in "${SERVERS[@]}"; do
    PORT[$s]=$((BASE_PORT + i))
    i=$((i + 1))
    "$BIN" "$s" "127.0.0.1:${PORT[$s]}" >"$WORK/$s.log" 2>&1 &
    PID[$s]=$!
    PIDS+=("${PID[$s]}")
done
for s in "${SERVERS[@]}"; do
    url="http://127.0.0.1:${PORT[$s]}/todos"
    for _ in $(seq 100); do curl -s -o /dev/null "$url" && break; sleep 0.05; done
    for t in "write the benchmark" "run it" "read the numbers"; do
        curl -s -o /dev/null -H 'content-type: application/json' -d "{\"title\":\"$t\"}" "$url"
    done
    [ "$(curl -s "$url" | grep -o '"id"' | wc -l)" = 3 ] || { echo "$s: no three items" >&2; exit 1; }
done

bench() { # bench PORT OUT: one wrk run, its report in OUT
    wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$1/todos" >"$2"
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
requests() { awk '/requests in/ { print $1 }' "$1"; }
p99() { # p99 REPORT: wrk's 99th percentile, in ms
    awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        m = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v; printf "%.3f", m }' "$1"
}

# Results: one line per run, "server rps p99_ms cpu_us_per_request round".
RESULTS=$WORK/results
: >"$RESULTS"
for round in $(seq "$PAIRS"); do
    for s in "${SERVERS[@]}"; do
        before=$(cpu_ticks "${PID[$s]}")
        bench "${PORT[$s]}" "$WORK/wrk"
        after=$(cpu_ticks "${PID[$s]}")
        n=$(requests "$WORK/wrk")
        cpu=$(awk -v t=$((after - before)) -v us="$TICK_US" -v n="$n" 'BEGIN { printf "%.2f", t * us / n }')
        echo "$s $(rps "$WORK/wrk") $(p99 "$WORK/wrk") $cpu $round" >>"$RESULTS"
    done
    echo "round $round of $PAIRS done" >&2
done

syscalls() { # syscalls SERVER: syscalls per request during one extra run
    local s=$1 out=$WORK/perf.$1
    perf stat -x, -e raw_syscalls:sys_enter -o "$out" -p "${PID[$s]}" 2>/dev/null &
    local tracer=$!
    sleep 1
    if kill -0 "$tracer" 2>/dev/null; then
        bench "${PORT[$s]}" "$WORK/wrk.sys"
        sleep 0.2
        kill -INT "$tracer" 2>/dev/null || true
        wait "$tracer" 2>/dev/null || true
        awk -F, -v n="$(requests "$WORK/wrk.sys")" '/raw_syscalls:sys_enter/ { printf "%.2f", $1 / n }' "$out"
        return
    fi
    strace -f -c -p "${PID[$s]}" -o "$out" 2>/dev/null &
    tracer=$!
    sleep 1
    bench "${PORT[$s]}" "$WORK/wrk.sys"
    kill -INT "$tracer" 2>/dev/null || true
    wait "$tracer" 2>/dev/null || true
    awk -v n="$(requests "$WORK/wrk.sys")" '/total/ { printf "%.2f", $4 / n }' "$out"
}
declare -A SYS
for s in "${SERVERS[@]}"; do SYS[$s]=$(syscalls "$s"); done

col() { awk -v s="$1" -v f="$2" '$1 == s { print $f }' "$RESULTS"; }
ratio() { # ratio SERVER: doppel's req/s over SERVER's, per round
    awk -v s="$1" '{ v[$1, $5] = $2; r[$5] = 1 } END { for (i in r) if (v[s, i] > 0) print v["doppel", i] / v[s, i] }' "$RESULTS"
}

echo
echo "wrk $(wrk --version 2>&1 | awk 'NR == 1 { print $2 }') -t1 -c$CONNS -d${SECS}s GET /todos, $PAIRS interleaved rounds, $(nproc) cores"
echo
echo "| server | req/s | doppel/this (median of per-round ratios) | p99 ms | syscalls/req | server CPU µs/req |"
echo "|---|---|---|---|---|---|"
for s in "${SERVERS[@]}"; do
    printf "| %s | %.0f | %.3f | %s | %s | %s |\n" "$s" "$(col "$s" 2 | median)" "$(ratio "$s" | median)" \
        "$(col "$s" 3 | median)" "${SYS[$s]:-n/a}" "$(col "$s" 4 | median)"
done
echo
echo "req/s, p99 and CPU: medians over the rounds. syscalls/req: perf raw_syscalls:sys_enter on the"
echo "server process during one extra run each. CPU µs/req: the server's user + system time per request."
