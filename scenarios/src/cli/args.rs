//! The command line, parsed by hand: positional arguments and `--flag [value]` options, each
//! command declaring which flags it takes and which of them take a value. A bad argument is a
//! [`Usage`] error: one line, exit status 2.

use std::path::PathBuf;

use doppel::sim::FaultName;

use crate::spec::{SeedRange, Shard};

/// A bad command line, with what was wrong (exit status 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage(pub String);

/// A flag a command accepts.
#[derive(Clone, Copy, Debug)]
pub struct Flag {
    /// Its name, with the dashes.
    pub name: &'static str,
    /// Whether it takes a value.
    pub value: bool,
}

/// A flag that takes a value.
pub const fn opt(name: &'static str) -> Flag {
    Flag { name, value: true }
}

/// A flag that is on or off.
pub const fn switch(name: &'static str) -> Flag {
    Flag { name, value: false }
}

/// A parsed command line.
#[derive(Clone, Debug, Default)]
pub struct Args {
    /// Positional arguments, in order.
    pub positional: Vec<String>,
    /// Flags given, with their values, in order.
    pub flags: Vec<(&'static str, Option<String>)>,
}

impl Args {
    /// Parses `argv` (after the command's name) against the flags `command` accepts.
    pub fn parse(command: &str, argv: &[String], accepted: &[Flag]) -> Result<Args, Usage> {
        let mut args = Args::default();
        let mut it = argv.iter();
        while let Some(a) = it.next() {
            if !a.starts_with("--") {
                args.positional.push(a.clone());
                continue;
            }
            let (name, inline) = match a.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (a.as_str(), None),
            };
            let Some(flag) = accepted.iter().find(|f| f.name == name) else {
                let known: Vec<&str> = accepted.iter().map(|f| f.name).collect();
                return Err(Usage(format!(
                    "{command}: unknown option {name} (it takes: {})",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                )));
            };
            let value = match (flag.value, inline) {
                (true, Some(v)) => Some(v),
                (true, None) => Some(
                    it.next()
                        .cloned()
                        .ok_or_else(|| Usage(format!("{command}: {name} needs a value")))?,
                ),
                (false, Some(_)) => return Err(Usage(format!("{command}: {name} takes no value"))),
                (false, None) => None,
            };
            if args.flags.iter().any(|(n, _)| *n == flag.name) {
                return Err(Usage(format!("{command}: {name} given twice")));
            }
            args.flags.push((flag.name, value));
        }
        Ok(args)
    }

    /// The value of `flag`, if given.
    pub fn value(&self, flag: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| *n == flag)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether the switch `flag` is on.
    pub fn on(&self, flag: &str) -> bool {
        self.flags.iter().any(|(n, _)| *n == flag)
    }

    /// Exactly one positional argument, `what`.
    pub fn one(&self, command: &str, what: &str) -> Result<&str, Usage> {
        match self.positional.as_slice() {
            [one] => Ok(one),
            [] => Err(Usage(format!("{command}: missing {what}"))),
            [_, extra, ..] => Err(Usage(format!("{command}: unexpected argument {extra:?}"))),
        }
    }

    /// `--seed N`, required.
    pub fn seed(&self, command: &str) -> Result<u64, Usage> {
        let v = self
            .value("--seed")
            .ok_or_else(|| Usage(format!("{command}: missing --seed N")))?;
        v.trim().parse().map_err(|_| {
            Usage(format!(
                "{command}: --seed {v:?}: expected an unsigned 64-bit seed such as 42"
            ))
        })
    }

    /// `--seeds A..B`, if given.
    pub fn seeds(&self, command: &str) -> Result<Option<SeedRange>, Usage> {
        self.value("--seeds")
            .map(|v| SeedRange::parse(v).map_err(|e| Usage(format!("{command}: --seeds: {e}"))))
            .transpose()
    }

    /// `--shard K/N`, or the whole range.
    pub fn shard(&self, command: &str) -> Result<Shard, Usage> {
        self.value("--shard").map_or(Ok(Shard::WHOLE), |v| {
            Shard::parse(v).map_err(|e| Usage(format!("{command}: --shard: {e}")))
        })
    }

    /// A positive count flag, or `default`.
    pub fn count(&self, command: &str, flag: &str, default: u64) -> Result<u64, Usage> {
        match self.value(flag) {
            None => Ok(default),
            Some(v) => v.trim().parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                Usage(format!(
                    "{command}: {flag} {v:?}: expected a number, at least 1"
                ))
            }),
        }
    }

    /// An output path flag, checked writable now so a long run cannot end in a failed write.
    pub fn out_path(&self, command: &str, flag: &str) -> Result<Option<PathBuf>, Usage> {
        let Some(v) = self.value(flag) else {
            return Ok(None);
        };
        let path = PathBuf::from(v);
        doppel::trace::check_writable(&path)
            .map_err(|e| Usage(format!("{command}: {flag} {v}: cannot write there: {e}")))?;
        Ok(Some(path))
    }

    /// `--only short-read@c0:49152/server:7000:4,...`: faults by name (`none`: no fault).
    pub fn only(&self, command: &str) -> Result<Option<Vec<FaultName>>, Usage> {
        let Some(v) = self.value("--only") else {
            return Ok(None);
        };
        FaultName::parse_list(v)
            .map(Some)
            .map_err(|e| Usage(format!("{command}: --only: {e}")))
    }
}
