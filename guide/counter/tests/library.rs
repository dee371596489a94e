//! The library under `#[doppel::test]`: the sweep, the shrinker and the determinism check,
//! called directly (the README's "The same as a library" runs here).

use doppel::sim::{FaultPlan, SimBuilder};

/// The world of `tests/sweep.rs`, under its plan.
fn world(seed: u64) -> SimBuilder {
    counter::world(seed).faults(FaultPlan::benign(0.05))
}

#[test]
fn explore_shrink_and_check_as_a_library() -> Result<(), Box<dyn std::error::Error>> {
    use doppel::sim::{check_determinism, Explore, Shrink};

    let sweep = Explore::new(0..1000).jobs(2).run(world)?; // a Sweep: counts, failing seeds, faults
    println!("{}", sweep.text(5)); // also serde: serde_json::to_string(&sweep)
    for failed in &sweep.failed {
        let shrunk = Shrink::new().run(failed.seed, world)?; // the 1-minimal set, and its report
        println!("DOPPEL_ONLY={}", shrunk.only());
    }
    let seven = check_determinism(7, world); // world(7) twice, compared: Ok(report), or why not

    assert_eq!(sweep.seeds_run, 1000);
    assert!(
        sweep.fired(doppel::sim::FaultClass::ShortWrite) > 0,
        "short writes fired"
    );
    if cfg!(feature = "lost-update") {
        assert!(
            seven.is_ok() || sweep.failed.iter().any(|f| f.seed == 7),
            "seed 7 fails alone only if it fails in the sweep"
        );
        assert!(
            !sweep.failed.is_empty(),
            "the planted lost update went unseen"
        );
    } else {
        assert!(sweep.passed(), "{}", sweep.text(5));
        assert_eq!(seven?.seed, 7);
    }
    Ok(())
}
