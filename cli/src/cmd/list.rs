//! `list`: the scenarios (registered specs and worlds) and the workloads, one line each.

use super::{Exit, Usage};
use crate::Cli;

/// Prints the scenarios (name, server, what it shows) and the workloads (name, variants, what
/// it exercises).
pub(crate) fn main(cli: &Cli) -> Result<Exit, Usage> {
    let mut out = format!(
        "scenarios ({0} run NAME --seed N; {0} explore NAME):\n",
        cli.name
    );
    for name in cli.names() {
        let sc = cli.find(&name).map_err(Usage)?;
        out.push_str(&format!("  {name:<20} {:<20} {}\n", sc.server, sc.about));
    }
    if !cli.workloads.is_empty() {
        out.push_str("workloads (a spec's `workload`; its `variant` is one of those listed):\n");
    }
    for w in &cli.workloads {
        let variants: Vec<&str> = w.variants().iter().map(|v| v.name).collect();
        out.push_str(&format!("  {:<8} {}\n", w.name(), w.about()));
        out.push_str(&format!(
            "  {:<8}   variants: {}\n",
            "",
            variants.join(", ")
        ));
    }
    print!("{out}");
    Ok(Exit::Ok)
}
