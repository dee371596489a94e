//! The measurements: exact syscall counts (perf tracepoints), exact user-space instructions
//! (callgrind), RSS per idle connection, and paired, interleaved throughput ratios.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::load::{connect_std, Load, Until};
use crate::servers::{raise_fd_limit, Impl};
use crate::syscalls::Scope;

/// Command-line options of `all` and `multi`.
#[derive(Debug)]
pub struct Options {
    /// Interleaved pairs per throughput point (medians need at least 10).
    pub pairs: usize,
    /// Seconds per throughput run.
    pub secs: f64,
    /// Run only these measurements (`syscalls`, `instructions`, `rss`, `throughput`; `multi`
    /// knows all but `rss`).
    pub only: Vec<String>,
    /// Connection counts of the throughput points, instead of the command's own (`multi`
    /// only).
    pub conns: Vec<usize>,
}

impl Options {
    /// Parses the arguments after the command (`all` or `multi`).
    pub fn parse(args: &[&str]) -> Option<Options> {
        let mut o = Options {
            pairs: 10,
            secs: 1.0,
            only: Vec::new(),
            conns: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match *a {
                "--pairs" => o.pairs = it.next()?.parse().ok().filter(|&p| p > 0)?,
                "--conns" => o
                    .conns
                    .push(it.next()?.parse().ok().filter(|&c| (1..=10_000).contains(&c))?),
                "--secs" => o.secs = it.next()?.parse().ok().filter(|&s: &f64| s > 0.0)?,
                "--only" => {
                    let m = it.next()?;
                    if !["syscalls", "instructions", "rss", "throughput"].contains(m) {
                        eprintln!(
                            "--only {m:?}: expected syscalls, instructions, rss or throughput"
                        );
                        return None;
                    }
                    o.only.push(m.to_string());
                }
                _ => return None,
            }
        }
        Some(o)
    }
}

