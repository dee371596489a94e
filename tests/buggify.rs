//! `doppel::buggify!` in a user's own code: it fires only in the simulator and only under a
//! plan naming `buggify`; each firing is counted, traced and named by its call site; a site is
//! on or off for a whole seed; a bug behind one is found by a sweep, shrunk to that one fault
//! and replayed alone; on the real backend it never fires.

use std::cell::Cell;
use std::io;
use std::rc::Rc;

use doppel::sim::{shrink, FaultClass, FaultPlan, SimBuilder, SimError};

/// A client that passes `rounds` rare-path checks, counting the ones that fired.
fn counting(seed: u64, plan: &str, fired: Rc<Cell<u64>>) -> SimBuilder {
    SimBuilder::new(seed)
        .faults(plan.parse().unwrap())
        .client("c", "10.0.0.1", move || {
            let fired = fired.clone();
            async move {
                for _ in 0..200 {
                    if doppel::buggify!(0.1) {
                        fired.set(fired.get() + 1);
                    }
                    doppel::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                Ok(())
            }
        })
}

#[test]
fn a_fault_point_fires_at_its_rate_counted_and_named_by_its_site() {
    let fired = Rc::new(Cell::new(0));
    let r = counting(1, "buggify=1", fired.clone())
        .trace(true)
        .run()
        .unwrap();
    let n = fired.get();
    assert!((5..=45).contains(&n), "about 20 of 200 at rate 0.1: {n}");
    assert_eq!(r.faults.get(FaultClass::Buggify), n);
    let site = &r.fired[0].site;
    assert!(
        site.starts_with("tests/buggify.rs:") && site.matches(':').count() == 2,
        "{site}"
    );
    let traced = r.trace.unwrap().lines_of("doppel::fault");
    assert_eq!(
        traced.iter().filter(|l| l.contains("buggify")).count() as u64,
        n
    );
    let none = Rc::new(Cell::new(0));
    counting(1, "eintr=0.1", none.clone()).run().unwrap();
    assert_eq!(
        none.get(),
        0,
        "a plan that does not name buggify never fires it"
    );
}

#[test]
fn a_site_is_on_or_off_for_a_whole_seed() {
    let mut on = 0;
    for seed in 0..64 {
        let fired = Rc::new(Cell::new(0));
        counting(seed, "buggify=0.5", fired.clone()).run().unwrap();
        if fired.get() > 0 {
            on += 1;
        }
    }
    assert!(
        (18..=46).contains(&on),
        "about half the seeds turn the site on: {on} of 64"
    );
}

/// A server-side rare path with a bug: when the fault point fires, the reply is wrong.
fn buggy(seed: u64) -> SimBuilder {
    SimBuilder::new(seed)
        .faults(FaultPlan::benign(0.05).with(FaultClass::Buggify, 0.5))
        .client("c", "10.0.0.1", || async {
            for i in 0..50u32 {
                let doubled = if doppel::buggify!(0.02) {
                    i * 2 + 1
                } else {
                    i * 2
                };
                if doubled != i * 2 {
                    return Err(io::Error::other(format!("the rare path doubled {i} wrong")));
                }
                doppel::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            Ok(())
        })
}

#[test]
fn a_bug_behind_a_fault_point_is_found_shrunk_to_it_and_replayed_alone() {
    let seed = (0..500)
        .find(|&s| matches!(buggy(s).run(), Err(SimError::Failed(_))))
        .expect("a failing seed");
    let shrunk = shrink(seed, buggy).expect("it shrinks");
    assert_eq!(shrunk.faults.len(), 1, "{:?}", shrunk.faults);
    assert_eq!(shrunk.faults[0].class, FaultClass::Buggify);
    let replay = buggy(seed).faults(shrunk.plan.clone()).run();
    match replay {
        Err(SimError::Failed(f)) => assert!(f.to_string().contains("doubled"), "{f}"),
        other => panic!("the replay fails the same way: {other:?}"),
    }
}

#[test]
fn outside_the_simulator_it_never_fires() {
    let rt = doppel::real::runtime().unwrap();
    let fired = rt.block_on(async { (0..10_000).filter(|_| doppel::buggify!(1.0)).count() });
    assert_eq!(fired, 0);
    assert!(!doppel::buggify!(1.0), "nor outside any runtime");
}
