//! Every built-in scenario spec, checked: each file in `scenarios/specs/` is built in and parses;
//! each correct scenario passes its first seeds (every seed run twice and compared) and a
//! loopback run; each buggy twin passes a loopback run, fails in the simulator within its first
//! 2,000 seeds with a fault counted, and the correct server passes that same world. Specs with
//! a `[server]` table run on a group of reactors in both places (simulated threads, and
//! `doppel::real::multi` on loopback), and the tests check that several reactors did serve.

use std::time::Duration;

use doppel::sim::{check_seeds, SimError};
use doppel_scenarios::run::{self, RealOutcome};
use doppel_scenarios::spec::{find, Spec, BUILTIN};
use doppel_scenarios::workload;

/// Every built-in spec, parsed.
fn specs() -> Vec<Spec> {
    BUILTIN
        .iter()
        .map(|(name, _)| find(name).unwrap_or_else(|e| panic!("{e}")))
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
        Spec::read(&path, workload::all()).unwrap_or_else(|e| panic!("{e}"));
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
        let out = loopback(&spec, 0);
        assert_eq!(out.failure(), None, "{} on loopback", spec.name);
    }
}

/// One loopback run of `variant` of `spec`'s workload, on the spec's reactors; on a group, the
/// group's `serve` must have admitted every client (it ran on `doppel::real::multi`).
fn loopback(spec: &Spec, variant: usize) -> RealOutcome {
    let limit = Duration::from_secs(60);
    let out = run::real_on(spec.workload, variant, &spec.load, limit, spec.server).unwrap();
    match (spec.server, out.group) {
        (None, None) => {}
        (Some(_), Some(g)) if variant == 0 => {
            assert!(
                g.admitted >= u64::from(spec.load.clients) && g.rejected == 0,
                "{}: {g:?}",
                spec.name
            );
        }
        (Some(_), Some(_)) => {}
        (want, got) => panic!("{}: server {want:?} but group stats {got:?}", spec.name),
    }
    out
}

