//! A sweep's report: what ran (scenario, plan, the seed slices covered), what failed (each seed
//! with its failure, hash and replay command), and the faults fired per class. Shards of one
//! sweep write one report each; `doppel combine` checks they belong together and do not overlap,
//! and merges them into the report one machine would have written.

use std::collections::BTreeMap;

use doppel_sim::{FaultPlan, SeedRange, Shard, Sweep};
use serde::{Deserialize, Serialize};

use super::args::CombineArgs;
use super::{replay_command, Exit, Usage};
use crate::scenario::Scenario;
use crate::Cli;

/// One failing seed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct FailedSeed {
    pub(crate) seed: u64,
    /// The run's hash, hex.
    pub(crate) hash: String,
    /// What kind of failure (`client`, `stall`, `time-limit`, `livelock`, `assertion`, `liveness`, `nondeterministic`, `panic`).
    pub(crate) kind: String,
    /// Why it failed, one line.
    pub(crate) failure: String,
    /// The command that replays it.
    pub(crate) replay: String,
}

/// A sweep's (or a shard's) report.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct SweepReport {
    /// The scenario's name.
    pub(crate) scenario: String,
    /// Where the spec came from.
    pub(crate) source: String,
    /// `workload/variant`, or `world`.
    pub(crate) server: String,
    /// The fault plan, as `--faults` takes it.
    pub(crate) plan: String,
    /// The whole seed range of the sweep, `[start, end)`.
    pub(crate) range: [u64; 2],
    /// How many shards the range was cut into.
    pub(crate) shards: u64,
    /// The slices of the range this report covers, `[start, end)` each, sorted.
    pub(crate) covered: Vec<[u64; 2]>,
    pub(crate) seeds_run: u64,
    /// Failing seeds, in seed order.
    pub(crate) failed: Vec<FailedSeed>,
    /// Faults fired per class, over every seed.
    pub(crate) faults: BTreeMap<String, u64>,
    /// The classes the plan enables.
    pub(crate) enabled: Vec<String>,
    /// Enabled classes that never fired: they proved nothing.
    pub(crate) never_fired: Vec<String>,
    /// A digest of every seed's run hash (order-free): two sweeps of the same code agree.
    pub(crate) digest: String,
    /// Wall time, seconds (summed over shards when combined).
    pub(crate) wall_seconds: f64,
    /// The assertions the sweep checked, and what each did.
    #[serde(default)]
    pub(crate) assertions: Vec<doppel_sim::coverage::AssertionSummary>,
    /// Coverage points seen (in a combined report: the largest shard's; points are not
    /// summed).
    #[serde(default)]
    pub(crate) coverage_points: u64,
    /// The seed at which a coverage plateau stopped the sweep.
    #[serde(default)]
    pub(crate) plateau: Option<u64>,
    /// Whether an uncovered assertion fails the sweep (`--require-coverage`).
    #[serde(default)]
    pub(crate) coverage_required: bool,
}

impl SweepReport {
    /// The report of a sweep of `range`'s `shard` of `sc` under `plan`.
    pub(crate) fn new(
        cli: &Cli,
        sc: &Scenario,
        plan: &FaultPlan,
        range: SeedRange,
        shard: Shard,
        sweep: Sweep,
    ) -> SweepReport {
        let failed = sweep
            .failed
            .iter()
            .map(|f| {
                let hash = hex_digest(&f.hash).ok();
                FailedSeed {
                    seed: f.seed,
                    hash: f.hash.clone(),
                    kind: f.kind.clone(),
                    failure: f.failure.clone(),
                    replay: hash.map_or_else(
                        || {
                            format!(
                                "{} run {} --seed {}{}",
                                cli.name,
                                sc.reference,
                                f.seed,
                                super::plan_flags(sc, plan)
                            )
                        },
                        |h| replay_command(cli, sc, plan, f.seed, h),
                    ),
                }
            })
            .collect();
        let mut r = SweepReport {
            scenario: sc.name.clone(),
            source: sc.reference.clone(),
            server: sc.server.clone(),
            plan: plan.to_string(),
            range: [range.start, range.end],
            shards: shard.of,
            covered: vec![[sweep.range[0], sweep.range[0] + sweep.seeds_run]],
            seeds_run: sweep.seeds_run,
            failed,
            faults: sweep.faults,
            enabled: sweep.enabled,
            never_fired: Vec::new(),
            digest: sweep.digest,
            wall_seconds: sweep.wall_seconds,
            assertions: sweep.assertions,
            coverage_points: sweep.coverage_points,
            plateau: sweep.plateau,
            coverage_required: sweep.coverage_required,
        };
        r.settle();
        r
    }

