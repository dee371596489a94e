//! Per-host clocks under the `clock-skew` fault class, from a user's crate: a skewed host's
//! wall clock is offset and both its clocks drift within the builder's bounds, each skew is
//! counted and named by its host, a timer fires when its own host's clock reaches it, traces
//! stay on the world's one clock, and the same seed gives the same clocks.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use doppel::sim::{FaultClass, FaultPlan, SimBuilder};
use doppel::time::{wall_clock, Instant};

/// What each host read: its wall clock at start, and its `Instant` after a 1 s sleep.
type Seen = Rc<RefCell<Vec<(String, i128, u64)>>>;

fn world(seed: u64, plan: FaultPlan, seen: Seen) -> SimBuilder {
    let mut b = SimBuilder::new(seed)
        .faults(plan)
        .clock_skew(Duration::from_secs(2), 100_000);
    for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
        let seen = seen.clone();
        b = b.client(name, &format!("10.0.0.{}", i + 1), move || {
            let seen = seen.clone();
            async move {
                let wall = wall_clock().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i128;
                let start = Instant::now();
                doppel::time::sleep(Duration::from_secs(1)).await;
                let slept = (Instant::now() - start).as_nanos() as u64;
                seen.borrow_mut().push((name.to_string(), wall, slept));
                Ok(())
            }
        });
    }
    b
}

#[test]
fn skewed_hosts_read_their_own_clocks_within_the_bounds() {
    let seen: Seen = Rc::default();
    let plan = FaultPlan::none().with(FaultClass::ClockSkew, 1.0);
    let report = world(7, plan.clone(), seen.clone())
        .trace(true)
        .run()
        .unwrap();
    assert_eq!(
        report.faults.get(FaultClass::ClockSkew),
        3,
        "every host skewed"
    );
    assert_eq!(report.fired[0].site, "a");
    let epoch = doppel::sim::clock::SIM_EPOCH.as_nanos() as i128;
    let seen = seen.borrow().clone();
    let mut walls = Vec::new();
    for (name, wall, slept) in &seen {
        let off = wall - epoch;
        assert!(
            off.abs() <= 2_000_000_000,
            "{name}: offset {off} ns within 2 s"
        );
        assert!(
            *slept >= 1_000_000_000,
            "{name}: a sleep lasts its length on its own clock"
        );
        walls.push(off);
    }
    walls.dedup();
    assert_eq!(walls.len(), 3, "three hosts, three offsets: {walls:?}");
    // World time: each host's 1 s sleep ends when its own clock says so, within 10%.
    let elapsed = report.elapsed.as_nanos() as f64 / 1e9;
    assert!((0.9..=1.12).contains(&elapsed), "{elapsed}");
    let trace = report.trace.unwrap();
    assert_eq!(trace.lines_of("doppel::clock").len(), 3);
    // The same seed, the same clocks; a plan without the class, true clocks.
    let again: Seen = Rc::default();
    world(7, plan, again.clone()).run().unwrap();
    assert_eq!(*again.borrow(), seen);
    let none: Seen = Rc::default();
    world(7, FaultPlan::none(), none.clone()).run().unwrap();
    assert!(none
        .borrow()
        .iter()
        .all(|(_, w, s)| *w == epoch && *s == 1_000_000_000));
}

#[test]
fn only_a_named_skew_replays() {
    let seen: Seen = Rc::default();
    let plan = FaultPlan::none()
        .with(FaultClass::ClockSkew, 1.0)
        .only(["clock-skew@b:0".parse().unwrap()]);
    let report = world(7, plan, seen.clone()).run().unwrap();
    assert_eq!(report.faults.get(FaultClass::ClockSkew), 1);
    let epoch = doppel::sim::clock::SIM_EPOCH.as_nanos() as i128;
    for (name, wall, _) in seen.borrow().iter() {
        assert_eq!(*wall == epoch, name != "b", "{name}");
    }
}

#[test]
fn bounds_out_of_range_are_refused_before_anything_runs() {
    let e = SimBuilder::new(1)
        .clock_skew(Duration::from_secs(1), 300_000)
        .client("c", "10.0.0.1", || async { Ok(()) })
        .run()
        .unwrap_err();
    assert!(e.to_string().contains("300000 ppm is too large"), "{e}");
}
