//! The simulator's datagram faults and kernel behaviour, each proved to have happened by its
//! count in the report or the trace: loss, duplication, reordering and delay (`dgram-*`), a
//! full receive buffer dropping arrivals, a partition and a crash losing datagrams; each fired
//! fault replayable alone with `FaultPlan::only`; a run with every class the same twice.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use doppel::net::UdpSocket;
use doppel::sim::{CrashSpec, FaultClass, FaultPlan, PartitionSpec, Report, SimBuilder};
use doppel::time::{sleep, Instant};

/// What the receiver got: each datagram's sequence number, in arrival order.
type Got = Rc<RefCell<Vec<u32>>>;

/// A sender that sends `n` numbered datagrams of `size` bytes to `rx:9000`, `gap` apart, and a
/// receiver that records them until 200 ms pass without one (after a `pause` first).
fn world(
    seed: u64,
    plan: FaultPlan,
    (n, size, gap): (u32, usize, Duration),
    pause: Duration,
) -> (SimBuilder, Got) {
    let got: Got = Rc::default();
    let sink = got.clone();
    let b = SimBuilder::new(seed)
        .faults(plan)
        .client("rx", "10.0.0.2", move || {
            let sink = sink.clone();
            async move {
                let sock = UdpSocket::bind("0.0.0.0:9000")?;
                sleep(pause).await;
                let mut buf = [0u8; 2048];
                loop {
                    sock.set_read_deadline(Some(Instant::now() + Duration::from_millis(200)))?;
                    match sock.recv_from(&mut buf).await {
                        Ok((k, _)) => {
                            assert_eq!(k, size, "whole");
                            let id = u32::from_le_bytes(buf[..4].try_into().unwrap());
                            sink.borrow_mut().push(id);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Ok(()),
                        Err(e) => return Err(e),
                    }
                }
            }
        })
        .client("tx", "10.0.0.1", move || async move {
            sleep(Duration::from_millis(1)).await;
            let sock = UdpSocket::bind("0.0.0.0:0")?;
            let mut msg = vec![0u8; size];
            for i in 0..n {
                msg[..4].copy_from_slice(&i.to_le_bytes());
                sock.send_to(&msg, "10.0.0.2:9000").await?;
                if !gap.is_zero() {
                    sleep(gap).await;
                }
            }
            Ok(())
        });
    (b, got)
}

/// Runs the world; the report and what arrived.
fn run(
    seed: u64,
    plan: &str,
    shape: (u32, usize, Duration),
    pause: Duration,
) -> (Report, Vec<u32>) {
    let plan: FaultPlan = plan.parse().expect("a plan");
    let (b, got) = world(seed, plan, shape, pause);
    let report = b.trace(true).run().expect("the run passes");
    let got = got.borrow().clone();
    (report, got)
}

const STEADY: (u32, usize, Duration) = (300, 64, Duration::from_micros(200));

#[test]
fn lost_datagrams_are_exactly_the_fired_losses() {
    let (r, got) = run(1, "dgram-loss=0.2", STEADY, Duration::ZERO);
    let lost = r.faults.get(FaultClass::DgramLoss);
    assert!(lost > 20, "the class fired: {}", r.faults);
    assert_eq!(got.len() as u64, 300 - lost);
    let fired: Vec<_> = r
        .fired
        .iter()
        .filter(|f| f.class == FaultClass::DgramLoss)
        .collect();
    assert!(fired[0].site.ends_with("/udp"), "{}", fired[0].site);
    let traced = r.trace.as_ref().unwrap().lines_of("doppel::fault");
    assert_eq!(
        traced.iter().filter(|l| l.contains("dgram-loss")).count() as u64,
        lost
    );
}

#[test]
fn a_duplicate_arrives_as_a_second_datagram() {
    let (r, got) = run(2, "dgram-dup=0.2", STEADY, Duration::ZERO);
    let dups = r.faults.get(FaultClass::DgramDup);
    assert!(dups > 20, "the class fired: {}", r.faults);
    assert_eq!(got.len() as u64, 300 + dups);
    let mut unique = got.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 300, "every datagram, some twice");
}

