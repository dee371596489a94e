//! Coverage: what the user's assertions (`always!`, `sometimes!`, `reachable!`) did in a run,
//! and over a sweep, measured against the binary's catalog of call sites, so a sweep can say
//! which interesting cases never happened; and the coverage points (assertions covered ×
//! fault classes fired) whose growth decides when a sweep has plateaued.

use std::collections::{BTreeMap, BTreeSet};

use doppel_core::assertion::{catalog, AssertKind, AssertSite};
use serde::{Deserialize, Serialize};

use crate::faults::FaultCounts;

/// What one assertion did: how often it ran, and how often its condition held.
#[derive(Clone, Copy, Debug)]
pub struct Tally {
    /// The first of its call sites that ran (where reports point).
    pub site: &'static AssertSite,
    /// Times it ran.
    pub reached: u64,
    /// Times its condition held (a `reachable!` holds whenever it runs).
    pub held: u64,
}

impl Tally {
    /// Whether it did what it promises a sweep: a `sometimes!` held, a `reachable!` or an
    /// `always!` ran.
    pub fn covered(&self) -> bool {
        match self.site.kind {
            AssertKind::Sometimes => self.held > 0,
            AssertKind::Always | AssertKind::Reachable => self.reached > 0,
        }
    }
}

/// The assertions of a run (or of many), by kind and name: what [`crate::Report::coverage`]
/// holds and a sweep adds up.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    tallies: BTreeMap<(AssertKind, &'static str), Tally>,
}

impl Coverage {
    /// Counts one evaluation of the assertion at `site`.
    pub(crate) fn record(&mut self, site: &'static AssertSite, held: bool) {
        let t = self.tallies.entry((site.kind, site.name)).or_insert(Tally {
            site,
            reached: 0,
            held: 0,
        });
        t.reached += 1;
        t.held += u64::from(held);
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &Coverage) {
        for (key, t) in &other.tallies {
            let mine = self.tallies.entry(*key).or_insert(Tally {
                site: t.site,
                reached: 0,
                held: 0,
            });
            mine.reached += t.reached;
            mine.held += t.held;
        }
    }

    /// The tally of the assertion of `kind` called `name`, if it ran.
    pub fn get(&self, kind: AssertKind, name: &str) -> Option<&Tally> {
        self.tallies
            .iter()
            .find(|((k, n), _)| *k == kind && *n == name)
            .map(|(_, t)| t)
    }

    /// Every assertion that ran, by kind and name.
    pub fn iter(&self) -> impl Iterator<Item = &Tally> {
        self.tallies.values()
    }

    /// Whether no assertion ran.
    pub fn is_empty(&self) -> bool {
        self.tallies.is_empty()
    }

    /// This run's coverage points: each assertion it covered, each fault class that fired,
    /// and each pair of the two.
    pub(crate) fn points(&self, faults: &FaultCounts, into: &mut BTreeSet<String>) {
        let covered: Vec<String> = self
            .iter()
            .filter(|t| t.covered())
            .map(|t| format!("{}!({:?})", t.site.kind.name(), t.site.name))
            .collect();
        let fired: Vec<&str> = faults
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(c, _)| c.name())
            .collect();
        for a in &covered {
            for c in &fired {
                into.insert(format!("{a} x {c}"));
            }
        }
        into.extend(covered);
        into.extend(fired.iter().map(|c| (*c).to_string()));
    }
}

/// One assertion over a sweep, as `doppel explore --json` writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionSummary {
    /// `always`, `sometimes` or `reachable`.
    pub kind: String,
    /// The name it was given.
    pub name: String,
    /// Where it is: `FILE:LINE:COLUMN`.
    pub at: String,
    /// Times it ran, over every seed.
    pub reached: u64,
    /// Times its condition held.
    pub held: u64,
    /// Whether it did what it promises (see [`Tally::covered`]).
    pub covered: bool,
}

/// Every assertion a sweep should have seen: those that ran, and the catalog's call sites in
/// `scope` (module prefixes; empty: the whole binary) that never did, sorted by kind and name.
pub(crate) fn summarize(seen: &Coverage, scope: &[String]) -> Vec<AssertionSummary> {
    let mut all: BTreeMap<(AssertKind, &'static str), AssertionSummary> = BTreeMap::new();
    for site in catalog().iter().filter(|s| in_scope(s.module, scope)) {
        all.entry((site.kind, site.name))
            .or_insert_with(|| summary(site, 0, 0, false));
    }
    for t in seen.iter() {
        all.insert(
            (t.site.kind, t.site.name),
            summary(t.site, t.reached, t.held, t.covered()),
        );
    }
    let mut list: Vec<AssertionSummary> = all.into_values().collect();
    list.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    list
}

fn summary(site: &AssertSite, reached: u64, held: u64, covered: bool) -> AssertionSummary {
    AssertionSummary {
        kind: site.kind.name().into(),
        name: site.name.into(),
        at: site.at(),
        reached,
        held,
        covered,
    }
}

/// Whether `module` is under one of the `scope` prefixes (an empty scope takes every module).
fn in_scope(module: &str, scope: &[String]) -> bool {
    scope.is_empty()
        || scope.iter().any(|p| {
            module == p
                || module
                    .strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.starts_with("::"))
        })
}

/// The coverage lines of a sweep's summary: how many assertions were covered, a warning for
/// each that was not, where a plateau stopped the sweep, and the verdict when coverage is
/// required (nothing at all for a sweep with no assertions and no plateau).
pub fn summary_lines(
    assertions: &[AssertionSummary],
    points: u64,
    plateau: Option<u64>,
    required: bool,
    seeds: u64,
) -> String {
    if assertions.is_empty() && plateau.is_none() {
        return String::new();
    }
    let covered = assertions.iter().filter(|a| a.covered).count();
    let mut out = format!(
        "coverage: {covered} of {} assertions covered; {points} coverage points (assertions x fault classes)\n",
        assertions.len(),
    );
    out.push_str(&gap_warnings(assertions, seeds));
    if let Some(at) = plateau {
        out.push_str(&format!(
            "coverage stopped growing: the sweep stopped at seed {at}, the last of a run of seeds that added no coverage point\n"
        ));
    }
    let gaps = assertions.len() - covered;
    if required && gaps > 0 {
        out.push_str(&format!(
            "coverage FAILED: {gaps} assertions not covered, and coverage is required\n"
        ));
    }
    out
}

/// Adds `more` into `into`, assertion by assertion (shards of one sweep, combined).
pub fn merge_summaries(into: &mut Vec<AssertionSummary>, more: &[AssertionSummary]) {
    for m in more {
        match into
            .iter_mut()
            .find(|a| a.kind == m.kind && a.name == m.name)
        {
            Some(a) => {
                a.reached += m.reached;
                a.held += m.held;
                a.covered |= m.covered;
            }
            None => into.push(m.clone()),
        }
    }
    into.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
}

/// A warning line for each assertion in `list` that was not covered over `seeds` seeds.
fn gap_warnings(list: &[AssertionSummary], seeds: u64) -> String {
    list.iter()
        .filter(|a| !a.covered)
        .map(|a| {
            let what = if a.kind == "sometimes" && a.reached > 0 {
                format!("ran {} times but never held", a.reached)
            } else if a.kind == "sometimes" {
                "never held (it never ran)".to_string()
            } else {
                "never ran".to_string()
            };
            format!(
                "warning: {}!({:?}) at {} {what} in {seeds} seeds\n",
                a.kind, a.name, a.at
            )
        })
        .collect()
}
