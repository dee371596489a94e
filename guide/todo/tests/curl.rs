//! curl against the to-do API on epoll: the binary `src/main.rs` builds, on a port the kernel
//! picks. Needs `curl` (Debian: `apt-get install curl`); without it the test fails and says so.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// curl's answer to `args`: the body, then the status code on a line of its own.
fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "-w",
            "\n%{http_code}",
        ])
        .args(args)
        .output()
        .expect("curl runs (Debian: apt-get install curl)");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The server process, killed when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn curl_makes_lists_and_finishes_todos() {
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_todo"))
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the todo binary starts"),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("todo listening on ")
        .expect(&line)
        .to_string();
    let json = ["-H", "content-type: application/json"];
    let post = |title: &str| {
        let body = format!(r#"{{"title":"{title}"}}"#);
        curl(&[&json[..], &["-d", &body, &format!("{base}/todos")]].concat())
    };
    assert_eq!(
        post("write the test"),
        "{\"id\":1,\"title\":\"write the test\",\"done\":false}\n201"
    );
    assert_eq!(
        post("run it"),
        "{\"id\":2,\"title\":\"run it\",\"done\":false}\n201"
    );
    let done = curl(&["-X", "PUT", &format!("{base}/todos/1/done")]);
    assert_eq!(
        done,
        "{\"id\":1,\"title\":\"write the test\",\"done\":true}\n200"
    );
    assert_eq!(
        curl(&["-X", "PUT", &format!("{base}/todos/9/done")]),
        "\n404"
    );
    let list = curl(&[&format!("{base}/todos")]);
    assert!(
        list.starts_with("[{\"id\":1,")
            && list.contains("\"done\":true}")
            && list.ends_with("]\n200"),
        "{list}"
    );
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "the server stopped by itself"
    );
}

#[test]
fn a_bad_address_is_named_before_anything_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_todo"))
        .arg("nowhere.invalid:3000")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.starts_with("todo: nowhere.invalid: failed to lookup address information"),
        "one line naming the address: {stderr}"
    );
}
