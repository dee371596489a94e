#!/usr/bin/env bash
# Build the turmoil and madsim peer benchmarks in release mode and run the
# shared workload on each, printing one machine-readable line per run.
#
#   bash benches/sim-peers/run.sh
#
# Environment overrides:
#   TURMOIL_TARGET_DIR   target dir for the turmoil crate  (default: turmoil/target)
#   MADSIM_TARGET_DIR    target dir for the madsim crate   (default: madsim/target-madsim)
#   RUN_TIMEOUT          per-run wall limit in seconds     (default: 600)
#   TURMOIL_ROUNDS_100MS rounds for turmoil at 100 ms      (default: 200, see below)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
turmoil_target="${TURMOIL_TARGET_DIR:-$here/turmoil/target}"
madsim_target="${MADSIM_TARGET_DIR:-$here/madsim/target-madsim}"
timeout_s="${RUN_TIMEOUT:-600}"

# turmoil advances simulated time in fixed 1 ms ticks and polls every host on
# every tick, so 100 clients x 1000 rounds at 100 ms one-way latency is
# ~200,000 ticks x 101 hosts: about 6.5 minutes of wall time. 200 rounds
# keeps it near 80 s; rt_per_sec stays comparable because the cost per round
# trip is flat in the round count. The rt line prints the rounds actually used.
turmoil_rounds_100ms="${TURMOIL_ROUNDS_100MS:-200}"

echo "== build turmoil (release)" >&2
(cd "$here/turmoil" && CARGO_TARGET_DIR="$turmoil_target" cargo build --release --quiet)

echo "== build madsim (release, --cfg madsim)" >&2
(cd "$here/madsim" && RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR="$madsim_target" \
    cargo build --release --quiet)

turmoil_bin="$turmoil_target/release/sim-bench-turmoil"
madsim_bin="$madsim_target/release/sim-bench-madsim"

# run TOOL BIN ARGS...: one bounded run, its line prefixed with the tool name.
run() {
    local tool="$1" bin="$2"
    shift 2
    local out
    if out="$(timeout "$timeout_s" "$bin" "$@")"; then
        echo "$tool $out"
    else
        echo "$tool FAILED (exit $?): $*"
    fi
}

for tool in turmoil madsim; do
    if [ "$tool" = turmoil ]; then bin="$turmoil_bin"; else bin="$madsim_bin"; fi
    run "$tool" "$bin" rt --clients 100 --rounds 1000 --latency-ms 1
    run "$tool" "$bin" rt --clients 10 --rounds 1000 --latency-ms 1
    if [ "$tool" = turmoil ]; then
        echo "turmoil note: rt --latency-ms 100 uses --rounds $turmoil_rounds_100ms instead of 1000 (wall-time bound)"
        run "$tool" "$bin" rt --clients 100 --rounds "$turmoil_rounds_100ms" --latency-ms 100
    else
        run "$tool" "$bin" rt --clients 100 --rounds 1000 --latency-ms 100
    fi
    run "$tool" "$bin" seeds --count 200
done
