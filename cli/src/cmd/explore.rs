//! `explore`: a seed sweep through `doppel::sim::Explore` (the same sweep `#[doppel::test]`
//! runs), with an indicatif progress bar on a terminal, fault counts per class, a warning for
//! every enabled class that never fired, and each failing seed with the command that replays it
//! (each failing seed is run once more, so every failure reported is known to replay).
//! `--shard K/N` runs one slice of the range, so a sweep spreads over machines; `combine`
//! merges the shards' JSON reports.

use doppel_sim::explore::{Determinism, Explore, Progress};

use super::args::ExploreArgs;
use super::sweep::SweepReport;
use super::{plan_for, scenario, Exit, Usage};
use crate::Cli;

/// The most worker threads a sweep starts.
const MAX_JOBS: u64 = 1024;

/// `explore SCENARIO [--seeds A..B] [--jobs N] [--swarm] [--shard K/N] [--faults PLAN]
/// [--only FAULTS] [--json FILE] [--require-coverage] [--plateau N]`.
pub(crate) fn main(cli: &Cli, a: &ExploreArgs) -> Result<Exit, Usage> {
    let sc = scenario(cli, &a.scenario)?;
    let range = a.seeds.unwrap_or(sc.seeds);
    let shard = a.shard.unwrap_or(doppel_sim::Shard::WHOLE);
    let plan = plan_for(&sc, &a.plan, a.swarm);
    let seeds = range.shard(shard);
    let count = seeds.end - seeds.start;
    let jobs = jobs(a.jobs, count);
    sc.world_with(range.start, plan.clone())
        .build()
        .map_err(|e| Usage(format!("explore: {e}")))?;
    eprintln!(
        "explore {}: seeds {range} (shard {shard}: {}..{}), {jobs} jobs, faults {plan}",
        sc.name, seeds.start, seeds.end
    );
    let bar = indicatif::ProgressBar::new(count);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "[{bar:40}] {pos}/{len} seeds, {msg} ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("#>."),
    );
    let show = |p: Progress| {
        bar.set_position(p.done);
        bar.set_message(format!("{} failed", p.failed));
    };
    let world = |seed: u64| sc.world_with(seed, plan.clone());
    let mut explore = Explore::new(seeds.clone())
        .jobs(jobs as usize)
        .determinism(Determinism::FailingSeeds)
        .coverage_scope(sc.coverage_scope.clone())
        .require_coverage(a.require_coverage)
        .on_progress(&show);
    if let Some(n) = a.plateau {
        explore = explore.plateau(n);
    }
    let sweep = explore
        .run(world)
        .map_err(|e| Usage(format!("explore: {e}")))?;
    bar.finish_and_clear();
    let rate = sweep.seeds_run as f64 / sweep.wall_seconds.max(1e-9);
    eprintln!(
        "explore {}: {}/{} seeds, {} failed, {rate:.0} seeds/s",
        sc.name,
        sweep.seeds_run,
        count,
        sweep.failed.len()
    );
    let report = SweepReport::new(cli, &sc, &plan, range, shard, sweep);
    print!("{}", report.text(10));
    println!(
        "{} seeds in {:.2} s: {rate:.0} seeds/s with {jobs} jobs",
        report.seeds_run, report.wall_seconds
    );
    if let Some(path) = &a.json {
        report.write(path)?;
        println!("report: {}", path.display());
    }
    Ok(if report.passed() {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// The worker threads: `--jobs` (or one per core), never more than the seeds or
/// [`MAX_JOBS`]; saying so when it asked for more.
fn jobs(asked: Option<u64>, seeds: u64) -> u64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let cap = seeds.clamp(1, MAX_JOBS);
    match asked {
        Some(n) if n > cap => {
            eprintln!(
                "explore: --jobs {n} is more than {}; running {cap}",
                if cap == MAX_JOBS && seeds > MAX_JOBS {
                    format!("the {MAX_JOBS} threads a sweep starts at most")
                } else {
                    format!("the {seeds} seeds to run")
                }
            );
            cap
        }
        Some(n) => n,
        None => cores.min(cap),
    }
}
