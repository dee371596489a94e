//! Traces that stream (`Sim::run_trace_to`): the file written as the run goes is, byte for byte,
//! the trace a run kept in memory renders (text and JSON lines), across many drains of the
//! collector's bounded store; a failing run's file holds its whole trace; a bad path is refused
//! before the run starts; an unfinished output leaves the old file as it was. A packed trace
//! (`Sim::run_trace_packed`) renders to those same bytes, and a foreign, cut or unfinished packed
//! file is refused with an error naming it.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use doppel::net::TcpStream;
use doppel::sim::{FaultPlan, SimBuilder};
use doppel::trace::{render_packed, Format, StreamOutput, PACKED_MAGIC, STREAM_BYTES};

/// An echo server and `clients` clients doing `rounds` round trips each, with a user event per
/// round that carries a text field; client `fail_at` (if any) fails at its round 50.
fn world(seed: u64, clients: usize, rounds: usize, fail_at: Option<usize>) -> SimBuilder {
    let mut b =
        SimBuilder::new(seed)
            .faults(FaultPlan::benign(0.05))
            .host("server", "10.0.0.1", || {
                doppel_scenarios::echo::bind_and_serve("10.0.0.1:7")
            });
    for c in 0..clients {
        b = b.client(
            &format!("c{c}"),
            &format!("10.0.1.{}", c + 1),
            move || async move {
                let conn = TcpStream::connect("10.0.0.1:7").await?;
                let mut buf = [0u8; 16];
                for round in 0..rounds {
                    tracing::info!(target: "app", round, who = %format!("client-{c}"), "sending");
                    if fail_at == Some(c) && round == 50 {
                        return Err(std::io::Error::other("planted failure"));
                    }
                    conn.write_all(b"0123456789abcdef").await?;
                    let mut got = 0;
                    while got < buf.len() {
                        got += conn.read(&mut buf[got..]).await?;
                    }
                }
                Ok(())
            },
        );
    }
    b
}

/// A path in a fresh temporary folder.
fn temp_path(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(name);
    (dir, path)
}

#[test]
fn a_streamed_trace_is_the_in_memory_trace_across_many_drains() {
    let kept = world(3, 40, 400, None)
        .trace(true)
        .run()
        .expect("the run passes");
    let trace = kept.trace.expect("traced");
    let text = trace.render(Format::Text);
    // A record takes at least two bytes in the store, so this many records drained it twice.
    assert!(
        trace.len() > STREAM_BYTES,
        "the trace ({} records) spans several drains of the store",
        trace.len()
    );
    let (_dir, path) = temp_path("run.trace");
    let streamed = world(3, 40, 400, None)
        .build()
        .unwrap()
        .run_trace_to(&path, Format::Text)
        .expect("the trace file is written")
        .expect("the run passes");
    assert!(streamed.trace.is_none(), "the trace went to the file");
    assert_eq!(
        streamed.hash, kept.hash,
        "streaming does not change the run"
    );
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(
        file == text,
        "the streamed file differs from the kept trace"
    );
}

#[test]
fn json_lines_stream_the_same_as_they_render() {
    let trace = world(5, 4, 60, None)
        .trace(true)
        .run()
        .unwrap()
        .trace
        .unwrap();
    let (_dir, path) = temp_path("run.jsonl");
    world(5, 4, 60, None)
        .build()
        .unwrap()
        .run_trace_to(&path, Format::Json)
        .unwrap()
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        trace.render(Format::Json)
    );
}

#[test]
fn a_failing_run_streams_its_whole_trace() {
    let kept = world(9, 3, 100, Some(1)).trace(true).run().unwrap_err();
    let failure = match kept {
        doppel::sim::SimError::Failed(f) => f,
        other => panic!("expected a failure, got {other}"),
    };
    let trace = failure.report.trace.as_ref().expect("traced");
    let (_dir, path) = temp_path("failing.trace");
    let streamed = world(9, 3, 100, Some(1))
        .build()
        .unwrap()
        .run_trace_to(&path, Format::Text)
        .expect("the trace file is written");
    let streamed = streamed.expect_err("the planted failure");
    assert!(
        streamed.to_string().contains("planted failure"),
        "{streamed}"
    );
    let file = std::fs::read_to_string(&path).unwrap();
    assert_eq!(file, trace.render(Format::Text));
    assert!(
        file.contains("who=client-1"),
        "the failing client's events are there"
    );
}

#[test]
fn a_bad_trace_path_is_refused_before_the_run_starts() {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let sim = SimBuilder::new(1)
        .client("c", "10.0.0.1", move || {
            let flag = flag.clone();
            async move {
                flag.store(true, Ordering::SeqCst);
                Ok(())
            }
        })
        .build()
        .unwrap();
    let missing = Path::new("/nonexistent-doppel-dir/run.trace");
    let err = sim.run_trace_to(missing, Format::Text).unwrap_err();
    assert!(
        err.to_string()
            .contains("/nonexistent-doppel-dir/run.trace"),
        "{err}"
    );
    assert!(!ran.load(Ordering::SeqCst), "the run never started");
}

