//! Traces: user and runtime events in one ordered trace, stable text and JSON lines, headers,
//! determinism checks that catch every planted source of nondeterminism, failure reports with
//! their trace files, and real runs whose per-connection sequences match simulated ones.

mod common;

use std::io;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use doppel::net::{TcpListener, TcpStream};
use doppel::sim::{check_seeds, FaultPlan, SimBuilder, SimError};
use doppel::trace::{capture, Format, Header, Trace};

/// One host that serves and uses echo itself, binding 127.0.0.1 so the same body runs on the
/// real backend: three round trips of four bytes, then close.
async fn ping_pong() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = doppel::spawn(async move {
        let (conn, _) = listener.accept().await?;
        doppel_scenarios::echo::handle(conn).await
    });
    let client = TcpStream::connect(addr).await?;
    let mut buf = [0u8; 4];
    for _ in 0..3 {
        client.write_all(b"ping").await?;
        let mut got = 0;
        while got < 4 {
            got += client.read(&mut buf[got..]).await?;
        }
    }
    client.close()?;
    server.await.map_err(io::Error::other)??;
    Ok(())
}

#[test]
fn user_spans_and_events_land_in_order_with_the_runtime_events() {
    let report = SimBuilder::new(1)
        .trace(true)
        .client("c", "10.0.0.1", || async {
            let span = tracing::info_span!("session", user = 7);
            let _entered = span.enter();
            tracing::info!(target: "app", step = 1, "before sleeping");
            doppel::time::sleep(Duration::from_millis(5)).await;
            tracing::warn!(target: "app", "after sleeping");
            Ok(())
        })
        .check()
        .unwrap();
    let lines = report.trace.unwrap().lines();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{}", lines.join("\n")))
    };
    let enter = at("enter session user=7");
    let before = at("app \"before sleeping\" step=1");
    let sleep = at("time sleep until=0.005000000");
    let after = at("app \"after sleeping\"");
    assert!(
        enter < before && before < sleep && sleep < after,
        "{lines:#?}"
    );
    assert!(
        lines[before].starts_with("0.000000000 c#0 t1 "),
        "{}",
        lines[before]
    );
    assert!(
        lines[after].starts_with("0.005000000 c#0 t1 "),
        "{}",
        lines[after]
    );
}

#[test]
fn traces_render_as_stable_text_and_json_lines_with_a_header() {
    let build = || {
        SimBuilder::new(9)
            .faults(FaultPlan::all(0.05))
            .trace(true)
            .client("h", "10.0.0.1", ping_pong)
    };
    let (a, b) = (build().check().unwrap(), build().check().unwrap());
    let (ta, tb) = (a.trace.unwrap(), b.trace.unwrap());
    assert_eq!(ta.body(), tb.body(), "one seed, one trace, byte for byte");
    let text = ta.render(Format::Text);
    let header = text.lines().next().unwrap();
    for part in [
        "backend=sim",
        "seed=9",
        "faults=spurious=0.05",
        "doppel=0.1.0",
        "commit=",
        "rustc=\"rustc ",
    ] {
        assert!(header.contains(part), "{header}");
    }
    let json = ta.render(Format::Json);
    let mut lines = json.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("{\"header\":{\"backend\":\"sim\",\"seed\":9"));
    for l in lines {
        assert!(l.starts_with("{\"time_ns\":") && l.ends_with("}}"), "{l}");
        assert!(
            l.contains("\"target\":") && l.contains("\"fields\":{"),
            "{l}"
        );
    }
    assert_eq!(json.lines().count(), ta.len() + 1);
}

/// Runs a world whose client does `leak` and reports the divergence `check` finds.
fn divergence_of(name: &str, leak: fn() -> u64) -> String {
    let err = SimBuilder::new(5)
        .client("c", "10.0.0.1", move || async move {
            for i in 0..20u64 {
                let v = leak();
                tracing::info!(target: "planted", i, v, "sample");
                doppel::time::sleep(Duration::from_micros(1 + v % 97)).await;
            }
            Ok(())
        })
        .check()
        .expect_err(name);
    let SimError::Nondeterministic(n) = err else {
        panic!("{name}: {err}")
    };
    let d = n
        .divergence
        .unwrap_or_else(|| panic!("{name}: no divergence located"));
    assert_ne!(d.first, d.second, "{name}");
    format!("{name}: event {}: {:?} vs {:?}", d.index, d.first, d.second)
}

#[test]
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // Planted on purpose.
fn check_determinism_catches_every_planted_source_of_nondeterminism() {
    fn instant() -> u64 {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_nanos() as u64
    }
    fn system_time() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    }
    fn hash_map_order() -> u64 {
        let m: std::collections::HashMap<u64, ()> = (0..16).map(|k| (k, ())).collect();
        m.keys()
            .fold(0u64, |acc, k| acc.wrapping_mul(17).wrapping_add(*k))
    }
    fn os_randomness() -> u64 {
        let mut b = [0u8; 8];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut b)
            .unwrap();
        u64::from_le_bytes(b)
    }
    fn thread_race() -> u64 {
        // A fresh counter per call: what the run sees depends only on how the OS schedules
        // the thread against the simulation, never on earlier runs.
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::sync::Arc;
        let (count, stop) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (c, s) = (count.clone(), stop.clone());
        let t = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        });
        // Wait until the thread runs (on a loaded 2-core machine it may not start within a
        // fixed spin, and a thread that never ran leaks nothing), then race it.
        while count.load(Ordering::Relaxed) == 0 {
            std::thread::yield_now();
        }
        for _ in 0..20_000 {
            std::hint::spin_loop();
        }
        let seen = count.load(Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        t.join().unwrap();
        seen
    }
    for (name, leak) in [
        ("Instant::now", instant as fn() -> u64),
        ("SystemTime::now", system_time),
        ("HashMap iteration", hash_map_order),
        ("OS randomness", os_randomness),
        ("thread::spawn", thread_race),
    ] {
        println!("{}", divergence_of(name, leak));
    }
}

