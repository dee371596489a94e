//! `doppel explore`: a seed sweep over worker threads (each seed is its own world on one
//! thread, so the sweep's parallelism never reaches inside a run), a progress bar, fault
//! counts per class, a warning for every enabled class that never fired, and each failing
//! seed with the command that replays it. `--shard K/N` runs one slice of the range, so a
//! sweep spreads over machines; `doppel combine` merges the shards' JSON reports.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use doppel::sim::{FaultClass, FaultCounts, FaultPlan};

use super::args::{opt, switch, Args, Flag, Usage};
use super::summary::{failure_line, replay_command, RunResult};
use super::sweep::{FailedSeed, SweepReport};
use super::{plan_arg, spec_arg, Exit};
use crate::spec::Spec;

/// The flags `explore` takes.
const FLAGS: [Flag; 6] = [
    opt("--seeds"),
    opt("--jobs"),
    switch("--swarm"),
    opt("--shard"),
    opt("--faults"),
    opt("--json"),
];

/// What one worker found.
#[derive(Default)]
struct Partial {
    /// Faults fired.
    counts: FaultCounts,
    /// Failing seeds.
    failed: Vec<FailedSeed>,
    /// Sum of run hashes.
    digest: u64,
}

/// `doppel explore SPEC [--seeds A..B] [--jobs N] [--swarm] [--shard K/N] [--faults PLAN]
/// [--json FILE]`.
pub(crate) fn main(argv: &[String]) -> Result<Exit, Usage> {
    let args = Args::parse("explore", argv, &FLAGS)?;
    let spec = spec_arg("explore", &args)?;
    let range = args.seeds("explore")?.unwrap_or(spec.seeds);
    let shard = args.shard("explore")?;
    let default_jobs = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let jobs = args.count("explore", "--jobs", default_jobs)?;
    let plan = plan_arg("explore", &spec, &args)?;
    let json = args.out_path("explore", "--json")?;
    spec.world_with(range.start, plan.clone())
        .build()
        .map_err(|e| Usage(format!("explore: {e}")))?;
    let seeds = range.shard(shard);
    eprintln!(
        "explore {}: seeds {} (shard {shard}: {}..{}), {jobs} jobs, faults {plan}",
        spec.name, range, seeds.start, seeds.end
    );
    #[allow(clippy::disallowed_methods)] // The command's own speed report; no run sees it.
    let started = std::time::Instant::now();
    let partial = sweep(&spec, &plan, seeds.clone(), jobs as usize);
    let wall = started.elapsed().as_secs_f64();
    let report = report(
        &spec,
        &plan,
        [range.start, range.end],
        shard.of,
        seeds,
        partial,
        wall,
    );
    print!("{}", report.text(10));
    println!(
        "{} seeds in {wall:.2} s: {:.0} seeds/s with {jobs} jobs",
        report.seeds_run,
        report.seeds_run as f64 / wall.max(1e-9)
    );
    if let Some(path) = json {
        report.write(&path)?;
        println!("report: {}", path.display());
    }
    Ok(if report.failed.is_empty() {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// Runs every seed of `seeds` on `jobs` threads, showing progress on stderr.
fn sweep(spec: &Spec, plan: &FaultPlan, seeds: Range<u64>, jobs: usize) -> Partial {
    let next = AtomicU64::new(seeds.start);
    let done = AtomicU64::new(0);
    let failed = AtomicU64::new(0);
    let total = seeds.end - seeds.start;
    let parts: Vec<Partial> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs.max(1))
            .map(|_| s.spawn(|| worker(spec, plan, &seeds, &next, &done, &failed)))
            .collect();
        progress(total, &done, &failed);
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut all = Partial::default();
    for p in parts {
        all.counts.add(&p.counts);
        all.failed.extend(p.failed);
        all.digest = all.digest.wrapping_add(p.digest);
    }
    all
}

/// One worker: takes the next seed until none are left.
fn worker(
    spec: &Spec,
    plan: &FaultPlan,
    seeds: &Range<u64>,
    next: &AtomicU64,
    done: &AtomicU64,
    failed: &AtomicU64,
) -> Partial {
    let mut p = Partial::default();
    loop {
        let seed = next.fetch_add(1, Ordering::Relaxed);
        if seed >= seeds.end {
            return p;
        }
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            RunResult::from(spec.world_with(seed, plan.clone()).run())
        }));
        let Ok(result) = run else {
            failed.fetch_add(1, Ordering::Relaxed);
            let failure = "the run panicked (run it with doppel run to see the panic)".to_string();
            p.failed.push(FailedSeed {
                seed,
                hash: String::new(),
                failure,
                replay: String::new(),
            });
            done.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        match result {
            Ok(r) => {
                p.counts.add(&r.report.faults);
                p.digest = p.digest.wrapping_add(r.report.hash);
                if let Some(kind) = &r.failure {
                    failed.fetch_add(1, Ordering::Relaxed);
                    p.failed
                        .push(confirm(spec, plan, seed, r.report.hash, failure_line(kind)));
                }
            }
            Err(e) => {
                failed.fetch_add(1, Ordering::Relaxed);
                p.failed.push(FailedSeed {
                    seed,
                    hash: String::new(),
                    failure: e.to_string(),
                    replay: String::new(),
                });
            }
        }
        done.fetch_add(1, Ordering::Relaxed);
    }
}

