//! The KV server against clients nobody here wrote (`redis-cli`, `redis-benchmark`) on the real
//! backend, and against its own checking clients in the simulator: pipelined under every fault
//! class, its deadlines to the virtual nanosecond, bad input, and its twin's lost reply.
//!
//! The real-backend tests need Debian's `redis-tools`; without it they fail and say how to
//! install it (CI installs it in `.ci/run`).

use std::fs::File;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use doppel::net::{TcpListener, TcpStream};
use doppel::sim::{check_seeds, FaultClass, FaultPlan, SimBuilder, SimError};
use doppel::time::Instant;
use doppel_scenarios::kv::{self, Config, Variant, WORKLOAD_CONFIG};
use doppel_scenarios::run;
use doppel_scenarios::workload::{self, Load};

/// Starts the correct KV server on a real runtime of its own, on its own OS thread, bound to
/// 127.0.0.1:0, and returns its port. The thread serves until the test process exits.
#[allow(clippy::disallowed_methods)] // A real-backend test: the simulator never runs this thread.
fn start_server() -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = doppel::real::runtime().expect("a real runtime");
        let served = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let _ = tx.send(listener.local_addr()?.port());
            let store = kv::store::shared();
            kv::serve(listener, store, Config::default(), Variant::Correct).await
        });
        eprintln!("kv server ended: {served:?}");
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the server thread reports its port")
}

/// Runs `tool args` with a wall-clock limit and returns its stdout. Fails the test if the tool
/// is missing (with the install command), exits non-zero, or overruns.
#[allow(clippy::disallowed_methods)] // The wall clock bounds a child process, not the runtime.
fn tool(name: &str, args: &[String], limit: Duration) -> String {
    // One file per call: the tests run on parallel threads, and two of them may run the same
    // tool at once.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out_path = std::env::temp_dir().join(format!(
        "doppel-kv-{}-{call}-{name}.out",
        std::process::id()
    ));
    let out = File::create(&out_path).expect("a temporary file");
    let spawned = Command::new(name)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "{name} is not installed: install it with `apt-get install redis-tools` \
             (CI's .ci/run does)"
        ),
        Err(e) => panic!("{name}: {e}"),
    };
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} {args:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let stderr = std::io::read_to_string(child.stderr.take().expect("piped")).unwrap_or_default();
    assert!(
        status.success(),
        "{name} {args:?}: {status}\nstdout: {stdout}\nstderr: {stderr}"
    );
    stdout
}

/// `redis-cli -p port words...`, its output trimmed.
fn cli(port: u16, words: &str) -> String {
    let mut args = vec!["-p".to_string(), port.to_string()];
    args.extend(words.split(' ').map(str::to_string));
    tool("redis-cli", &args, Duration::from_secs(10))
        .trim_end()
        .to_string()
}

#[test]
fn redis_cli_gets_what_it_sets() {
    let port = start_server();
    assert_eq!(cli(port, "PING"), "PONG");
    assert_eq!(cli(port, "PING hello"), "hello");
    assert_eq!(cli(port, "SET greeting hi"), "OK");
    assert_eq!(cli(port, "GET greeting"), "hi");
    assert_eq!(cli(port, "SET other x"), "OK");
    assert_eq!(cli(port, "DEL greeting other missing"), "2");
    assert_eq!(cli(port, "GET greeting"), "");
    assert_eq!(
        cli(port, "NOSUCH a"),
        "ERR unknown command 'NOSUCH', with args beginning with: 'a'"
    );
}

/// The requests per second `redis-benchmark -q` reported for each test, in order (its progress
/// lines end in `\r`, its results in `\n`).
fn throughputs(out: &str) -> Vec<(String, f64)> {
    let mut found = Vec::new();
    for line in out.split(['\r', '\n']) {
        let Some((test, rest)) = line.trim().split_once(": ") else {
            continue;
        };
        let Some((rps, _)) = rest.split_once(" requests per second") else {
            continue;
        };
        if let Ok(rps) = rps.parse() {
            found.push((test.to_string(), rps));
        }
    }
    found
}

#[test]
fn redis_benchmark_runs_set_and_get_without_errors_plain_and_pipelined() {
    let port = start_server();
    for pipeline in ["1", "16"] {
        let args: Vec<String> = [
            "-p",
            &port.to_string(),
            "-t",
            "set,get",
            "-n",
            "20000",
            "-c",
            "50",
            "-P",
            pipeline,
            "-q",
        ]
        .map(str::to_string)
        .to_vec();
        let out = tool("redis-benchmark", &args, Duration::from_secs(60));
        assert!(
            !out.to_lowercase().contains("error"),
            "-P {pipeline}: errors reported:\n{out}"
        );
        let got = throughputs(&out);
        let tests: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(tests, ["SET", "GET"], "-P {pipeline}:\n{out}");
        assert!(
            got.iter().all(|(_, rps)| *rps > 0.0),
            "-P {pipeline}: {got:?}"
        );
    }
    // The SETs landed: redis-benchmark's key holds a value of its default size, 3 bytes.
    let value = cli(port, "GET key:__rand_int__");
    assert_eq!(value.len(), 3, "{value:?}");
}

