//! `doppel list`: the built-in scenarios and the workloads, one line each.

use super::args::{Args, Usage};
use super::Exit;
use crate::spec::{Spec, BUILTIN};
use crate::workload;

/// Prints the scenarios (name, workload/variant, what it shows) and the workloads (name,
/// variants, what it exercises).
pub(crate) fn main(argv: &[String]) -> Result<Exit, Usage> {
    let args = Args::parse("list", argv, &[])?;
    if let Some(extra) = args.positional.first() {
        return Err(Usage(format!("list: unexpected argument {extra:?}")));
    }
    let mut out = String::from("scenarios (doppel run NAME --seed N; doppel explore NAME):\n");
    for (name, _) in BUILTIN {
        let spec = Spec::find(name).map_err(|e| Usage(e.to_string()))?;
        let wv = format!("{}/{}", spec.workload.name(), spec.variant_name());
        out.push_str(&format!("  {name:<20} {wv:<20} {}\n", spec.about));
    }
    out.push_str("workloads (a spec's `workload`; its `variant` is one of those listed):\n");
    for w in workload::all() {
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
