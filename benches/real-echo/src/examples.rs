//! `examples`: the servers the README shows users, `examples/echo` and `examples/kv`, built from
//! this repository with `cargo build --release --example echo --example kv` and started as a user
//! starts them, measured beside peers in the same run: the bench's tokio current-thread and mio
//! echo servers beside `examples/echo`, redis-server beside `examples/kv`. Per round trip: user
//! instructions (callgrind, at 1 and at 64 connections), syscalls (perf); and RSS per
//! connection held idle after one round trip each.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::load::{Load, Proto, Until, ECHO, KV_GET};
use crate::measure::{rss_kib, tool_works, Options};
use crate::servers::{raise_fd_limit, Impl};
use crate::syscalls::Scope;

/// A server this command measures.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// A binary of the repository's `examples/`, by name.
    Example(&'static str),
    /// One of this bench's own servers (`serve NAME`).
    Bench(Impl),
    /// redis-server, with persistence off.
    Redis,
}

impl Target {
    /// The column name.
    fn name(self) -> &'static str {
        match self {
            Target::Example("echo") => "examples/echo",
            Target::Example(_) => "examples/kv",
            Target::Bench(i) => i.name(),
            Target::Redis => "redis-server",
        }
    }

    /// What its clients speak.
    fn proto(self) -> Proto {
        match self {
            Target::Example("kv") | Target::Redis => KV_GET,
            _ => ECHO,
        }
    }
}

/// The columns: echo servers, then key-value servers.
const TARGETS: [Target; 5] = [
    Target::Example("echo"),
    Target::Bench(Impl::Tokio),
    Target::Bench(Impl::Mio),
    Target::Example("kv"),
    Target::Redis,
];

