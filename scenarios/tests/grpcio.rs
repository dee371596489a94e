//! Python's grpcio (from PyPI), with the stub grpcio-tools generates from the repository's
//! `proto/ledger.proto`, against the tonic service on the real backend (`doppel serve grpc`):
//! unary appends, a repeated one, a refused one, and server-streamed histories.
//!
//! Needs `python3` with `grpcio` and `grpcio-tools` (`python3 -m pip install grpcio
//! grpcio-tools`; `.ci/run` installs them). Without them the test fails and says so.

mod common;

use std::path::Path;
use std::process::Command;

use common::Served;

#[test]
fn grpcio_calls_the_tonic_service_on_epoll() {
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto");
    let stub = tempfile::tempdir().expect("a temporary folder");
    let out = Command::new("python3")
        .args(["-m", "grpc_tools.protoc", "-I"])
        .arg(&proto)
        .arg(format!("--python_out={}", stub.path().display()))
        .arg(format!("--grpc_python_out={}", stub.path().display()))
        .arg(proto.join("ledger.proto"))
        .output()
        .expect("python3 runs (install it, and `python3 -m pip install grpcio grpcio-tools`)");
    assert!(
        out.status.success(),
        "grpcio-tools could not generate the stub (`python3 -m pip install grpcio grpcio-tools`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Served::start("grpc");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/grpcio/client.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(server.addr.to_string())
        .env("PYTHONPATH", stub.path())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the grpcio client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(": 24 appends, 12 histories, all checked"),
        "{stdout}"
    );
    server.stop();
}
