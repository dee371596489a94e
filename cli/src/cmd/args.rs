//! The command line, declared with clap: the verbs, their flags, and a value parser for each
//! kind of value (seed, seed range, shard, fault plan, fault names, count, output path), so a
//! bad value is refused with one line naming the flag before any work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use doppel_sim::{FaultName, FaultPlan, SeedRange, Shard};

/// The command line.
#[derive(Debug, Parser)]
#[command(
    about = "Run, sweep, replay and shrink simulated scenarios: built-in ones, this binary's own, or TOML specs.",
    arg_required_else_help = true,
    disable_version_flag = true,
    after_help = "SCENARIO is a scenario's name (see `list`) or a path to a .toml spec. PLAN is a fault plan \
                  (none, all=P, benign=P, swarm, swarm=benign, CLASS=P,...). FAULTS names faults as a failure \
                  prints them (short-read@c0:49152/server:7000:4,...)."
)]
pub(crate) struct Line {
    /// What to do.
    #[command(subcommand)]
    pub(crate) verb: Verb,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum Verb {
    /// The scenarios and workloads, one line each.
    List,
    /// One seeded run in the simulator, or the workload on loopback with --real.
    Run(RunArgs),
    /// A seed sweep; exit status 1 when any seed fails.
    Explore(ExploreArgs),
    /// One report from the JSON reports of a sweep's shards.
    Combine(CombineArgs),
    /// The same run again, twice, traced, its hash checked.
    Replay(ReplayArgs),
    /// The smallest set of injected faults with which the seed still fails the same way.
    Shrink(ShrinkArgs),
    /// A workload's server alone on the real backend, for outside clients (curl, grpcio, wrk).
    Serve(ServeArgs),
    /// A packed trace (`run --trace FILE --packed`) rendered as text or JSON lines.
    Trace(TraceArgs),
}

/// The fault options several verbs share.
#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Run under this fault plan instead of the scenario's (its partitions and crashes stay).
    #[arg(long, value_name = "PLAN", value_parser = plan)]
    pub(crate) faults: Option<FaultPlan>,
    /// Let only these faults fire (`none`: none at all).
    #[arg(long, value_name = "FAULTS", value_parser = names)]
    pub(crate) only: Option<FaultList>,
}

/// Fault names, as one `--only` value (a comma list).
#[derive(Clone, Debug)]
pub(crate) struct FaultList(pub(crate) Vec<FaultName>);

/// `run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A built-in scenario (`doppel list`) or a spec file's path.
    pub(crate) scenario: String,
    /// The seed (required unless --real).
    #[arg(long, value_name = "N", value_parser = seed, required_unless_present = "real")]
    pub(crate) seed: Option<u64>,
    /// Write the whole trace here.
    #[arg(long, value_name = "FILE", value_parser = out_path)]
    pub(crate) trace: Option<PathBuf>,
    /// Print the summary (and write the trace) as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Write the trace packed, as the collector encodes it, not rendered as the run goes: a
    /// fraction of the cost; read it with `trace FILE`.
    #[arg(long, requires = "trace", conflicts_with_all = ["real", "json"])]
    pub(crate) packed: bool,
    /// Run the workload on the real backend over 127.0.0.1 instead.
    #[arg(long, conflicts_with_all = ["seed", "faults", "only"])]
    pub(crate) real: bool,
    /// With --real: run it this many times, stopping at the first failure.
    #[arg(long, value_name = "N", value_parser = count, requires = "real", conflicts_with_all = ["trace", "json"])]
    pub(crate) repeat: Option<u64>,
    /// Faults.
    #[command(flatten)]
    pub(crate) plan: PlanArgs,
}

/// `trace`.
#[derive(Debug, Args)]
pub(crate) struct TraceArgs {
    /// The packed trace file.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Render JSON lines instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    /// Write the rendered trace here instead of to standard output.
    #[arg(long, value_name = "FILE", value_parser = out_path)]
    pub(crate) out: Option<PathBuf>,
}

/// `explore`.
#[derive(Debug, Args)]
pub(crate) struct ExploreArgs {
    /// A built-in scenario (`doppel list`) or a spec file's path.
    pub(crate) scenario: String,
    /// The seeds (A..B, A..=B or N; default: the scenario's).
    #[arg(long, value_name = "RANGE", value_parser = seeds)]
    pub(crate) seeds: Option<SeedRange>,
    /// Worker threads (default: one per core; never more than seeds).
    #[arg(long, value_name = "N", value_parser = count)]
    pub(crate) jobs: Option<u64>,
    /// Swarm mode: each seed chooses which random fault classes are on.
    #[arg(long)]
    pub(crate) swarm: bool,
    /// Run slice K of N of the range (combine the shards' reports with `combine`).
    #[arg(long, value_name = "K/N", value_parser = shard)]
    pub(crate) shard: Option<Shard>,
    /// Write the sweep's report as JSON here.
    #[arg(long, value_name = "FILE", value_parser = out_path)]
    pub(crate) json: Option<PathBuf>,
    /// Fail (exit 1) when a `sometimes!` never held or a `reachable!`/`always!` never ran.
    #[arg(long)]
    pub(crate) require_coverage: bool,
    /// Stop once N seeds in a row add no coverage point (an assertion covered, a fault class
    /// fired, or a pair of the two not seen before).
    #[arg(long, value_name = "N", value_parser = count)]
    pub(crate) plateau: Option<u64>,
    /// Faults.
    #[command(flatten)]
    pub(crate) plan: PlanArgs,
}