/// The repository's root (this bench lives in `benches/real-echo`).
fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds the examples as a user does; false (with cargo's output on stderr) if that fails.
fn build_examples() -> bool {
    eprintln!("building: cargo build --release --example echo --example kv");
    Command::new("cargo")
        .args(["build", "--release", "--example", "echo", "--example", "kv"])
        .current_dir(repo_root())
        .status()
        .is_ok_and(|s| s.success())
}

/// A started server process; killed when dropped, stopped with SIGTERM by [`Proc::stop`].
struct Proc {
    child: Child,
    addr: SocketAddr,
}

impl Proc {
    /// Starts `target` (under `wrapper`, such as valgrind, if given) and learns its address.
    fn start(target: Target, wrapper: &[String]) -> Proc {
        let (program, args, port) = match target {
            Target::Example(name) => {
                let bin = repo_root().join("target/release/examples").join(name);
                let args = match name {
                    "kv" => vec!["--addr".into(), "127.0.0.1:0".into()],
                    _ => vec!["127.0.0.1:0".into()],
                };
                (bin, args, None)
            }
            Target::Bench(i) => (
                std::env::current_exe().expect("current exe"),
                vec!["serve".into(), i.name().into()],
                None,
            ),
            Target::Redis => {
                let port = free_port();
                let args = [
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--maxclients",
                    "20000",
                ]
                .map(String::from)
                .to_vec();
                (PathBuf::from("redis-server"), args, Some(port))
            }
        };
        let mut cmd = match wrapper.split_first() {
            Some((w, rest)) => {
                let mut c = Command::new(w);
                c.args(rest).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        cmd.args(&args).stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let port = port.unwrap_or_else(|| read_port(&mut child));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        wait_listening(addr);
        Proc { child, addr }
    }

    /// Sends SIGTERM and waits for the process to end (valgrind writes its profile then).
    fn stop(mut self) {
        // SAFETY: a signal to the child this value owns, which has not been reaped yet.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now (for servers that cannot be told port 0).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// The port from the server's first line: `PORT`, or `... listening on IP:PORT`.
fn read_port(child: &mut Child) -> u16 {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("server's first line");
    let tail = line.trim().rsplit(':').next().unwrap_or_default();
    tail.parse()
        .unwrap_or_else(|_| panic!("no port in the server's first line {line:?}"))
}

/// Waits (at most 30 s) until `addr` accepts a connection.
fn wait_listening(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// User instructions per round trip at `conns` connections: two callgrind runs of 2,000 and
/// 22,000 round trips in all, differenced, so start-up and shutdown cancel out.
fn instructions(target: Target, conns: usize) -> Option<f64> {
    let (short, long) = (2_000u64, 22_000u64);
    let a = callgrind_total(target, conns, short)?;
    let b = callgrind_total(target, conns, long)?;
    Some((b as f64 - a as f64) / (long - short) as f64)
}

/// Callgrind's instruction total for a server run of `total` round trips over `conns`. With
/// `KEEP_CALLGRIND` set in the environment the profile is kept for `callgrind_annotate`.
fn callgrind_total(target: Target, conns: usize, total: u64) -> Option<u64> {
    let out = std::env::temp_dir().join(format!(
        "doppel-examples-cg-{}-{conns}-{total}.out",
        target.name().replace('/', "-")
    ));
    let wrapper = vec![
        "valgrind".to_string(),
        "--tool=callgrind".to_string(),
        format!("--callgrind-out-file={}", out.display()),
    ];
    let server = Proc::start(target, &wrapper);
    {
        let mut load = Load::connect_with(server.addr, conns, target.proto());
        load.run(Until::Rounds(total / conns as u64));
    }
    std::thread::sleep(Duration::from_millis(300));
    server.stop();
    let text = std::fs::read_to_string(&out).ok()?;
    if std::env::var_os("KEEP_CALLGRIND").is_none() {
        let _ = std::fs::remove_file(&out);
    } else {
        eprintln!("kept {}", out.display());
    }
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Syscalls per round trip at `conns` connections, and the main calls' share.
fn syscalls(target: Target, conns: usize, rounds: u64) -> Option<(f64, String)> {
    let server = Proc::start(target, &[]);
    let mut load = Load::connect_with(server.addr, conns, target.proto());
    load.run(Until::Rounds(200));
    let named = &["epoll_wait", "read", "write", "recvfrom", "sendto"];
    let c = crate::syscalls::count(server.child.id(), &mut load, rounds, Scope::Named(named))?;
    Some((c.per_rt(), c.detail(4)))
}

/// Bytes of server RSS per connection, `n` connections held idle after one round trip each.
fn rss_after_one(target: Target, n: usize) -> f64 {
    let server = Proc::start(target, &[]);
    let pid = server.child.id();
    {
        let mut warm = Load::connect_with(server.addr, 64, target.proto());
        warm.run(Until::Rounds(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let before = rss_kib(pid);
    let mut held = Load::connect_with(server.addr, n, target.proto());
    held.run(Until::Rounds(1));
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_kib(pid);
    drop(held);
    (after.saturating_sub(before) * 1024) as f64 / n as f64
}

/// `v` to `prec` decimals, or `n/a`.
fn cell(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.prec$}"))
}

/// Prints one row: a value per target.
fn row(what: &str, vals: &[Option<f64>], prec: usize, how: &str) {
    let cells: Vec<String> = vals.iter().map(|v| cell(*v, prec)).collect();
    println!("| {what} | {} | {how} |", cells.join(" | "));
}

/// Which tools work: perf (if syscalls are wanted), valgrind (if instructions are), and
/// redis-server; a warning for each one wanted and missing.
fn tools(syscalls: bool, instructions: bool) -> (bool, bool, bool) {
    let perf = syscalls && tool_works("perf", &["stat", "-e", "raw_syscalls:sys_enter", "true"]);
    let valgrind = instructions && tool_works("valgrind", &["--version"]);
    let redis = tool_works("redis-server", &["--version"]);
    for (ok, what) in [
        (perf || !syscalls, "perf"),
        (valgrind || !instructions, "valgrind"),
        (redis, "redis-server"),
    ] {
        if !ok {
            eprintln!("warning: {what} is unavailable; its cells are n/a");
        }
    }
    (perf, valgrind, redis)
}

/// Runs every measurement `opts` selects and prints the README table.
pub fn run(opts: &Options) -> ExitCode {
    raise_fd_limit();
    if !build_examples() {
        eprintln!("examples: building the examples failed");
        return ExitCode::FAILURE;
    }
    let on = |m: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == m);
    let (perf, valgrind, redis) = tools(on("syscalls"), on("instructions"));
    let usable = |t: Target| !matches!(t, Target::Redis) || redis;
    let each = |f: &dyn Fn(Target) -> Option<f64>| -> Vec<Option<f64>> {
        TARGETS
            .iter()
            .map(|&t| usable(t).then(|| f(t)).flatten())
            .collect()
    };
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name()).collect();
    let mut rows: Vec<(String, Vec<Option<f64>>, usize, &str)> = Vec::new();
    for conns in [1usize, 64] {
        if valgrind {
            let v = each(&|t| instructions(t, conns));
            rows.push((
                format!("user instructions / round trip, {conns} conn"),
                v,
                0,
                "callgrind, 22,000 minus 2,000 round trips",
            ));
        }
    }
    for (conns, rounds) in [(1usize, 20_000u64), (64, 1_000)] {
        if perf {
            let v = each(&|t| {
                let got = syscalls(t, conns, rounds)?;
                eprintln!("syscalls {} at {conns} conns: {}", t.name(), got.1);
                Some(got.0)
            });
            rows.push((
                format!("syscalls / round trip, {conns} conn"),
                v,
                3,
                "perf `raw_syscalls:sys_enter`, every server thread",
            ));
        }
    }
    if on("rss") {
        let v = each(&|t| Some(rss_after_one(t, 10_000)));
        rows.push((
            "RSS / connection, 10,000 idle after one round trip each (bytes)".into(),
            v,
            0,
            "VmRSS growth from /proc",
        ));
    }
    println!("| measurement | {} | notes |", names.join(" | "));
    println!("|---|{}---|", "---|".repeat(names.len()));
    for (what, vals, prec, how) in &rows {
        row(what, vals, *prec, how);
    }
    ExitCode::SUCCESS
}
