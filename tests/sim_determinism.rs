//! Determinism: one seed gives one run, three times in one process and in two separate
//! processes (with a different working directory and environment); different seeds give
//! different runs; PCT and swarm mode replay exactly too.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use doppel::sim::{FaultPlan, Report, SimBuilder, Strategy};
use doppel_scenarios::echo::{self, ClientPlan};

/// A small world with every random fault class on.
fn world(seed: u64, strategy: Strategy, plan: FaultPlan) -> SimBuilder {
    let server: SocketAddr = "10.0.0.1:7000".parse().unwrap();
    let client_plan = ClientPlan {
        rounds: 30,
        max_size: 8192,
        reconnects: 100,
        deadline: Some(Duration::from_secs(1)),
    };
    let mut b = SimBuilder::new(seed)
        .faults(plan)
        .strategy(strategy)
        .jitter(Duration::from_micros(50))
        .host("server", "10.0.0.1", || {
            echo::bind_and_serve("0.0.0.0:7000")
        });
    for id in 0..4u64 {
        b = b.client(
            &format!("c{id}"),
            &format!("10.0.1.{}", id + 1),
            move || async move { echo::client(server, id, client_plan).await.map(drop) },
        );
    }
    b
}

fn run(seed: u64) -> Report {
    world(seed, Strategy::Random, FaultPlan::all(0.03))
        .run()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Everything a run reports that must repeat exactly.
fn fingerprint(r: &Report) -> (u64, Duration, u64, u64, String) {
    (r.hash, r.elapsed, r.steps, r.events, r.faults.to_string())
}

#[test]
fn the_same_seed_gives_the_same_run_three_times_in_one_process() {
    for seed in [0, 1, 99] {
        let a = fingerprint(&run(seed));
        assert_eq!(a, fingerprint(&run(seed)), "seed {seed}, second run");
        assert_eq!(a, fingerprint(&run(seed)), "seed {seed}, third run");
    }
}

#[test]
fn different_seeds_give_different_runs() {
    let hashes: std::collections::BTreeSet<u64> = (0..20).map(|s| run(s).hash).collect();
    assert_eq!(hashes.len(), 20, "20 seeds, 20 different runs");
}

#[test]
fn pct_and_swarm_replay_exactly() {
    for seed in [3, 4] {
        let pct = || {
            world(seed, Strategy::Pct { depth: 3 }, FaultPlan::all(0.03))
                .run()
                .unwrap()
        };
        assert_eq!(fingerprint(&pct()), fingerprint(&pct()));
        let swarm = || {
            world(seed, Strategy::Random, FaultPlan::swarm())
                .run()
                .unwrap()
        };
        let (a, b) = (swarm(), swarm());
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(
            a.plan, b.plan,
            "swarm resolves the same plan from the same seed"
        );
    }
    // A swarm seed may turn resets up high enough to exhaust a client's reconnects: the plan is
    // in the report either way.
    let plan = |seed| match world(seed, Strategy::Random, FaultPlan::swarm()).run() {
        Ok(r) => r.plan,
        Err(doppel::sim::SimError::Failed(f)) => f.report.plan,
        Err(e) => panic!("{e}"),
    };
    assert_ne!(plan(5), plan(6), "different seeds, different swarm plans");
}

/// Run by `the_same_seed_gives_the_same_run_in_two_processes` in a child process (and on its
/// own, checks a seed twice in this one).
#[test]
fn child_prints_its_hash() {
    let seed = std::env::var("DOPPEL_CHILD_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11);
    let hash = run(seed).hash;
    assert_eq!(hash, run(seed).hash);
    println!("child-hash={hash:016x}");
}

#[test]
fn the_same_seed_gives_the_same_run_in_two_processes() {
    let seed = 11u64;
    let here = run(seed).hash;
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args([
            "--exact",
            "child_prints_its_hash",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DOPPEL_CHILD_SEED", seed.to_string())
        .env("SOME_UNRELATED_VARIABLE", "differs in the child")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let theirs = stdout
        .lines()
        .find_map(|l| l.split_once("child-hash=").map(|(_, h)| h.trim()))
        .unwrap_or_else(|| panic!("the child printed no hash:\n{stdout}"));
    assert_eq!(
        theirs,
        format!("{here:016x}"),
        "the child process ran seed {seed} differently"
    );
}
