//! A packed trace file taken apart: cut at every length it is refused as cut short or
//! unfinished; with any one byte flipped it is refused or rendered, never a panic.

use std::io;
use std::path::Path;

use doppel_trace::{capture_packed, render_packed, Format, Header, StreamOutput};

/// A small packed trace with fields of every kind, and its text rendering.
fn sample(path: &Path) -> (Vec<u8>, String) {
    let header = Header::new("sim", Some(7), "none");
    let out = StreamOutput::create(path).unwrap();
    let ((), wrote) = capture_packed(&header, out, || {
        for i in 0..40u64 {
            let host = ["a", "b", "c"][i as usize % 3];
            let who = format!("w{i}");
            tracing::info!(target: "app", host, i, neg = -(i as i64), ok = i % 2 == 0, who = %who, "step");
        }
    });
    wrote.unwrap();
    let mut text = Vec::new();
    render_packed(path, Format::Text, &mut text).unwrap();
    (
        std::fs::read(path).unwrap(),
        String::from_utf8(text).unwrap(),
    )
}

/// `bytes`, written to `path`, rendered as JSON lines.
fn render(path: &Path, bytes: &[u8]) -> io::Result<Vec<u8>> {
    std::fs::write(path, bytes).unwrap();
    let mut out = Vec::new();
    render_packed(path, Format::Json, &mut out).map(|_| out)
}

#[test]
fn a_sample_renders_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = sample(&dir.path().join("t.pk"));
    assert!(
        text.starts_with("# doppel trace backend=sim seed=7"),
        "{text}"
    );
    assert_eq!(
        text.lines().count(),
        41,
        "the header and 40 records:\n{text}"
    );
    assert!(
        text.contains("who=w39") && text.contains("neg=-39"),
        "{text}"
    );
}

#[test]
fn every_cut_and_every_flipped_byte_is_an_error_or_a_rendering_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = sample(&dir.path().join("t.pk"));
    let bad = dir.path().join("bad.pk");
    for cut in 0..bytes.len() {
        let err = render(&bad, &bytes[..cut]).unwrap_err();
        assert_eq!(
            err.kind(),
            io::ErrorKind::InvalidData,
            "cut at {cut}: {err}"
        );
    }
    // A flipped byte may still decode (a field's value changed); what it must not do is panic
    // or allocate without bound. Those that decode render the header line first.
    let mut refused = 0;
    for at in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut flipped = bytes.clone();
            flipped[at] ^= mask;
            match render(&bad, &flipped) {
                Ok(out) => assert!(out.starts_with(b"{"), "flip at {at}"),
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::InvalidData, "flip at {at}: {e}");
                    refused += 1;
                }
            }
        }
    }
    assert!(refused > bytes.len(), "most flips are caught: {refused}");
}
