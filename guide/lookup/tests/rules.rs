//! A rule from a user's test: the server's third reply is dropped. One try per question fails;
//! three pass; the verdict is in the trace.

use doppel::sim::{Proto, SimBuilder, SimError, Verdict};

fn world(tries: u32) -> SimBuilder {
    SimBuilder::new(1)
        .host("server", "10.0.0.1", || {
            lookup::bind_and_serve("0.0.0.0:5300")
        })
        .client("client", "10.0.0.2", move || {
            lookup::check("10.0.0.1:5300".parse().unwrap(), 5, tries)
        })
        .rule("server", "client", |m| match (m.proto, m.index) {
            (Proto::Udp, 2) => Verdict::Drop,
            _ => Verdict::Pass,
        })
        .trace(true)
}

#[test]
fn the_third_reply_dropped_fails_one_try_and_passes_three() {
    match world(1).run() {
        Err(SimError::Failed(f)) => assert!(f.to_string().contains("no answer for key2"), "{f}"),
        other => panic!("expected a failure: {other:?}"),
    }
    let report = world(3).run().expect("retries absorb the drop");
    let verdicts = report.trace.unwrap().lines_of("doppel::rule");
    assert_eq!(verdicts.len(), 1, "{verdicts:?}");
}