#[test]
fn a_failing_seed_prints_its_last_events_and_writes_the_whole_trace() {
    let failing = |seed: u64| {
        SimBuilder::new(seed).client("c", "10.0.0.1", move || async move {
            doppel::time::sleep(Duration::from_millis(1)).await;
            if seed == 2 {
                return Err(io::Error::other("planted failure"));
            }
            Ok(())
        })
    };
    let panic = catch_unwind(AssertUnwindSafe(|| check_seeds(0..5, failing))).unwrap_err();
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("seed 2 failed: client c failed: planted failure"),
        "{msg}"
    );
    assert!(msg.contains("last ") && msg.contains(" events:"), "{msg}");
    assert!(
        msg.contains("0.001000000 c#0 - time fired at=0.001000000"),
        "{msg}"
    );
    let path = msg
        .lines()
        .find_map(|l| l.trim().strip_prefix("whole trace: "))
        .expect("a trace path");
    let written = std::fs::read_to_string(path).expect("the trace file");
    assert!(
        written.starts_with("# doppel trace backend=sim seed=2"),
        "{written}"
    );
    assert!(path.contains("target/doppel-traces/"), "{path}");
    assert!(
        msg.contains("DOPPEL_SEED=2 cargo test --test trace"),
        "{msg}"
    );
}

#[test]
fn an_unwritable_trace_path_is_one_clear_error_and_leaves_nothing_behind() {
    let report = SimBuilder::new(1)
        .trace(true)
        .client("c", "10.0.0.1", || async { Ok(()) })
        .check()
        .unwrap();
    let trace: Trace = report.trace.unwrap();
    let dir = std::env::temp_dir().join(format!("doppel-trace-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let bad = blocker.join("run.trace");
    let err = trace.write(&bad, Format::Text).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("writing trace to {}: ", bad.display())),
        "{err}"
    );
    let target_dir = dir.join("a-directory");
    std::fs::create_dir_all(&target_dir).unwrap();
    assert!(
        trace.write(&target_dir, Format::Text).is_err(),
        "a directory is not a trace file"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "no partial file was left: {left:?}");
    let good = dir.join("ok.trace");
    trace.write(&good, Format::Json).unwrap();
    assert!(std::fs::read_to_string(&good)
        .unwrap()
        .starts_with("{\"header\":"));
    std::fs::remove_dir_all(&dir).unwrap();
    let _ = Header::new("sim", None, "none");
}

/// The `doppel::net` calls of a trace that moved data or changed a connection (accept, read,
/// write, close; `EAGAIN` left out), grouped per connection and keyed by role (the listener,
/// the accepted end, the connecting end), so a real run and a simulated run compare per
/// connection whatever their fd numbers and however their connections interleave.
fn per_connection(trace: &Trace) -> std::collections::BTreeMap<String, Vec<String>> {
    let lines: Vec<Vec<String>> = trace
        .lines_of("doppel::net")
        .iter()
        .map(|l| l.split_whitespace().skip(4).map(str::to_string).collect())
        .collect();
    let field = |words: &[String], k: &str| {
        words
            .iter()
            .find_map(|w| w.strip_prefix(&format!("{k}=")).map(str::to_string))
    };
    let mut role = std::collections::BTreeMap::new();
    for w in lines.iter().filter(|w| w[0] == "accept") {
        if let Some(fd) = field(w, "fd") {
            role.insert(fd, "listener".to_string());
        }
        if let Some(fd) = field(w, "new_fd") {
            role.insert(fd, "accepted".to_string());
        }
    }
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for w in &lines {
        let op = w[0].as_str();
        let eagain = w.iter().any(|x| x == "errno=EAGAIN");
        if !matches!(op, "accept" | "read" | "write" | "close") || eagain {
            continue;
        }
        let fd = field(w, "fd").unwrap_or_default();
        let who = role
            .get(&fd)
            .cloned()
            .unwrap_or_else(|| "connecting".to_string());
        let rest: Vec<&String> = w[1..]
            .iter()
            .filter(|x| !x.starts_with("fd=") && !x.starts_with("new_fd="))
            .collect();
        let rest: Vec<&str> = rest.iter().map(|s| s.as_str()).collect();
        out.entry(who)
            .or_default()
            .push(format!("{op} {}", rest.join(" ")));
    }
    out
}

#[test]
fn a_real_run_traces_the_same_per_connection_sequence_as_a_simulated_one() {
    let (_, real) = capture(|| {
        let rt = doppel::real::runtime().unwrap();
        rt.block_on(ping_pong()).unwrap();
    });
    let real = Trace::new(Header::new("real", None, "none"), real);
    assert!(
        real.lines().iter().all(|l| l.starts_with("- real#0 ")),
        "real runs elide time: {:?}",
        real.tail(3)
    );
    let sim = SimBuilder::new(4)
        .split_segments(false)
        .trace(true)
        .client("real", "10.0.0.1", ping_pong)
        .check()
        .unwrap();
    let sim = sim.trace.unwrap();
    let (r, s) = (per_connection(&real), per_connection(&sim));
    assert_eq!(r.len(), 3, "listener, accepted and connecting ends: {r:#?}");
    assert_eq!(r, s, "real and simulated runs differ per connection");
    let _ = SocketAddr::from(([127, 0, 0, 1], 0));
}
