#!/usr/bin/env python3
"""What tracing costs a simulated run: the sim-echo bench at 1,000 clients x 200 round trips,
untraced, with the trace kept in memory, streamed as text, and streamed packed, in alternating
runs; CPU time from getrusage of each child, the median of each mode's ratios paired with the
untraced run of the same round, and the median peak RSS the bench reports.

Usage: python3 benches/sim-echo/trace-cost.py [RUNS]   (RUNS: 1 to 1000, default 11)
"""
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "target", "release", "sim-bench-doppel")
LOAD = ["rt", "--clients", "1000", "--rounds", "200", "--latency-ms", "1"]


def runs_from_argv():
    if len(sys.argv) > 2:
        sys.exit("usage: trace-cost.py [RUNS]")
    if len(sys.argv) == 1:
        return 11
    try:
        n = int(sys.argv[1])
    except ValueError:
        sys.exit(f"trace-cost.py: RUNS {sys.argv[1]!r} is not a whole number")
    if not 1 <= n <= 1000:
        sys.exit(f"trace-cost.py: RUNS {n} is out of range (1 to 1000)")
    return n


def one(extra):
    """CPU seconds and peak RSS (KiB) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([BENCH] + LOAD + extra, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return cpu, int(re.search(r"peak_rss_kib=(\d+)", out).group(1))


def main():
    n = runs_from_argv()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=HERE, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        modes = {
            "untraced": [],
            "in memory (--trace)": ["--trace"],
            "text (--trace-to FILE)": ["--trace-to", os.path.join(tmp, "t.trace")],
            "packed (--trace-to FILE --packed)": ["--trace-to", os.path.join(tmp, "t.pk"), "--packed"],
        }
        cpu = {m: [] for m in modes}
        rss = {m: [] for m in modes}
        for _ in range(n):
            for mode, extra in modes.items():
                c, r = one(extra)
                cpu[mode].append(c)
                rss[mode].append(r)
    print(f"{n} alternating runs of each, 1,000 clients x 200 round trips")
    print("| mode | CPU | ratio | peak RSS |\n|---|---|---|---|")
    for mode in modes:
        ratios = [a / b for a, b in zip(cpu[mode], cpu["untraced"])]
        print(
            f"| {mode} | {statistics.median(cpu[mode]):.3f} s | "
            f"{statistics.median(ratios):.2f}x | {statistics.median(rss[mode]) / 1024:.1f} MB |"
        )


if __name__ == "__main__":
    main()