    /// Recomputes `never_fired` from `enabled` and `faults`.
    pub(crate) fn settle(&mut self) {
        self.never_fired = doppel_sim::explore::never_fired(&self.enabled, &self.faults);
        self.failed.sort_by_key(|f| f.seed);
        self.covered.sort_unstable();
    }

    /// Whether no seed failed and, when coverage is required, every assertion was covered.
    pub(crate) fn passed(&self) -> bool {
        self.failed.is_empty() && !(self.coverage_required && self.gaps() > 0)
    }

    /// How many assertions were not covered.
    fn gaps(&self) -> usize {
        self.assertions.iter().filter(|a| !a.covered).count()
    }

    /// The part of the range no report covered, as slices.
    pub(crate) fn missing(&self) -> Vec<[u64; 2]> {
        let mut gaps = Vec::new();
        let mut at = self.range[0];
        for c in &self.covered {
            if c[0] > at {
                gaps.push([at, c[0]]);
            }
            at = at.max(c[1]);
        }
        if at < self.range[1] {
            gaps.push([at, self.range[1]]);
        }
        gaps
    }

    /// Checks that the report is one `explore` could have written: a 16-hex-digit digest, a
    /// plan and class names doppel reads, slices inside the range that do not overlap and
    /// count `seeds_run`, failing seeds inside them (each once, with a hex hash where it has
    /// one). A report edited by hand or cut short is refused before anything is merged; one
    /// forged consistently passes (only replaying its seeds would show it).
    pub(crate) fn validate(&self) -> Result<(), String> {
        hex_digest(&self.digest).map_err(|e| format!("digest: {e}"))?;
        self.plan
            .parse::<FaultPlan>()
            .map_err(|e| format!("plan {:?}: {}", self.plan, e.0))?;
        for class in self.faults.keys().chain(&self.enabled) {
            class
                .parse::<doppel_sim::FaultClass>()
                .map_err(|e| format!("fault class {class:?}: {}", e.0))?;
        }
        let [start, end] = self.range;
        if start > end || self.shards == 0 {
            return Err(format!(
                "range {start}..{end} in {} shards is no sweep",
                self.shards
            ));
        }
        let mut covered: u64 = 0;
        let mut last_end = start;
        for (i, c) in self.covered.iter().enumerate() {
            if c[0] > c[1] || c[0] < start || c[1] > end || (i > 0 && c[0] < last_end) {
                return Err(format!(
                    "covered slice {}..{} is reversed, outside {start}..{end} or overlaps another",
                    c[0], c[1]
                ));
            }
            last_end = c[1];
            covered += c[1] - c[0];
        }
        if covered != self.seeds_run {
            return Err(format!(
                "seeds_run is {} but the covered slices hold {covered} seeds",
                self.seeds_run
            ));
        }
        self.validate_failed()?;
        if !(self.wall_seconds.is_finite() && self.wall_seconds >= 0.0) {
            return Err(format!("wall_seconds {} is no duration", self.wall_seconds));
        }
        Ok(())
    }

    /// The failing seeds: each inside a covered slice, once, with a hex hash or none.
    fn validate_failed(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for f in &self.failed {
            if !self.covered.iter().any(|c| c[0] <= f.seed && f.seed < c[1]) {
                return Err(format!(
                    "failing seed {} is outside the covered slices",
                    f.seed
                ));
            }
            if !seen.insert(f.seed) {
                return Err(format!("failing seed {} is listed twice", f.seed));
            }
            if !f.hash.is_empty() {
                hex_digest(&f.hash).map_err(|e| format!("seed {}: hash: {e}", f.seed))?;
            }
        }
        Ok(())
    }

