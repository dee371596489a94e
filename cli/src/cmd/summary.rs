//! One run's summary, as text for people and as JSON for tools: the outcome, each client's
//! result, virtual time, steps, events, the faults injected and the run's hash, and the command
//! that replays it.

use doppel_sim::{FailureKind, FaultPlan, Outcome, Report, SimError};
use serde_json::{json, Value};

use super::replay_command;
use crate::scenario::Scenario;
use crate::Cli;

/// What one simulated run gives back: its report and, if it failed, why.
pub(crate) struct RunResult {
    /// The report (of the run so far, for a failure).
    pub(crate) report: Report,
    /// Why it failed, if it did.
    pub(crate) failure: Option<FailureKind>,
}

impl RunResult {
    /// From a run's result; a bad setup or a nondeterministic seed is not a run result.
    pub(crate) fn from(result: Result<Report, SimError>) -> Result<RunResult, SimError> {
        match result {
            Ok(report) => Ok(RunResult {
                report,
                failure: None,
            }),
            Err(SimError::Failed(f)) => Ok(RunResult {
                report: f.report,
                failure: Some(f.kind),
            }),
            Err(e) => Err(e),
        }
    }

    /// The failure as one line.
    pub(crate) fn why(&self) -> Option<String> {
        self.failure.as_ref().map(failure_line)
    }
}

/// A failure as one line (a stall lists its first blocked task).
pub(crate) fn failure_line(kind: &FailureKind) -> String {
    kind.line()
}

/// Seconds with nanosecond precision, as traces show time.
pub(crate) fn secs(d: std::time::Duration) -> String {
    format!("{}.{:09}s", d.as_secs(), d.subsec_nanos())
}

/// The run as text.
pub(crate) fn text(cli: &Cli, sc: &Scenario, plan: &FaultPlan, r: &RunResult) -> String {
    let rep = &r.report;
    let verdict = match r.why() {
        None => "passed".to_string(),
        Some(w) => format!("FAILED: {w}"),
    };
    let mut out = format!("{} ({}) seed {}: {verdict}\n", sc.name, sc.server, rep.seed);
    for (name, outcome) in &rep.clients {
        let o = match outcome {
            Outcome::Ok => "ok".to_string(),
            Outcome::Failed(e) => format!("failed: {e}"),
            Outcome::Unfinished => "unfinished".to_string(),
        };
        out.push_str(&format!("  {name}: {o}\n"));
    }
    if let Some(shape) = &sc.shape {
        out.push_str(&format!("  server: {shape}\n"));
    }
    out.push_str(&format!(
        "  virtual time {}, {} steps, {} network events, hash {:016x}\n  faults: {} (plan: {})\n",
        secs(rep.elapsed),
        rep.steps,
        rep.events,
        rep.hash,
        rep.faults,
        rep.plan
    ));
    out.push_str(&format!(
        "  replay: {}\n",
        replay_command(cli, sc, plan, rep.seed, rep.hash)
    ));
    out
}

/// The run as one JSON object.
pub(crate) fn json(cli: &Cli, sc: &Scenario, plan: &FaultPlan, r: &RunResult) -> Value {
    let rep = &r.report;
    let clients: Vec<Value> = rep
        .clients
        .iter()
        .map(|(n, o)| match o {
            Outcome::Ok => json!({"name": n, "outcome": "ok"}),
            Outcome::Failed(e) => json!({"name": n, "outcome": "failed", "error": e}),
            Outcome::Unfinished => json!({"name": n, "outcome": "unfinished"}),
        })
        .collect();
    let faults: serde_json::Map<String, Value> = rep
        .faults
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| (c.name().to_string(), json!(n)))
        .collect();
    json!({
        "scenario": sc.name,
        "server": sc.server,
        "shape": sc.shape,
        "seed": rep.seed,
        "passed": r.failure.is_none(),
        "failure": r.why(),
        "clients": clients,
        "virtual_ns": rep.elapsed.as_nanos() as u64,
        "steps": rep.steps,
        "network_events": rep.events,
        "hash": format!("{:016x}", rep.hash),
        "plan": rep.plan.to_string(),
        "faults": faults,
        "fired": rep.fired.iter().map(|f| json!({"id": f.id, "name": f.name().to_string(), "class": f.class.name(), "at_ns": f.at.as_nanos()})).collect::<Vec<_>>(),
        "replay": replay_command(cli, sc, plan, rep.seed, rep.hash),
    })
}
