"""A slow sender's cost to a RESP server: one DEL of 1,048,575 keys (about 7 MB) sent whole,
then sent 4 KiB every 2 ms, the server's CPU time (from /proc/PID/schedstat, nanoseconds) for
each; then a normal client's PING latency alone and beside four slow senders.

    python3 benches/redis/slow_request.py cpu NAME:PORT:PID [NAME:PORT:PID ...]
    python3 benches/redis/slow_request.py ir NAME:PORT:PID:CALLGRIND_OUT [...]

`ir` counts the instructions the server (running under `valgrind --tool=callgrind`) executes
for each request, exactly: counters zeroed before it, dumped after (`callgrind_control`).

Run by benches/redis/slow.sh, which starts the servers. Every loop is bounded: a request is
about 1,800 chunks, the PING probe at most 3,000 round trips, for as long as the slow senders send, every socket has a 30 s timeout.
Prints a Markdown table; the slow/whole ratio is the median of the per-pair ratios."""

import glob
import socket
import statistics
import subprocess
import sys
import threading
import time

KEYS = 1_048_575
CHUNK = 4096
GAP = 0.002
PAIRS = 3
PINGS = 3000


def big_del():
    parts = [b"*%d\r\n$3\r\nDEL\r\n" % (KEYS + 1)]
    parts.extend(b"$1\r\nk\r\n" for _ in range(KEYS))
    return b"".join(parts)


def cpu_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_line(s):
    buf = b""
    while not buf.endswith(b"\r\n"):
        got = s.recv(1)
        if not got:
            raise RuntimeError("the server closed the connection")
        buf += got
    return buf


def send_del(port, req, slow):
    s = connect(port)
    if slow:
        for i in range(0, len(req), CHUNK):
            s.sendall(req[i : i + CHUNK])
            time.sleep(GAP)
    else:
        s.sendall(req)
    reply = read_line(s)
    s.close()
    if not reply.startswith(b":"):
        raise RuntimeError(f"DEL answered {reply!r}")


def measured(pid, port, req, slow):
    before = cpu_ns(pid)
    send_del(port, req, slow)
    return (cpu_ns(pid) - before) / 1e9


def ping_p50(port, slow_senders, req):
    threads = [
        threading.Thread(target=send_del, args=(port, req, True)) for _ in range(slow_senders)
    ]
    for t in threads:
        t.start()
    time.sleep(0.2)
    s = connect(port)
    lat = []
    for i in range(PINGS):
        if i >= 100 and not any(t.is_alive() for t in threads):
            break
        t0 = time.perf_counter()
        s.sendall(b"PING\r\n")
        if read_line(s) != b"+PONG\r\n":
            raise RuntimeError("PING was not answered PONG")
        lat.append((time.perf_counter() - t0) * 1000)
        time.sleep(GAP)
    s.close()
    for t in threads:
        t.join(timeout=60)
    return statistics.median(lat)


def instructions(pid, port, req, slow, out):
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    send_del(port, req, slow)
    before = set(glob.glob(out + ".*"))
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    (dump,) = set(glob.glob(out + ".*")) - before
    with open(dump) as f:
        for line in f:
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError(f"no summary in {dump}")


def main_ir(servers):
    req = big_del()
    print(f"DEL of {KEYS:,} keys ({len(req):,} bytes): instructions the server executed "
          f"(callgrind), whole or {CHUNK} bytes every {GAP * 1000:.0f} ms")
    print()
    print("| server | instructions whole | instructions slow | slow/whole |")
    print("|---|---|---|---|")
    for name, port, pid, out in servers:
        w = instructions(int(pid), int(port), req, False, out)
        sl = instructions(int(pid), int(port), req, True, out)
        print(f"| {name} | {w:,} | {sl:,} | {sl / w:.2f} |")


def main():
    mode, servers = sys.argv[1], [a.split(":") for a in sys.argv[2:]]
    if mode == "ir":
        return main_ir(servers)
    req = big_del()
    rows = []
    for name, port, pid in servers:
        port, pid = int(port), int(pid)
        whole, slow, ratios = [], [], []
        for _ in range(PAIRS):
            w = measured(pid, port, req, False)
            sl = measured(pid, port, req, True)
            whole.append(w)
            slow.append(sl)
            ratios.append(sl / w)
        alone = ping_p50(port, 0, req)
        beside = ping_p50(port, 4, req)
        rows.append((name, statistics.median(whole), statistics.median(slow),
                     statistics.median(ratios), alone, beside))
    print(f"DEL of {KEYS:,} keys ({len(req):,} bytes), whole or {CHUNK} bytes every "
          f"{GAP * 1000:.0f} ms; {PAIRS} pairs; PING p50 over the slow senders' whole send")
    print()
    print("| server | CPU whole (s) | CPU slow (s) | slow/whole | PING p50 alone (ms) "
          "| PING p50 beside 4 slow senders (ms) |")
    print("|---|---|---|---|---|---|")
    for name, w, sl, r, a, b in rows:
        print(f"| {name} | {w:.3f} | {sl:.3f} | {r:.2f} | {a:.3f} | {b:.3f} |")


main()