    /// Merges another shard of the same sweep into this one.
    pub(crate) fn merge(&mut self, other: SweepReport) -> Result<(), String> {
        let same = self.scenario == other.scenario
            && self.plan == other.plan
            && self.range == other.range
            && self.server == other.server;
        if !same {
            return Err(format!(
                "reports of different sweeps: {} {} seeds {}..{} vs {} {} seeds {}..{}",
                self.scenario,
                self.plan,
                self.range[0],
                self.range[1],
                other.scenario,
                other.plan,
                other.range[0],
                other.range[1]
            ));
        }
        for c in &other.covered {
            if let Some(o) = self.covered.iter().find(|s| s[0] < c[1] && c[0] < s[1]) {
                return Err(format!(
                    "shards overlap: seeds {}..{} are in both {}..{} and {}..{}",
                    c[0].max(o[0]),
                    c[1].min(o[1]),
                    o[0],
                    o[1],
                    c[0],
                    c[1]
                ));
            }
        }
        self.covered.extend(other.covered);
        self.seeds_run += other.seeds_run;
        self.failed.extend(other.failed);
        for (k, v) in other.faults {
            *self.faults.entry(k).or_insert(0) += v;
        }
        let a = hex_digest(&self.digest)?;
        let b = hex_digest(&other.digest)?;
        self.digest = format!("{:016x}", a.wrapping_add(b));
        self.wall_seconds += other.wall_seconds;
        doppel_sim::coverage::merge_summaries(&mut self.assertions, &other.assertions);
        self.coverage_points = self.coverage_points.max(other.coverage_points);
        self.plateau = self.plateau.max(other.plateau);
        self.coverage_required |= other.coverage_required;
        self.settle();
        Ok(())
    }

    /// The human summary: faults fired, warnings, failures.
    pub(crate) fn text(&self, show: usize) -> String {
        let mut out = format!(
            "{} ({}): {} seeds run, {} failed; faults fired: {}\n",
            self.scenario,
            self.server,
            self.seeds_run,
            self.failed.len(),
            doppel_sim::explore::fired_summary(&self.faults)
        );
        out.push_str(&doppel_sim::explore::never_fired_warnings(
            &self.never_fired,
            self.seeds_run,
        ));
        out.push_str(&doppel_sim::coverage::summary_lines(
            &self.assertions,
            self.coverage_points,
            self.plateau,
            self.coverage_required,
            self.seeds_run,
        ));
        // A plateau stops a sweep short on purpose; its unrun seeds are no shard's gap.
        let gaps = if self.plateau.is_some() {
            Vec::new()
        } else {
            self.missing()
        };
        for gap in gaps {
            out.push_str(&format!(
                "warning: seeds {}..{} were not run by any shard\n",
                gap[0], gap[1]
            ));
        }
        for f in self.failed.iter().take(show) {
            out.push_str(&format!(
                "seed {} FAILED: {}\n  replay: {}\n",
                f.seed, f.failure, f.replay
            ));
        }
        if self.failed.len() > show {
            out.push_str(&format!(
                "... and {} more failing seeds (all of them are in the JSON report)\n",
                self.failed.len() - show
            ));
        }
        out
    }

    /// Writes the report as pretty JSON, whole or not at all.
    pub(crate) fn write(&self, path: &std::path::Path) -> Result<(), Usage> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Usage(format!("report: {e}")))?;
        doppel_trace::write_output(path, text.as_bytes())
            .map_err(|e| Usage(format!("writing the report to {}: {e}", path.display())))
    }
}

/// A digest or hash as reports write them: exactly 16 hex digits.
fn hex_digest(text: &str) -> Result<u64, String> {
    let ok = text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
        .ok_or_else(|| format!("{text:?} is not 16 hex digits"))
}

/// `combine REPORT.json... [--json FILE]`: one report from a sweep's shards.
pub(crate) fn combine_main(a: &CombineArgs) -> Result<Exit, Usage> {
    let mut merged: Option<SweepReport> = None;
    for path in &a.reports {
        let p = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| Usage(format!("combine: {p}: {e}")))?;
        let r: SweepReport = serde_json::from_str(&text)
            .map_err(|e| Usage(format!("combine: {p}: not a doppel explore report ({e})")))?;
        r.validate()
            .map_err(|e| Usage(format!("combine: {p}: not a doppel explore report: {e}")))?;
        match &mut merged {
            None => merged = Some(r),
            Some(m) => m
                .merge(r)
                .map_err(|e| Usage(format!("combine: {p}: {e}")))?,
        }
    }
    let merged = merged.ok_or_else(|| Usage("combine: nothing to combine".into()))?;
    print!("{}", merged.text(10));
    if let Some(path) = &a.json {
        merged.write(path)?;
    }
    Ok(if merged.passed() {
        Exit::Ok
    } else {
        Exit::Failed
    })
}