#[test]
fn reordered_and_delayed_datagrams_arrive_out_of_order_but_all_arrive() {
    for (class, plan) in [
        (FaultClass::DgramReorder, "dgram-reorder=0.2"),
        (FaultClass::DgramDelay, "dgram-delay=0.05"),
    ] {
        let (r, got) = run(3, plan, STEADY, Duration::ZERO);
        assert!(r.faults.get(class) > 5, "{plan}: {}", r.faults);
        let overtaken = got.windows(2).filter(|w| w[0] > w[1]).count();
        assert!(overtaken > 0, "{plan}: some arrive out of order");
        let mut all = got.clone();
        all.sort_unstable();
        assert_eq!(all, (0..300).collect::<Vec<_>>(), "{plan}: none lost");
    }
}

#[test]
fn a_full_receive_buffer_drops_what_arrives_and_the_trace_says_so() {
    // 50 datagrams of 100 bytes at once into a 2,000-byte buffer (each charged 100 + 256).
    let plan = FaultPlan::none();
    let (b, got) = world(
        4,
        plan,
        (50, 100, Duration::ZERO),
        Duration::from_millis(20),
    );
    let r = b.udp_recv_buffer(2_000).trace(true).run().unwrap();
    assert_eq!(
        *got.borrow(),
        (0..5).collect::<Vec<_>>(),
        "the first five fit"
    );
    let drops = r.trace.as_ref().unwrap().lines_of("doppel::net");
    let overflow = drops
        .iter()
        .filter(|l| l.contains("dgram_drop") && l.contains("overflow"));
    assert_eq!(overflow.count(), 45);
}

#[test]
fn a_partition_loses_datagrams_instead_of_delaying_them() {
    let cut = PartitionSpec {
        a: "tx".into(),
        b: "rx".into(),
        from: Duration::from_millis(20),
        until: Duration::from_millis(40),
        one_way: false,
    };
    let plan = FaultPlan::none().partition(cut);
    let (b, got) = world(5, plan, (60, 16, Duration::from_millis(1)), Duration::ZERO);
    let r = b.run().unwrap();
    assert_eq!(r.faults.get(FaultClass::Partition), 1);
    let got = got.borrow();
    assert!(
        got.len() < 50 && got.len() > 30,
        "about 20 of 60 lost: got {}",
        got.len()
    );
    assert!(got.windows(2).all(|w| w[0] < w[1]), "the rest in order");
}

#[test]
fn a_crashed_receiver_loses_what_arrives_while_it_is_down() {
    let crash = CrashSpec {
        host: "rx".into(),
        at: Duration::from_millis(20),
        restart_after: Some(Duration::from_millis(20)),
    };
    let plan = FaultPlan::none().crash(crash);
    let (b, got) = world(6, plan, (60, 16, Duration::from_millis(1)), Duration::ZERO);
    let r = b.run().unwrap();
    assert_eq!(r.faults.get(FaultClass::Crash), 1);
    let got = got.borrow();
    let (before, after): (Vec<u32>, Vec<u32>) = got.iter().partition(|&&i| i < 25);
    assert!(!before.is_empty() && !after.is_empty(), "{got:?}");
    assert!(
        got.len() < 50,
        "the ~20 sent while it was down are lost: {got:?}"
    );
}

#[test]
fn each_fired_datagram_fault_replays_alone() {
    let (r, _) = run(
        7,
        "dgram-loss=0.1,dgram-dup=0.1,dgram-reorder=0.1,dgram-delay=0.1",
        STEADY,
        Duration::ZERO,
    );
    for class in [
        FaultClass::DgramLoss,
        FaultClass::DgramDup,
        FaultClass::DgramReorder,
        FaultClass::DgramDelay,
    ] {
        let one = r.fired.iter().find(|f| f.class == class).expect("fired");
        let plan = r.plan.clone().only([one.name()]);
        let (b, _) = world(7, plan, STEADY, Duration::ZERO);
        let again = b.run().unwrap();
        assert_eq!(again.fired.len(), 1, "{}", again.faults);
        assert_eq!(again.fired[0].name(), one.name());
    }
}

#[test]
fn a_run_under_every_datagram_class_is_the_same_twice() {
    let plan = "dgram-loss=0.1,dgram-dup=0.1,dgram-reorder=0.1,dgram-delay=0.1,eintr=0.05,spurious=0.05,late=0.05";
    let (a, got_a) = run(8, plan, STEADY, Duration::ZERO);
    let (b, got_b) = run(8, plan, STEADY, Duration::ZERO);
    assert_eq!(a.hash, b.hash);
    assert_eq!(got_a, got_b);
    assert_eq!(a.trace.unwrap().body(), b.trace.unwrap().body());
    let (c, _) = run(9, plan, STEADY, Duration::ZERO);
    assert_ne!(a.hash, c.hash, "another seed, another run");
}