/// A failing seed, run once more to confirm it fails the same way (the same hash).
fn confirm(spec: &Spec, plan: &FaultPlan, seed: u64, hash: u64, failure: String) -> FailedSeed {
    let again = spec.world_with(seed, plan.clone()).run();
    let same = match &again {
        Err(doppel::sim::SimError::Failed(f)) => f.report.hash == hash,
        _ => false,
    };
    let failure = if same {
        failure
    } else {
        format!("{failure} (NOT REPRODUCIBLE: a second run differed; something outside the seed leaks in)")
    };
    FailedSeed {
        seed,
        hash: format!("{hash:016x}"),
        failure,
        replay: replay_command(spec, plan, seed, hash),
    }
}

/// Draws a progress bar on stderr until every seed is done: redrawn in place on a terminal,
/// a line every few seconds otherwise.
fn progress(total: u64, done: &AtomicU64, failed: &AtomicU64) {
    let tty = std::io::stderr().is_terminal();
    #[allow(clippy::disallowed_methods)] // Progress display only.
    let start = std::time::Instant::now();
    let mut last_line = 0.0;
    loop {
        let d = done.load(Ordering::Relaxed);
        let t = start.elapsed().as_secs_f64();
        let finished = d >= total;
        if tty || finished || t - last_line >= 5.0 {
            let width = 40;
            let filled = (d * width / total.max(1)) as usize;
            let bar = format!(
                "{}{}",
                "#".repeat(filled),
                ".".repeat(width as usize - filled)
            );
            let line = format!(
                "[{bar}] {d}/{total} seeds, {} failed, {:.0} seeds/s",
                failed.load(Ordering::Relaxed),
                d as f64 / t.max(1e-9)
            );
            let mut err = std::io::stderr().lock();
            let _ = if tty {
                write!(err, "\r{line}")
            } else {
                writeln!(err, "{line}")
            };
            if tty && finished {
                let _ = writeln!(err);
            }
            last_line = t;
        }
        if finished {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(if tty { 100 } else { 50 }));
    }
}

/// The sweep's report.
fn report(
    spec: &Spec,
    plan: &FaultPlan,
    range: [u64; 2],
    shards: u64,
    seeds: Range<u64>,
    p: Partial,
    wall: f64,
) -> SweepReport {
    let faults: BTreeMap<String, u64> = p
        .counts
        .iter()
        .map(|(c, n)| (c.name().to_string(), n))
        .collect();
    let enabled: Vec<String> = FaultClass::ALL
        .into_iter()
        .filter(|c| plan.enabled(*c))
        .map(|c| c.name().to_string())
        .collect();
    let mut r = SweepReport {
        scenario: spec.name.clone(),
        source: spec.source.clone(),
        server: format!("{}/{}", spec.workload.name(), spec.variant_name()),
        plan: plan.to_string(),
        range,
        shards,
        covered: vec![[seeds.start, seeds.end]],
        seeds_run: seeds.end - seeds.start,
        failed: p.failed,
        faults,
        enabled,
        never_fired: Vec::new(),
        digest: format!("{:016x}", p.digest),
        wall_seconds: wall,
    };
    r.settle();
    r
}
