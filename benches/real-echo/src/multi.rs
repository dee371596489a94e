//! `multi`: doppel's multi-reactor runtime (`doppel-multi`, a main reactor accepting and two
//! sub-reactors serving) against tokio's multi-thread runtime (`tokio-mt`, two workers), with
//! doppel's single reactor beside them, in one run:
//!
//! - exact syscalls per round trip at 1 and 64 connections (every thread of the server), with
//!   the eventfd writes and futex calls per round trip apart: the cross-thread traffic;
//! - user-space instructions per round trip at 1 connection (callgrind, every thread): the
//!   runtime's own path, which per-round-trip work on another thread would lengthen;
//! - round trips per second and per-round-trip latency (p50, p99) at 1, 64 and 1,000
//!   connections, the three servers interleaved in rotating order within each pair, the ratios
//!   taken per pair and their medians reported;
//! - the targets, each marked met or missed from this run's numbers.
//!
//! One load generator thread shares the machine with the servers, so on two cores no
//! multi-core speed-up can show: the comparison is of what each runtime costs per round trip.

use std::process::ExitCode;
use std::time::Duration;

use crate::latency::Histogram;
use crate::load::{Load, Until};
use crate::measure::{cpu_secs, instructions, median, tool_works, Options, Server};
use crate::servers::{raise_fd_limit, Impl};
use crate::syscalls::{Counts, Scope};

/// The servers compared, in column order: doppel-multi, tokio-mt, doppel.
const SERVERS: [Impl; 3] = Impl::MULTI;
/// The doppel-multi column.
const DM: usize = 0;
/// The tokio-mt column.
const TM: usize = 1;
/// The doppel (single reactor) column.
const D: usize = 2;

/// Round trips per connection while perf counts, at 1 and at 64 connections.
const SYSCALL_RUNS: [(usize, u64); 2] = [(1, 20_000), (64, 1_000)];

/// The calls counted by name (every other call lands in `other`, from perf's exact total).
const CALLS: &[&str] = &[
    "read",
    "recvfrom",
    "sendto",
    "write",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_ctl",
    "futex",
    "sched_yield",
    "accept4",
    "close",
    "readv",
    "writev",
    "recvmsg",
    "sendmsg",
];

/// The connection counts of the throughput and latency points.
const CONNS: [usize; 3] = [1, 64, 1000];

/// What one throughput point measured.
struct Point {
    /// Connections.
    conns: usize,
    /// Median round trips per second, per server.
    rate: [f64; 3],
    /// Median server user CPU nanoseconds per round trip, per server.
    cpu_ns: [f64; 3],
    /// Latency over every counted round trip of every pair, per server.
    lat: [Histogram; 3],
    /// Median context switches per round trip of the server's threads, per server.
    switches: [f64; 3],
    /// Median involuntary context switches (preemptions) of the load generator per round trip,
    /// while it drove each server.
    load_preempted: [f64; 3],
    /// Medians of the per-pair ratios: doppel-multi / tokio-mt and doppel-multi / doppel.
    vs_tokio_mt: f64,
    /// See `vs_tokio_mt`.
    vs_doppel: f64,
    /// Median of the per-pair ratios of p99 latency, doppel-multi / tokio-mt.
    p99_vs_tokio_mt: f64,
}

/// A `name:  N` field of a `/proc/.../status` file.
fn status_field(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Context switches of every thread of `pid` so far, voluntary and not.
fn switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .map(|s| {
            status_field(&s, "voluntary_ctxt_switches")
                + status_field(&s, "nonvoluntary_ctxt_switches")
        })
        .sum()
}

/// Times the load generator's thread (this one) was preempted so far.
fn load_preemptions() -> u64 {
    std::fs::read_to_string("/proc/thread-self/status")
        .map_or(0, |s| status_field(&s, "nonvoluntary_ctxt_switches"))
}

