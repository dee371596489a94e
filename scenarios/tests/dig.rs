//! dig (BIND's resolver tool, nobody here wrote it) against the DNS workload on the real
//! backend (`doppel serve dns`): A records from the zone, a name in mixed case, a name that does
//! not exist, a name outside the zone, a name with no A record, and dig's own EDNS options
//! taken in stride; then both forwarders under a burst of queries from Python's socket module.
//!
//! Needs `dig` (Debian: `apt-get install bind9-dnsutils`; `.ci/run` installs it) and
//! `python3`. Without them the test fails and says so.

mod common;

use std::process::Command;

use common::Served;

/// Runs `dig @ADDR -p PORT args...` (one try, two seconds); its stdout.
fn dig(server: &Served, args: &[&str]) -> String {
    let at = format!("@{}", server.addr.ip());
    let port = server.addr.port().to_string();
    let out = Command::new("dig")
        .args([at.as_str(), "-p", &port, "+tries=1", "+time=2"])
        .args(args)
        .output()
        .expect("dig runs (Debian: apt-get install bind9-dnsutils)");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "dig {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn dig_resolves_the_zone_through_the_forwarder_on_epoll() {
    let server = Served::start("dns");
    assert_eq!(
        dig(&server, &["www.doppel.test", "A", "+short"]).trim(),
        "10.53.0.1"
    );
    assert_eq!(
        dig(&server, &["host42.doppel.test", "+short"]).trim(),
        "10.53.1.43"
    );
    assert_eq!(
        dig(&server, &["HoSt999.DoPpEl.TeSt", "+short"]).trim(),
        "10.53.4.250"
    );
    let full = dig(&server, &["host7.doppel.test"]);
    assert!(full.contains("status: NOERROR"), "{full}");
    assert!(full.contains("flags: qr aa rd;"), "authoritative: {full}");
    assert!(
        full.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["host7.doppel.test.", "300", "IN", "A", "10.53.1.8"]),
        "{full}"
    );
    for (name, status, answers) in [
        ("nosuch.doppel.test", "NXDOMAIN", "ANSWER: 0"),
        ("example.com", "REFUSED", "ANSWER: 0"),
        ("doppel.test", "NOERROR", "ANSWER: 0"),
    ] {
        let out = dig(&server, &[name]);
        assert!(
            out.contains(&format!("status: {status}")) && out.contains(answers),
            "{name}: {out}"
        );
    }
    let aaaa = dig(&server, &["www.doppel.test", "AAAA"]);
    assert!(
        aaaa.contains("status: NOERROR") && aaaa.contains("ANSWER: 0"),
        "{aaaa}"
    );
    server.stop();
}

/// Python's socket module sends `n` queries for distinct hosts at once from one socket, then
/// reads replies for up to two seconds, and prints `id address` for each reply it got.
const BURST: &str = r#"
import socket, struct, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
for i in range(n):
    name = b"".join(bytes([len(l)]) + l for l in [b"host%d" % i, b"doppel", b"test"]) + b"\0"
    s.sendto(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1), (host, port))
got = {}
try:
    while len(got) < n:
        data, _ = s.recvfrom(512)
        ident = struct.unpack(">H", data[:2])[0]
        qlen = data[12:].index(0) + 1 + 4
        rdata = data[12 + qlen + 12:12 + qlen + 16]
        got[ident] = ".".join(str(b) for b in rdata)
except socket.timeout:
    pass
for ident in sorted(got):
    print(ident, got[ident])
"#;

/// `n` concurrent queries from Python against `workload`'s forwarder; `id address` lines.
fn burst(workload_spec: &str, n: u32) -> Vec<String> {
    let server = Served::start_variant("dns", workload_spec);
    let out = Command::new("python3")
        .args([
            "-c",
            BURST,
            &server.addr.ip().to_string(),
            &server.addr.port().to_string(),
            &n.to_string(),
        ])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.stop();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_burst_of_concurrent_queries_from_python_gets_every_answer_right() {
    let want: Vec<String> = (0..50u32)
        .map(|i| format!("{i} {}", doppel_scenarios::dns::zone::host(i)))
        .collect();
    assert_eq!(burst("correct", 50), want);
    // On loopback nothing is lost, duplicated or late: the twin answers right too, one query
    // at a time. Its bug needs the datagram faults only the simulator injects.
    assert_eq!(burst("first-reply", 50), want);
}