#[test]
fn an_unfinished_stream_leaves_the_old_file_and_no_partial() {
    let (dir, path) = temp_path("old.trace");
    std::fs::write(&path, "old\n").unwrap();
    let mut out = StreamOutput::create(&path).unwrap();
    out.write_all(b"new and unfinished\n").unwrap();
    drop(out);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "only the old file is there: {left:?}");
    let mut out = StreamOutput::create(&path).unwrap();
    out.write_all(b"new\n").unwrap();
    out.finish().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
}

/// `path`'s packed trace rendered as `format`, or the error.
fn render(path: &Path, format: Format) -> std::io::Result<String> {
    let mut out = Vec::new();
    render_packed(path, format, &mut out)?;
    Ok(String::from_utf8(out).expect("rendered traces are UTF-8"))
}

#[test]
fn a_packed_trace_renders_to_the_in_memory_trace_across_many_drains() {
    let kept = world(3, 40, 400, None).trace(true).run().unwrap();
    let trace = kept.trace.expect("traced");
    assert!(trace.len() > STREAM_BYTES, "several chunks");
    let (_dir, path) = temp_path("run.pk");
    let packed = world(3, 40, 400, None)
        .build()
        .unwrap()
        .run_trace_packed(&path)
        .expect("the packed file is written")
        .expect("the run passes");
    assert_eq!(packed.hash, kept.hash, "packing does not change the run");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(PACKED_MAGIC));
    let text = trace.render(Format::Text);
    assert!(
        bytes.len() * 2 < text.len(),
        "packed ({} B) is well under the text ({} B)",
        bytes.len(),
        text.len()
    );
    assert!(render(&path, Format::Text).unwrap() == text, "text differs");
    assert!(
        render(&path, Format::Json).unwrap() == trace.render(Format::Json),
        "JSON lines differ"
    );
}

#[test]
fn a_failing_run_packs_its_whole_trace() {
    let kept = match world(9, 3, 100, Some(1)).trace(true).run().unwrap_err() {
        doppel::sim::SimError::Failed(f) => f,
        other => panic!("expected a failure, got {other}"),
    };
    let (_dir, path) = temp_path("failing.pk");
    let failed = world(9, 3, 100, Some(1))
        .build()
        .unwrap()
        .run_trace_packed(&path)
        .expect("the packed file is written")
        .expect_err("the planted failure");
    assert!(failed.to_string().contains("planted failure"), "{failed}");
    let text = render(&path, Format::Text).unwrap();
    assert_eq!(
        text,
        kept.report.trace.as_ref().unwrap().render(Format::Text)
    );
    assert!(text.contains("who=client-1"));
}

#[test]
fn a_foreign_cut_or_unfinished_packed_file_is_refused_by_name() {
    let (dir, path) = temp_path("run.pk");
    world(5, 4, 60, None)
        .build()
        .unwrap()
        .run_trace_packed(&path)
        .unwrap()
        .unwrap();
    let whole = std::fs::read(&path).unwrap();
    // The end frame: its tag, its payload's length as eight bytes, and that payload (a count).
    let end = (0..whole.len() - 9)
        .rev()
        .find(|&i| {
            let len = u64::from_le_bytes(whole[i + 1..i + 9].try_into().unwrap());
            whole[i] == b'E' && len as usize == whole.len() - i - 9
        })
        .expect("an end frame");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "foreign.pk",
            b"hello, not a trace\n".to_vec(),
            "not a packed doppel trace",
        ),
        ("empty.pk", Vec::new(), "not a packed doppel trace"),
        ("cut.pk", whole[..whole.len() / 2].to_vec(), "cut short"),
        ("unfinished.pk", whole[..end].to_vec(), "did not finish"),
    ];
    for (name, bytes, want) in cases {
        let bad = dir.path().join(name);
        std::fs::write(&bad, bytes).unwrap();
        let err = render(&bad, Format::Text).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{name}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(name) && msg.contains(want), "{name}: {msg}");
    }
    let mut miscounted = whole.clone();
    let n = miscounted.len();
    miscounted[n - 1] ^= 1; // the count's last byte
    let bad = dir.path().join("miscounted.pk");
    std::fs::write(&bad, miscounted).unwrap();
    let msg = render(&bad, Format::Text).unwrap_err().to_string();
    assert!(msg.contains("the end frame counts"), "{msg}");
    let missing = render(&dir.path().join("absent.pk"), Format::Text).unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    assert!(missing.to_string().contains("absent.pk"));
}
