#!/usr/bin/env bash
# The simulator benchmark, in one run: doppel's simulator against madsim and turmoil on one
# workload (an echo server and N client hosts, R round trips of 64 bytes over L ms links), and
# seeds per second for a tiny scenario (1 server, 2 clients, 10 round trips each).
#
#   bash benches/sim-compare.sh            # about 3 minutes once the peers are built
#
# doppel and madsim run in 7 interleaved pairs; the summary gives medians and the median of
# the per-pair ratios. turmoil runs once per point (it is slow: it ticks every simulated ms).
# Needs python3 for the summary. The peers build in their own folders (see sim-peers/README.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
turmoil_target="${TURMOIL_TARGET_DIR:-$here/sim-peers/turmoil/target}"
madsim_target="${MADSIM_TARGET_DIR:-$here/sim-peers/madsim/target-madsim}"

echo "== build doppel, turmoil, madsim (release)" >&2
(cd "$here/sim-echo" && cargo build --release --quiet)
(cd "$here/sim-peers/turmoil" && CARGO_TARGET_DIR="$turmoil_target" cargo build --release --quiet)
(cd "$here/sim-peers/madsim" && RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR="$madsim_target" cargo build --release --quiet)
doppel="$here/sim-echo/target/release/sim-bench-doppel"
madsim="$madsim_target/release/sim-bench-madsim"
turmoil="$turmoil_target/release/sim-bench-turmoil"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
rt="rt --clients 100 --rounds 1000 --latency-ms 1"
for pair in 1 2 3 4 5 6 7; do
    # shellcheck disable=SC2086
    { echo "doppel $("$doppel" $rt)"; echo "madsim $("$madsim" $rt)";
      echo "doppel $("$doppel" seeds --count 2000)"; echo "madsim $("$madsim" seeds --count 2000)"; } >> "$out"
done
{
    echo "doppel $("$doppel" rt --clients 10 --rounds 100000 --latency-ms 1)"
    echo "doppel $("$doppel" rt --clients 1000 --rounds 1000 --latency-ms 1)"
    echo "doppel $("$doppel" rt --clients 100 --rounds 1000 --latency-ms 100)"
    echo "madsim $("$madsim" rt --clients 100 --rounds 1000 --latency-ms 100)"
    # shellcheck disable=SC2086
    echo "turmoil $("$turmoil" $rt)"
    echo "turmoil $("$turmoil" seeds --count 200)"
} >> "$out"
cat "$out"

python3 - "$out" <<'PY'
import re, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def get(tool, kind, **want):
    vals = []
    for r in rows:
        if r[0] != tool or r[1] != kind: continue
        kv = dict(x.split("=", 1) for x in r[2:] if "=" in x)
        if all(kv.get(k) == str(v) for k, v in want.items()):
            vals.append(float(kv["rt_per_sec" if kind == "rt" else "seeds_per_sec"]))
    return vals
d_rt, m_rt = get("doppel", "rt", clients=100, latency_ms=1), get("madsim", "rt", clients=100, latency_ms=1)
d_s, m_s = get("doppel", "seeds", count=2000), get("madsim", "seeds", count=2000)
med = statistics.median
print()
print("| measurement | doppel | madsim | turmoil | doppel / madsim | doppel / turmoil |")
print("|---|---|---|---|---|---|")
t_rt = get("turmoil", "rt", clients=100, latency_ms=1)
print(f"| round trips / wall s, 100 clients x 1,000, 1 ms links | {med(d_rt):,.0f} | {med(m_rt):,.0f} | {t_rt[0]:,.0f} | {med([a/b for a,b in zip(d_rt,m_rt)]):.2f} | {med(d_rt)/t_rt[0]:.0f} |")
t_s = get("turmoil", "seeds", count=200)
print(f"| seeds / wall s, tiny scenario | {med(d_s):,.0f} | {med(m_s):,.0f} | {t_s[0]:,.0f} | {med([a/b for a,b in zip(d_s,m_s)]):.2f} | {med(d_s)/t_s[0]:.1f} |")
d10, d1000 = get("doppel", "rt", clients=10)[0], get("doppel", "rt", clients=1000)[0]
print(f"| doppel: wall per round trip, 1,000 clients vs 10 | | | | {d10/d1000:.2f}x | |")
d100ms, m100ms = get("doppel", "rt", latency_ms=100)[0], get("madsim", "rt", latency_ms=100)[0]
print(f"| round trips / wall s, 100 ms links instead of 1 ms | {d100ms:,.0f} | {m100ms:,.0f} | | {d100ms/m100ms:.2f} | |")
PY