/// A server child process, killed when dropped.
pub struct Server {
    /// The process.
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `serve WHICH` (under `wrapper`, such as valgrind, if given) and reads its port.
    pub fn start(which: Impl, wrapper: &[String], extra: &[&str]) -> Server {
        let exe = std::env::current_exe().expect("current exe");
        let mut cmd = match wrapper.split_first() {
            Some((w, rest)) => {
                let mut c = Command::new(w);
                c.args(rest).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        cmd.arg("serve").arg(which.name()).args(extra);
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("server port");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("bad port line {line:?}"));
        Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Syscalls the server makes per round trip (see [`crate::syscalls`]), while the load runs a
/// fixed number of round trips. Returns the total per round trip and the main calls' share.
fn syscalls(which: Impl, conns: usize, rounds: u64) -> Option<(f64, String)> {
    let server = Server::start(which, &[], &[]);
    let mut load = Load::connect(server.addr, conns);
    load.run(Until::Rounds(200));
    let c = crate::syscalls::count(server.pid(), &mut load, rounds, Scope::Every)?;
    Some((c.per_rt(), c.detail(4)))
}

/// User-space instructions the server executes per round trip at one connection: two
/// callgrind runs of different lengths, differenced, so start-up and shutdown cancel out.
pub fn instructions(which: Impl) -> Option<f64> {
    let (short, long) = (2_000u64, 22_000u64);
    let a = callgrind_total(which, short)?;
    let b = callgrind_total(which, long)?;
    Some((b as f64 - a as f64) / (long - short) as f64)
}

/// Callgrind's instruction total for a server run of `rounds` round trips at one connection.
fn callgrind_total(which: Impl, rounds: u64) -> Option<u64> {
    let out = std::env::temp_dir().join(format!("doppel-bench-cg-{}-{rounds}.out", which.name()));
    let wrapper = vec![
        "valgrind".to_string(),
        "--tool=callgrind".to_string(),
        format!("--callgrind-out-file={}", out.display()),
    ];
    let mut server = Server::start(which, &wrapper, &["--exit-after", "1"]);
    {
        let mut load = Load::connect(server.addr, 1);
        load.run(Until::Rounds(rounds));
    }
    let status = server.child.wait().ok()?;
    if !status.success() {
        return None;
    }
    let text = std::fs::read_to_string(&out).ok()?;
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The resident set size of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// How many descriptors `pid` has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Bytes of server RSS per idle connection, with `n` idle connections held.
fn rss_per_idle(which: Impl, n: usize) -> f64 {
    let server = Server::start(which, &[], &[]);
    {
        let mut warm = Load::connect(server.addr, 64);
        warm.run(Until::Rounds(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let (fds0, rss0) = (open_fds(server.pid()), rss_kib(server.pid()));
    let held = connect_std(server.addr, n);
    let deadline = Instant::now() + Duration::from_secs(30);
    while open_fds(server.pid()) < fds0 + n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let rss1 = rss_kib(server.pid());
    drop(held);
    (rss1.saturating_sub(rss0) * 1024) as f64 / n as f64
}

/// The server's user-space CPU time so far, in seconds (from `/proc/PID/stat`). User time
/// only: on loopback the sender's `sendto` runs the whole TCP path in the kernel, which is the
/// same for every server and would hide the runtime's own cost.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    let after_comm = &stat[stat.rfind(')').expect("stat comm") + 2..];
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().expect("utime");
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks as f64 / hz
}

/// The median of `v` (sorts it).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// What one throughput point measured: median round trips/s and median server CPU
/// microseconds per round trip for each server, and the medians of the per-pair ratios.
struct Point {
    /// Median round trips per second: doppel, tokio, mio.
    rate: [f64; 3],
    /// Median server user CPU microseconds per round trip, same order.
    cpu_us: [f64; 3],
    /// Median of the per-pair ratios doppel / tokio (round trips/s).
    vs_tokio: f64,
    /// Median of the per-pair ratios doppel / mio (round trips/s).
    vs_mio: f64,
    /// Median of the per-pair ratios doppel / tokio (CPU per round trip).
    cpu_vs_tokio: f64,
}

/// Paired, interleaved throughput at `conns` connections: per pair each server runs once, in a
/// rotating order, while its CPU time is read from `/proc`.
fn throughput(conns: usize, opts: &Options) -> Point {
    let servers: Vec<Server> = Impl::ALL
        .iter()
        .map(|&i| Server::start(i, &[], &[]))
        .collect();
    let mut loads: Vec<Load> = servers
        .iter()
        .map(|s| Load::connect(s.addr, conns))
        .collect();
    for l in &mut loads {
        l.run(Until::Rounds(50));
    }
    let mut rates = [Vec::new(), Vec::new(), Vec::new()];
    let mut cpus = [Vec::new(), Vec::new(), Vec::new()];
    let (mut vs_tokio, mut vs_mio, mut cpu_vs_tokio) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..opts.pairs {
        let (mut r, mut c) = ([0.0; 3], [0.0; 3]);
        for k in 0..3 {
            let i = (pair + k) % 3;
            let before = cpu_secs(servers[i].pid());
            let (rts, took) = loads[i].run(Until::Time(Duration::from_secs_f64(opts.secs)));
            c[i] = (cpu_secs(servers[i].pid()) - before) * 1e6 / rts.max(1) as f64;
            r[i] = rts as f64 / took.as_secs_f64();
        }
        for i in 0..3 {
            rates[i].push(r[i]);
            cpus[i].push(c[i]);
        }
        vs_tokio.push(r[0] / r[1]);
        vs_mio.push(r[0] / r[2]);
        cpu_vs_tokio.push(c[0] / c[1]);
    }
    Point {
        rate: [0, 1, 2].map(|i| median(&mut rates[i])),
        cpu_us: [0, 1, 2].map(|i| median(&mut cpus[i])),
        vs_tokio: median(&mut vs_tokio),
        vs_mio: median(&mut vs_mio),
        cpu_vs_tokio: median(&mut cpu_vs_tokio),
    }
}

/// Whether `cmd args` runs and succeeds (is the tool installed and usable?).
pub fn tool_works(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Prints one table row.
fn row(name: &str, cells: [String; 3], extra: &str) {
    println!(
        "| {name} | {} | {} | {} | {extra} |",
        cells[0], cells[1], cells[2]
    );
}

/// `v` to `prec` decimals, or `n/a`.
fn fmt_opt(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.prec$}"))
}

/// Runs everything and prints the README table.
pub fn all(opts: &Options) -> ExitCode {
    raise_fd_limit();
    let on = |m: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == m);
    let perf =
        on("syscalls") && tool_works("perf", &["stat", "-e", "syscalls:sys_enter_getpid", "true"]);
    let valgrind = on("instructions") && tool_works("valgrind", &["--version"]);
    if on("syscalls") && !perf {
        eprintln!("warning: perf with syscall tracepoints is unavailable; syscall rows are n/a");
    }
    if on("instructions") && !valgrind {
        eprintln!("warning: valgrind is unavailable; the instruction row is n/a");
    }
    let mut sys = Vec::new();
    for (conns, rounds) in [(1usize, 20_000u64), (64, 1_000)] {
        let vals: Vec<Option<(f64, String)>> = Impl::ALL
            .iter()
            .map(|&i| {
                if perf {
                    syscalls(i, conns, rounds)
                } else {
                    None
                }
            })
            .collect();
        for (i, v) in Impl::ALL.iter().zip(&vals) {
            if let Some((_, detail)) = v {
                eprintln!("syscalls {} at {conns} conns: {detail}", i.name());
            }
        }
        sys.push((conns, vals));
    }
    let ins: Vec<Option<f64>> = Impl::ALL
        .iter()
        .map(|&i| if valgrind { instructions(i) } else { None })
        .collect();
    let rss: Vec<Option<f64>> = Impl::ALL
        .iter()
        .map(|&i| on("rss").then(|| rss_per_idle(i, 10_000)))
        .collect();
    let mut tp = Vec::new();
    for conns in [1usize, 64, 1000] {
        if on("throughput") {
            tp.push((conns, throughput(conns, opts)));
        }
    }
    println!("| measurement | doppel | tokio current-thread | mio | notes |");
    println!("|---|---|---|---|---|");
    for (conns, vals) in &sys {
        let cells = [0, 1, 2].map(|k| fmt_opt(vals[k].as_ref().map(|v| v.0), 3));
        row(
            &format!("syscalls / round trip, {conns} conn"),
            cells,
            "perf `syscalls:sys_enter_*`, server process",
        );
    }
    row(
        "user instructions / round trip, 1 conn",
        [0, 1, 2].map(|k| fmt_opt(ins[k], 0)),
        "callgrind, 22,000 minus 2,000 round trips",
    );
    row(
        "RSS / idle connection (bytes)",
        [0, 1, 2].map(|k| fmt_opt(rss[k], 0)),
        "10,000 idle connections held",
    );
    for (conns, p) in &tp {
        row(
            &format!("round trips/s, {conns} conn (median)"),
            [0, 1, 2].map(|k| format!("{:.0}", p.rate[k])),
            &format!(
                "doppel/tokio {:.2}, doppel/mio {:.2} (medians of {} paired ratios)",
                p.vs_tokio, p.vs_mio, opts.pairs
            ),
        );
        row(
            &format!("server user CPU ns / round trip, {conns} conn (median)"),
            [0, 1, 2].map(|k| format!("{:.0}", p.cpu_us[k] * 1000.0)),
            &format!(
                "doppel/tokio {:.2} (same runs; utime from /proc, 10 ms ticks)",
                p.cpu_vs_tokio
            ),
        );
    }
    ExitCode::SUCCESS
}