/// What one server's run within a pair measured.
struct Run {
    /// Round trips per second.
    rate: f64,
    /// Server user CPU nanoseconds per round trip.
    cpu_ns: f64,
    /// Server context switches per round trip.
    switches: f64,
    /// Load generator preemptions per round trip.
    load_preempted: f64,
    /// Round-trip latencies.
    lat: Histogram,
}

/// One server's run within a pair.
fn one_run(server: &Server, load: &mut Load, secs: f64) -> Run {
    let mut lat = Histogram::default();
    let pid = server.pid();
    let (cpu0, sw0, pre0) = (cpu_secs(pid), switches(pid), load_preemptions());
    let (rts, took) = load.run_timed(Until::Time(Duration::from_secs_f64(secs)), &mut lat);
    let per_rt = |d: f64| d / rts.max(1) as f64;
    Run {
        rate: rts as f64 / took.as_secs_f64(),
        cpu_ns: per_rt((cpu_secs(pid) - cpu0) * 1e9),
        switches: per_rt(switches(pid).saturating_sub(sw0) as f64),
        load_preempted: per_rt(load_preemptions().saturating_sub(pre0) as f64),
        lat,
    }
}

/// Paired, interleaved throughput and latency at `conns` connections: per pair each server runs
/// once, in rotating order, so drift in the machine's load falls on all three alike.
fn point(conns: usize, opts: &Options) -> Point {
    let servers = SERVERS.map(|i| Server::start(i, &[], &[]));
    let mut loads: Vec<Load> = servers
        .iter()
        .map(|s| Load::connect(s.addr, conns))
        .collect();
    for l in &mut loads {
        l.run(Until::Rounds(50));
    }
    let mut runs: [Vec<Run>; 3] = Default::default();
    let mut lat: [Histogram; 3] = Default::default();
    let (mut vs_tm, mut vs_d, mut p99_vs_tm) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..opts.pairs {
        let mut r = [0.0; 3];
        let mut p99 = [0.0; 3];
        for k in 0..3 {
            let i = (pair + k) % 3;
            let run = one_run(&servers[i], &mut loads[i], opts.secs);
            r[i] = run.rate;
            p99[i] = run.lat.quantile_us(0.99).unwrap_or(f64::NAN);
            lat[i].merge(&run.lat);
            runs[i].push(run);
        }
        vs_tm.push(r[DM] / r[TM]);
        vs_d.push(r[DM] / r[D]);
        p99_vs_tm.push(p99[DM] / p99[TM]);
        eprintln!(
            "{conns} conn, pair {pair}: RT/s {:.0} / {:.0} / {:.0}, p99 µs {:.1} / {:.1} / {:.1}",
            r[0], r[1], r[2], p99[0], p99[1], p99[2]
        );
    }
    let med = |f: fn(&Run) -> f64| {
        [0, 1, 2].map(|i| median(&mut runs[i].iter().map(f).collect::<Vec<_>>()))
    };
    Point {
        conns,
        rate: med(|r| r.rate),
        cpu_ns: med(|r| r.cpu_ns),
        switches: med(|r| r.switches),
        load_preempted: med(|r| r.load_preempted),
        lat,
        vs_tokio_mt: median(&mut vs_tm),
        vs_doppel: median(&mut vs_d),
        p99_vs_tokio_mt: median(&mut p99_vs_tm),
    }
}

/// Syscall counts for `which` at `conns` connections, `rounds` round trips each.
fn syscalls(which: Impl, conns: usize, rounds: u64) -> Option<Counts> {
    let server = Server::start(which, &[], &[]);
    let mut load = Load::connect(server.addr, conns);
    load.run(Until::Rounds(200));
    let c = crate::syscalls::count(server.pid(), &mut load, rounds, Scope::Named(CALLS))?;
    eprintln!(
        "syscalls {} at {conns} conns: {}",
        which.name(),
        c.detail(6)
    );
    Some(c)
}