/// `combine`.
#[derive(Debug, Args)]
pub(crate) struct CombineArgs {
    /// The shards' JSON reports.
    #[arg(required = true, value_name = "REPORT.json")]
    pub(crate) reports: Vec<PathBuf>,
    /// Write the combined report here.
    #[arg(long, value_name = "FILE", value_parser = out_path)]
    pub(crate) json: Option<PathBuf>,
}

/// `replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// A built-in scenario (`doppel list`) or a spec file's path.
    pub(crate) scenario: String,
    /// The seed.
    #[arg(long, value_name = "N", value_parser = seed)]
    pub(crate) seed: u64,
    /// The hash the failing run printed: the replay must match it.
    #[arg(long, value_name = "H", value_parser = hash)]
    pub(crate) hash: Option<u64>,
    /// How many events to show.
    #[arg(long, value_name = "N", value_parser = count, default_value = "40")]
    pub(crate) tail: u64,
    /// Show the events around this fault instead of the last ones.
    #[arg(long, value_name = "FAULT", value_parser = name)]
    pub(crate) around: Option<FaultName>,
    /// Write the whole trace here.
    #[arg(long, value_name = "FILE", value_parser = out_path)]
    pub(crate) trace: Option<PathBuf>,
    /// Write the trace as JSON lines.
    #[arg(long)]
    pub(crate) json: bool,
    /// Faults.
    #[command(flatten)]
    pub(crate) plan: PlanArgs,
}

/// `shrink`.
#[derive(Debug, Args)]
pub(crate) struct ShrinkArgs {
    /// A built-in scenario (`doppel list`) or a spec file's path.
    pub(crate) scenario: String,
    /// The failing seed.
    #[arg(long, value_name = "N", value_parser = seed)]
    pub(crate) seed: u64,
    /// Faults.
    #[command(flatten)]
    pub(crate) plan: PlanArgs,
}

/// `serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The workload (see `list`).
    pub(crate) workload: String,
    /// The server variant (default: correct).
    #[arg(long, value_name = "NAME")]
    pub(crate) variant: Option<String>,
    /// Where to listen, IP:PORT (default: 127.0.0.1 and the workload's port; port 0 picks one).
    #[arg(long, value_name = "ADDR", value_parser = listen)]
    pub(crate) listen: Option<std::net::SocketAddr>,
    /// Stop after this long (default: serve until stopped).
    #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
    pub(crate) time: Option<std::time::Duration>,
}

/// `--listen`.
fn listen(v: &str) -> Result<std::net::SocketAddr, String> {
    v.trim()
        .parse()
        .map_err(|_| "expected IP:PORT such as 127.0.0.1:8080".to_string())
}

/// `--for`.
fn duration(v: &str) -> Result<std::time::Duration, String> {
    crate::spec::duration::parse(v)
}

/// `--seed`.
fn seed(v: &str) -> Result<u64, String> {
    v.trim()
        .parse()
        .map_err(|_| "expected an unsigned 64-bit seed such as 42".to_string())
}

/// `--seeds`.
fn seeds(v: &str) -> Result<SeedRange, String> {
    SeedRange::parse(v)
}

/// `--shard`.
fn shard(v: &str) -> Result<Shard, String> {
    Shard::parse(v)
}

/// `--faults`.
fn plan(v: &str) -> Result<FaultPlan, String> {
    v.parse().map_err(|e: doppel_sim::faults::FaultError| e.0)
}

/// `--only`.
fn names(v: &str) -> Result<FaultList, String> {
    FaultName::parse_list(v).map(FaultList).map_err(|e| e.0)
}

/// `--around`.
fn name(v: &str) -> Result<FaultName, String> {
    v.parse().map_err(|e: doppel_sim::faults::FaultError| e.0)
}

/// `--hash`.
fn hash(v: &str) -> Result<u64, String> {
    u64::from_str_radix(v.trim(), 16)
        .map_err(|_| "expected the 16 hex digits a run printed".to_string())
}

/// A count: a whole number, at least 1.
fn count(v: &str) -> Result<u64, String> {
    v.trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| "expected a whole number, at least 1".to_string())
}

/// An output file: not empty, not a folder, in a folder that exists and takes a new file.
fn out_path(v: &str) -> Result<PathBuf, String> {
    if v.is_empty() {
        return Err("an empty path names no file".into());
    }
    if v.ends_with('/') || v.ends_with(std::path::MAIN_SEPARATOR) {
        return Err("names a folder, not a file".into());
    }
    let path = PathBuf::from(v);
    doppel_trace::check_writable(&path).map_err(|e| format!("cannot write there: {e}"))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Line::command().debug_assert();
    }
}
