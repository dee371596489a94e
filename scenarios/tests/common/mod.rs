//! `Served`: `doppel serve WORKLOAD` on 127.0.0.1 (a port the kernel picks), for the tests whose
//! clients are programs nobody here wrote; stopped when dropped, and after 120 s in any case.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// A workload's server running as a child process.
pub struct Served {
    /// The process.
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Served {
    /// Starts `doppel serve workload`, and waits for the line that says where it listens.
    pub fn start(workload: &str) -> Served {
        Served::start_variant(workload, "correct")
    }

    /// Starts `doppel serve workload --variant variant`, and waits for the line that says
    /// where it listens.
    pub fn start_variant(workload: &str, variant: &str) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_doppel"))
            .args([
                "serve",
                workload,
                "--variant",
                variant,
                "--listen",
                "127.0.0.1:0",
                "--for",
                "120s",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("doppel serve starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("its stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("doppel serve's first line");
        let addr = line
            .trim()
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Served { child, addr }
    }

    /// Stops it; it must still have been running (it did not fail on its own).
    pub fn stop(mut self) {
        let early = self.child.try_wait().expect("its status");
        assert!(early.is_none(), "doppel serve exited by itself: {early:?}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