/// Prints one table row.
fn row(name: &str, cells: [String; 3], notes: &str) {
    println!(
        "| {name} | {} | {} | {} | {notes} |",
        cells[0], cells[1], cells[2]
    );
}

/// `f(counts)` to three decimals per server, or `n/a` where perf failed.
fn sys_cells(c: &[Option<Counts>; 3], f: impl Fn(&Counts) -> Option<f64>) -> [String; 3] {
    [0, 1, 2].map(|k| {
        c[k].as_ref()
            .and_then(&f)
            .map_or("n/a".into(), |v| format!("{v:.3}"))
    })
}

/// Futex calls in all.
fn futex_calls(c: &Counts) -> u64 {
    c.by_call.iter().find(|e| e.0 == "futex").map_or(0, |e| e.1)
}

/// Prints the syscall rows of one connection count.
fn print_syscalls(conns: usize, c: &[Option<Counts>; 3]) {
    let rts = c.iter().flatten().map(|c| c.rts).max().unwrap_or(0);
    let src = format!("perf `raw_syscalls:sys_enter`, every server thread, {rts} round trips");
    row(
        &format!("syscalls / round trip, {conns} conn"),
        sys_cells(c, |c| Some(c.per_rt())),
        &src,
    );
    let efd = |c: &Counts| c.eventfd_writes.map(|w| w as f64 / c.rts.max(1) as f64);
    let raw = |f: &dyn Fn(&Counts) -> Option<u64>| {
        let v = c.iter().map(|c| {
            c.as_ref()
                .and_then(f)
                .map_or("n/a".into(), |n| n.to_string())
        });
        v.collect::<Vec<String>>().join(" / ")
    };
    row(
        &format!("eventfd writes / round trip, {conns} conn"),
        sys_cells(c, efd),
        &format!(
            "`write` filtered on the process's eventfds (a wake across threads); in all: {}",
            raw(&|c| c.eventfd_writes)
        ),
    );
    row(
        &format!("futex calls / round trip, {conns} conn"),
        sys_cells(c, |c| Some(c.call_per_rt("futex"))),
        &format!(
            "a thread parked or woken; in all: {}",
            raw(&|c| Some(futex_calls(c)))
        ),
    );
}

/// Prints the throughput, latency and CPU rows of one point.
fn print_point(p: &Point, pairs: usize) {
    let n = p.conns;
    row(
        &format!("round trips/s, {n} conn (median)"),
        p.rate.map(|r| format!("{r:.0}")),
        &format!(
            "doppel-multi/tokio-mt {:.2}, doppel-multi/doppel {:.2} (medians of {pairs} paired ratios)",
            p.vs_tokio_mt, p.vs_doppel
        ),
    );
    let q = |h: &Histogram, q: f64| h.quantile_us(q).map_or("n/a".into(), |v| format!("{v:.1}"));
    row(
        &format!("latency p50 / p99 µs, {n} conn"),
        [0, 1, 2].map(|k| format!("{} / {}", q(&p.lat[k], 0.5), q(&p.lat[k], 0.99))),
        &format!(
            "all pairs' round trips ({} for doppel-multi); p99 doppel-multi/tokio-mt {:.2} (median of paired ratios)",
            p.lat[DM].len(),
            p.p99_vs_tokio_mt
        ),
    );
    row(
        &format!("server user CPU ns / round trip, {n} conn (median)"),
        p.cpu_ns.map(|c| format!("{c:.0}")),
        "all threads; utime from /proc, 10 ms ticks",
    );
    row(
        &format!("server context switches / round trip, {n} conn (median)"),
        p.switches.map(|c| format!("{c:.3}")),
        &format!(
            "all threads, from /proc; the load generator was preempted {} times per round trip",
            p.load_preempted.map(|c| format!("{c:.3}")).join(" / ")
        ),
    );
}