#[test]
fn every_twin_passes_loopback_and_is_found_within_2000_seeds() {
    for spec in specs().into_iter().filter(|s| s.variant != 0) {
        let out = loopback(&spec, spec.variant);
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

#[test]
fn multi_reactor_specs_serve_on_every_sub_reactor_and_replay() {
    for name in ["echo-multi", "kv-multi"] {
        let spec = find(name).unwrap_or_else(|e| panic!("{e}"));
        let group = spec.server.expect("a [server] table");
        // Each seed twice, compared: the same run, event for event, with several reactors.
        check_seeds(0..5, |seed| spec.world(seed));
        let traced = spec.world(3).trace(true).run().expect("seed 3 passes");
        let lines = traced.trace.expect("a trace").lines();
        let on = |reactor: usize, what: &str| {
            let who = format!("server#{reactor} ");
            lines.iter().any(|l| l.contains(&who) && l.contains(what))
        };
        assert!(
            on(0, " net handoff "),
            "{name}: no hand-off on the main reactor"
        );
        assert!(
            !on(0, " net read "),
            "{name}: the main reactor served a connection"
        );
        for sub in 1..=group.sub_reactors {
            assert!(
                on(sub, " net read "),
                "{name}: sub-reactor {sub} served nothing"
            );
        }
    }
}

#[test]
fn server_table_errors_name_the_file_line_and_key() {
    let base = "workload = \"kv\"\n[server]\n";
    let cases = [
        (
            "sub_reactors = 0\n",
            "x.toml:3: server.sub_reactors: 0 is too small",
        ),
        (
            "workers = 65\n",
            "x.toml:3: server.workers: 65 is too large (expected 0 to 64)",
        ),
        (
            "max_connections = 0\n",
            "x.toml:3: server.max_connections: 0 is too small",
        ),
        (
            "worker_queue = 0\n",
            "x.toml:3: server.worker_queue: 0 is too small",
        ),
        (
            "placement = \"random\"\n",
            "x.toml:3: server.placement: \"random\": expected \"round-robin\" or \"least-loaded\"",
        ),
        ("threads = 2\n", "x.toml:3: server.threads: unknown field"),
        (
            "sub_reactors = \"two\"\n",
            "x.toml:3: server.sub_reactors: invalid type",
        ),
    ];
    for (line, want) in cases {
        let e =
            Spec::parse_with("x.toml", &format!("{base}{line}"), workload::all()).expect_err(line);
        assert!(e.to_string().starts_with(want), "{line}: {e}");
    }
    let ok = Spec::parse_with("x.toml", "workload = \"kv\"\n[server]\n", workload::all())
        .expect("defaults");
    assert_eq!(ok.server, Some(doppel::group::GroupConfig::default()));
    let none =
        Spec::parse_with("x.toml", "workload = \"kv\"\n", workload::all()).expect("no table");
    assert_eq!(none.server, None);
}

#[test]
fn every_number_out_of_its_range_is_an_error_naming_the_key() {
    let cases = [
        ("[load]\nmax_size = 1000000000000\n", "x.toml:3: load.max_size: 1000000000000 is too large (expected 1 to 16777216)"),
        ("[load]\nmax_size = 18446744073709551615\n", "x.toml:3"),
        ("[load]\nmax_size = 0\n", "x.toml:3: load.max_size: 0 is too small"),
        ("[load]\npipeline = 4294967295\n", "x.toml:3: load.pipeline: 4294967295 is too large (expected 1 to 1024)"),
        ("[load]\nclients = 100000\n", "x.toml:3: load.clients: 100000 is too large"),
        ("[load]\nrounds = 4294967295\n", "x.toml:3: load.rounds: 4294967295 is too large"),
        ("[load]\nreconnects = 4294967295\n", "x.toml:3: load.reconnects: 4294967295 is too large"),
        ("[load]\nclients = -1\n", "x.toml:3: load.clients: invalid value"),
        ("[network]\nwindow = 1000000000000\n", "x.toml:3: network.window: 1000000000000 is too large"),
        ("[network]\nbacklog = 70000\n", "x.toml:3: network.backlog: 70000 is too large"),
        ("[network]\nstrategy = \"pct:4294967295\"\n", "x.toml:3: network.strategy: \"pct:4294967295\": expected \"random\" or \"pct:DEPTH\" with DEPTH from 1 to 1000"),
        ("[network]\nlatency = \"9999999s\"\n", "x.toml:3: network.latency: 9999999s is too long (expected at most 1000000s)"),
        ("[faults]\nmax_eintr_streak = 4294967295\n", "x.toml:3: faults.max_eintr_streak: 4294967295 is too large (expected 1 to 1000)"),
        ("[faults]\nstall_max = \"99999999999s\"\n", "x.toml:3: faults.stall_max: \"99999999999s\" is too long"),
        ("time_limit = \"2000000s\"\n", "x.toml:2: time_limit: 2000000s is too long"),
        ("[server]\nmax_connections = 1000000000000\n", "x.toml:3: server.max_connections: 1000000000000 is too large"),
        ("[server]\nworker_queue = 1000000000000\n", "x.toml:3: server.worker_queue: 1000000000000 is too large"),
    ];
    for (body, want) in cases {
        let text = format!("workload = \"kv\"\n{body}");
        let e = Spec::parse_with("x.toml", &text, workload::all()).expect_err(body);
        assert!(e.to_string().starts_with(want), "{body}: {e}");
        assert_eq!(e.to_string().lines().count(), 1, "{body}: one line: {e}");
    }
}

#[test]
fn a_name_or_about_with_a_newline_stays_on_one_line() {
    let text = "name = \"two\\nlines\"\nabout = \"tab\\there\\r\"\nworkload = \"echo\"\n";
    let spec = Spec::parse_with("x.toml", text, workload::all()).expect("a valid spec");
    assert_eq!(spec.name, "two\\nlines");
    assert_eq!(spec.about, "tab\\there\\r");
}

#[test]
fn every_random_fault_class_is_a_spec_key_by_its_name() {
    // The keys come from the one fault class table, as the class names do.
    for class in doppel::sim::FaultClass::RANDOM {
        let text = format!("workload = \"echo\"\n[faults]\n{} = 0.25\n", class.name());
        let spec = Spec::parse_with("x.toml", &text, workload::all())
            .unwrap_or_else(|e| panic!("{class}: {e}"));
        assert_eq!(spec.faults.probability(class), 0.25, "{class}");
        let others = doppel::sim::FaultClass::RANDOM
            .into_iter()
            .filter(|c| *c != class)
            .all(|c| spec.faults.probability(c) == 0.0);
        assert!(others, "{class}: only its own class is set");
    }
}
