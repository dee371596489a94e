//! Every built-in scenario spec, checked: each file in `scenarios/specs/` is built in and parses;
//! each correct scenario passes its first seeds (every seed run twice and compared) and a
//! loopback run; each buggy twin passes a loopback run, fails in the simulator within its first
//! 2,000 seeds with a fault counted, and the correct server passes that same world.

use std::time::Duration;

use doppel::sim::{check_seeds, SimError};
use doppel_scenarios::run;
use doppel_scenarios::spec::{Spec, BUILTIN};

/// Every built-in spec, parsed.
fn specs() -> Vec<Spec> {
    BUILTIN
        .iter()
        .map(|(name, _)| Spec::find(name).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn every_spec_file_is_built_in() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    for entry in std::fs::read_dir(&dir).expect("scenarios/specs") {
        let path = entry.expect("entry").path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            BUILTIN.iter().any(|(n, _)| *n == stem),
            "{} is not in spec/builtin.rs",
            path.display()
        );
        Spec::read(&path).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(specs().len(), BUILTIN.len());
}

#[test]
fn correct_scenarios_pass_their_first_seeds_and_loopback() {
    for spec in specs().into_iter().filter(|s| s.variant == 0) {
        let reports = check_seeds(spec.seeds.start..spec.seeds.start + 20, |seed| {
            spec.world(seed)
        });
        let fired: u64 = reports.iter().map(|r| r.faults.total()).sum();
        assert!(fired > 0, "{}: no fault fired", spec.name);
        let out = run::real(spec.workload, 0, &spec.load, Duration::from_secs(60)).unwrap();
        assert_eq!(out.failure(), None, "{} on loopback", spec.name);
    }
}

#[test]
fn every_twin_passes_loopback_and_is_found_within_2000_seeds() {
    for spec in specs().into_iter().filter(|s| s.variant != 0) {
        let out = run::real(
            spec.workload,
            spec.variant,
            &spec.load,
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(out.failure(), None, "{} on loopback", spec.name);
        let found = (spec.seeds.start..spec.seeds.start + 2000).find_map(|seed| {
            match spec.world(seed).run() {
                Err(SimError::Failed(f)) => Some((seed, f)),
                _ => None,
            }
        });
        let (seed, f) = found.unwrap_or_else(|| panic!("{}: no failing seed in 2000", spec.name));
        assert!(
            f.report.faults.total() > 0,
            "{} seed {seed}: {f}",
            spec.name
        );
        let mut correct = spec.clone();
        correct.variant = 0;
        assert!(
            correct.world(seed).run().is_ok(),
            "{}: the correct server fails seed {seed} too",
            spec.name
        );
        println!("{}: first failing seed {seed}", spec.name);
    }
}