/// Prints each target of issue 6, item 5 as met or missed, from this run's numbers.
fn print_targets(points: &[Point], sys: &[(usize, [Option<Counts>; 3])]) {
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    println!();
    for p in points.iter().filter(|p| p.conns >= 64) {
        let p99 = [DM, TM].map(|k| p.lat[k].quantile_us(0.99).unwrap_or(f64::NAN));
        // Both judged as the throughput is: by the median of the per-pair ratios.
        let ok = p.vs_tokio_mt >= 1.0 && p.p99_vs_tokio_mt < 1.0;
        println!(
            "target >= 1.0x tokio-mt with lower p99 at {} conn: {} (throughput {:.3}x, p99 {:.3}x; pooled p99 {:.1} vs {:.1} µs)",
            p.conns,
            mark(ok),
            p.vs_tokio_mt,
            p.p99_vs_tokio_mt,
            p99[0],
            p99[1]
        );
    }
    for p in points {
        println!(
            "target >= 0.9x doppel single reactor at {} conn: {} ({:.3}x)",
            p.conns,
            mark(p.vs_doppel >= 0.9),
            p.vs_doppel
        );
    }
    let one = sys.iter().find(|s| s.0 == 1).and_then(|s| s.1[DM].as_ref());
    if let Some(c) = one {
        let efd = c.eventfd_writes.unwrap_or(0);
        let futex = futex_calls(c);
        // "3.000" as printed: within half a thousandth.
        let ok = (c.per_rt() - 3.0).abs() < 0.0005 && efd == 0 && futex == 0;
        println!(
            "target 3.000 syscalls/RT at 1 conn, no eventfd write or futex per RT: {} ({:.3}/RT; {efd} eventfd writes and {futex} futex calls in {} RTs)",
            mark(ok),
            c.per_rt(),
            c.rts
        );
    }
}

/// The machine's load averages (1, 5 and 15 minutes), as `/proc/loadavg` has them.
fn loadavg() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Runs the comparison and prints its table and the targets.
pub fn run(opts: &Options) -> ExitCode {
    raise_fd_limit();
    let load_before = loadavg();
    let on = |m: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == m);
    let perf =
        on("syscalls") && tool_works("perf", &["stat", "-e", "syscalls:sys_enter_getpid", "true"]);
    if on("syscalls") && !perf {
        eprintln!("warning: perf with syscall tracepoints is unavailable; syscall rows are n/a");
    }
    let valgrind = on("instructions") && tool_works("valgrind", &["--version"]);
    if on("instructions") && !valgrind {
        eprintln!("warning: valgrind is unavailable; the instruction row is n/a");
    }
    let mut sys = Vec::new();
    if on("syscalls") {
        for (conns, rounds) in SYSCALL_RUNS {
            let c = SERVERS.map(|i| {
                if perf {
                    syscalls(i, conns, rounds)
                } else {
                    None
                }
            });
            sys.push((conns, c));
        }
    }
    let ins =
        on("instructions").then(|| SERVERS.map(|i| valgrind.then(|| instructions(i)).flatten()));
    let mut points = Vec::new();
    if on("throughput") {
        let conns = if opts.conns.is_empty() {
            CONNS.to_vec()
        } else {
            opts.conns.clone()
        };
        for conns in conns {
            let p = point(conns, opts);
            eprintln!("throughput at {conns} conns done");
            points.push(p);
        }
    }
    println!("| measurement | doppel-multi | tokio-mt | doppel | notes |");
    println!("|---|---|---|---|---|");
    for (conns, c) in &sys {
        print_syscalls(*conns, c);
    }
    if let Some(ins) = ins {
        row(
            "user instructions / round trip, 1 conn",
            ins.map(|v| v.map_or("n/a".into(), |v| format!("{v:.0}"))),
            "callgrind, every thread, 22,000 minus 2,000 round trips",
        );
    }
    for p in &points {
        print_point(p, opts.pairs);
    }
    print_targets(&points, &sys);
    println!("load average before / after: {load_before} / {}", loadavg());
    ExitCode::SUCCESS
}