/// A load with pipelined batches, many reconnects allowed.
fn pipelined() -> Load {
    Load {
        clients: 3,
        rounds: 20,
        max_size: 2000,
        pipeline: 8,
        reconnects: 100,
        deadline: Some(Duration::from_secs(5)),
    }
}

#[test]
fn pipelined_clients_pass_under_every_fault_class() {
    let kv = workload::find("kv").expect("registered");
    let reports = check_seeds(0..60, |seed| {
        run::sim(kv, 0, &pipelined(), seed).faults(FaultPlan::all(0.05))
    });
    let mut fired = doppel::sim::FaultCounts::default();
    for r in &reports {
        fired.add(&r.faults);
    }
    for class in [
        FaultClass::Reset,
        FaultClass::Stall,
        FaultClass::DeadlineRace,
        FaultClass::ShortRead,
        FaultClass::AcceptAbort,
    ] {
        assert!(fired.get(class) > 0, "{class} never fired: {fired:?}");
    }
}

/// The simulated server's address.
fn server_addr() -> SocketAddr {
    "10.0.0.1:6379".parse().expect("an address")
}

/// A world with the workload's server (its deadlines) and one hand-written client.
fn one_client<F, Fut>(seed: u64, client: F) -> SimBuilder
where
    F: Fn() -> Fut + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>> + 'static,
{
    SimBuilder::new(seed)
        .host("server", "10.0.0.1", || async {
            let listener = TcpListener::bind("0.0.0.0:6379")?;
            let store = kv::store::shared();
            kv::serve(listener, store, WORKLOAD_CONFIG, Variant::Correct).await
        })
        .client("c", "10.0.1.1", client)
        // One write, one segment: what the server reads before it closes is exactly known.
        .split_segments(false)
}

/// Reads until the server closes, returning everything it sent and when it closed.
async fn read_to_close(conn: &TcpStream) -> std::io::Result<(Vec<u8>, Instant)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match conn.read(&mut buf).await? {
            0 => return Ok((got, Instant::now())),
            n => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn deadlines_close_idle_connections_and_slow_requests_after_answering_what_arrived() {
    check_seeds(0..5, |seed| {
        one_client(seed, || async {
            let idle = TcpStream::connect(server_addr()).await?;
            let since = Instant::now();
            let (got, closed) = read_to_close(&idle).await?;
            let waited = closed - since;
            assert!(got.is_empty(), "{got:?}");
            assert!(
                waited >= WORKLOAD_CONFIG.idle_timeout
                    && waited < WORKLOAD_CONFIG.idle_timeout + Duration::from_millis(5),
                "an idle connection closed after {waited:?}"
            );
            // One whole request, then the start of another that never completes.
            let slow = TcpStream::connect(server_addr()).await?;
            slow.write_all(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1")
                .await?;
            let since = Instant::now();
            let (got, closed) = read_to_close(&slow).await?;
            let waited = closed - since;
            assert_eq!(got, b"+PONG\r\n", "the whole request is answered first");
            assert!(
                waited >= WORKLOAD_CONFIG.request_timeout
                    && waited < WORKLOAD_CONFIG.request_timeout + Duration::from_millis(5),
                "a slow request was cut off after {waited:?}"
            );
            Ok(())
        })
    });
}

#[test]
fn bad_input_gets_a_protocol_error_and_a_close_and_inline_commands_work() {
    check_seeds(0..5, |seed| {
        one_client(seed, || async {
            let conn = TcpStream::connect(server_addr()).await?;
            conn.write_all(b"SET k \"a b\"\r\nGET k\r\n*1\r\n+PING\r\nPING\r\n")
                .await?;
            let (got, _) = read_to_close(&conn).await?;
            let want = b"+OK\r\n$3\r\na b\r\n-ERR Protocol error: expected '$', got '+'\r\n";
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want),
                "nothing after the bad request is executed"
            );
            Ok(())
        })
    });
}

#[test]
fn the_deadline_twin_executes_a_write_and_loses_its_reply_under_stalls() {
    let kv = workload::find("kv").expect("registered");
    let twin = workload::variant(kv, "deadline-close").expect("the twin");
    let casual = Load {
        clients: 3,
        rounds: 12,
        max_size: 12,
        pipeline: 1,
        reconnects: 3,
        deadline: Some(Duration::from_secs(5)),
    };
    let plan = FaultPlan::benign(0.05);
    let found = (0..500u64).find_map(|seed| {
        match run::sim(kv, twin, &casual, seed).faults(plan.clone()).run() {
            Err(SimError::Failed(f)) => Some((seed, f)),
            _ => None,
        }
    });
    let (seed, failure) = found.expect("the twin fails within 500 seeds");
    let text = failure.to_string();
    assert!(text.contains("lost its reply"), "seed {seed}: {text}");
    assert!(
        failure.report.faults.get(FaultClass::Stall) > 0,
        "seed {seed}: no stall fired: {text}"
    );
    let correct = run::sim(kv, 0, &casual, seed).faults(plan).run();
    assert!(correct.is_ok(), "the correct server fails seed {seed} too");
}
