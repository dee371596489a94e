//! The same server and client on the real backend, over 127.0.0.1; and the crate's own
//! `lookup-sim` command exploring its UDP workload.

use std::process::Command;

#[test]
fn the_service_answers_on_loopback() {
    let rt = doppel::real::runtime().expect("a runtime");
    rt.block_on(async {
        let sock = doppel::net::UdpSocket::bind("127.0.0.1:0")?;
        let addr = sock.local_addr()?;
        let server = doppel::spawn(lookup::serve(sock));
        let checked = lookup::check(addr, 50, 1).await;
        server.abort();
        checked
    })
    .expect("every answer right");
}

#[test]
fn lookup_sim_explores_the_users_udp_workload() {
    let out = Command::new(env!("CARGO_BIN_EXE_lookup-sim"))
        .args(["explore", "lossy", "--seeds", "0..100"])
        .output()
        .expect("lookup-sim runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("100 seeds run, 0 failed"), "{text}");
    assert!(text.contains("dgram-loss="), "the faults fired: {text}");
    let real = Command::new(env!("CARGO_BIN_EXE_lookup-sim"))
        .args(["run", "lossy", "--real"])
        .output()
        .expect("lookup-sim runs");
    assert!(
        real.status.success(),
        "{}",
        String::from_utf8_lossy(&real.stdout)
    );
}
