//! curl against the axum service on the real backend (`doppel serve http`): versioned JSON
//! writes and reads over one keep-alive connection, an older version kept out, a missing key.
//!
//! Needs `curl` (Debian: `apt-get install curl`; `.ci/run` installs it). Without it the test
//! fails and says so.

mod common;

use std::process::Command;

use common::Served;

/// Runs curl with `args`; its stdout, and stderr's lines (with `-v`, its connection notes).
fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl runs (Debian: apt-get install curl)");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "curl {args:?}: {stderr}");
    (String::from_utf8_lossy(&out.stdout).to_string(), stderr)
}

#[test]
fn curl_writes_and_reads_the_axum_service_on_epoll() {
    let server = Served::start("http");
    let url = format!("http://{}/kv/greeting", server.addr);
    let put = |version: u64, value: &str| {
        let body = format!(r#"{{"version":{version},"value":"{value}"}}"#);
        curl(&[
            "-X",
            "PUT",
            "-H",
            "content-type: application/json",
            "-d",
            &body,
            &url,
        ])
        .0
    };
    assert_eq!(put(2, "hello"), r#"{"version":2,"value":"hello"}"#);
    // An older version does not replace a newer one: the answer is what the key holds.
    assert_eq!(put(1, "stale"), r#"{"version":2,"value":"hello"}"#);
    assert_eq!(curl(&[&url]).0, r#"{"version":2,"value":"hello"}"#);
    // Three reads on one connection: curl reuses it (keep-alive), and says so.
    let (out, notes) = curl(&["-v", &url, &url, &url]);
    assert_eq!(out, r#"{"version":2,"value":"hello"}"#.repeat(3));
    assert!(
        notes.contains("Re-using existing connection") || notes.contains("Reusing existing"),
        "{notes}"
    );
    let missing = format!("http://{}/kv/nothing", server.addr);
    assert_eq!(
        curl(&["-o", "/dev/null", "-w", "%{http_code}", &missing]).0,
        "404"
    );
    // A body that is not JSON is refused by axum's extractor, not a crash.
    let (code, _) = curl(&[
        "-X",
        "PUT",
        "-H",
        "content-type: application/json",
        "-d",
        "{",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &url,
    ]);
    assert_eq!(code, "400");
    server.stop();
}
