//! Where a test lives, as cargo names it, and the command that replays one of its seeds: the
//! package (`-p`), the target (`--lib`, `--test NAME`, `--bin NAME`, `--bench NAME`), the
//! profile (`--release`), the features, the test's path with `--exact`, and `--ignored` for an
//! ignored test. `#[doppel::test]` fills a [`Target`] in from the test crate's own compile-time
//! environment, so the command works as typed from anywhere in the workspace.

use std::path::Path;

/// Which kind of cargo target a test was compiled into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// The library's unit tests (`--lib`).
    Lib,
    /// An integration test or a bench (`--test NAME` or `--bench NAME`; which one is read off
    /// the package's folders).
    Test,
    /// A binary's unit tests (`--bin NAME`).
    Bin,
}

/// The test crate's compile-time facts the replay command needs.
#[derive(Clone, Debug)]
pub struct Target {
    /// `CARGO_PKG_NAME`.
    pub package: &'static str,
    /// `CARGO_MANIFEST_DIR`.
    pub manifest_dir: &'static str,
    /// `CARGO_CRATE_NAME` (the target's name with `-` made `_`).
    pub crate_name: &'static str,
    /// The kind of target.
    pub kind: TargetKind,
    /// `CARGO_BIN_NAME`, for a binary's unit tests.
    pub bin: Option<&'static str>,
    /// Whether it was built without debug assertions (`--release`).
    pub release: bool,
    /// The package's features enabled in this build, `default` aside.
    pub features: Vec<&'static str>,
    /// Whether the package has a `default` feature that this build left off
    /// (`--no-default-features`).
    pub no_default_features: bool,
}

impl Target {
    /// The target's flag: `--lib`, `--test NAME`, `--bin NAME` or `--bench NAME`.
    pub fn flag(&self) -> String {
        match self.kind {
            TargetKind::Lib => "--lib".into(),
            TargetKind::Bin => format!(
                "--bin {}",
                self.bin
                    .map_or_else(|| self.file_name(&["src/bin"]), str::to_string)
            ),
            TargetKind::Test => {
                let bench = self.file_name(&["benches"]);
                if found(self.manifest_dir, "benches", &bench) {
                    format!("--bench {bench}")
                } else {
                    format!("--test {}", self.file_name(&["tests"]))
                }
            }
        }
    }

    /// The target's name as cargo knows it: a file or folder in one of `dirs` whose name,
    /// with `-` made `_`, is the crate name (cargo makes `my-test` the crate `my_test`), or the
    /// crate name itself.
    fn file_name(&self, dirs: &[&str]) -> String {
        let wanted = self.crate_name;
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(Path::new(self.manifest_dir).join(dir)) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_suffix(".rs").unwrap_or(&name).to_string()
                })
                .filter(|n| n.replace('-', "_") == wanted)
                .collect();
            names.sort();
            if let Some(n) = names.into_iter().next() {
                return n;
            }
        }
        wanted.to_string()
    }

    /// The cargo options that select this build: package, profile, features, target.
    pub fn cargo_args(&self) -> String {
        let mut out = format!("-p {}", self.package);
        if self.release {
            out.push_str(" --release");
        }
        if self.no_default_features {
            out.push_str(" --no-default-features");
        }
        if !self.features.is_empty() {
            out.push_str(&format!(" --features {}", self.features.join(",")));
        }
        out.push(' ');
        out.push_str(&self.flag());
        out
    }
}

/// Whether `dir/name.rs` or `dir/name/` exists in the package.
fn found(manifest_dir: &str, dir: &str, name: &str) -> bool {
    let d = Path::new(manifest_dir).join(dir);
    d.join(format!("{name}.rs")).is_file() || d.join(name).join("main.rs").is_file()
}

/// The command that reruns test `path` of `target` with `env` set (`DOPPEL_SEED=3 ...`);
/// values a shell would split or expand are quoted.
pub fn replay_command(
    target: &Target,
    path: &str,
    ignored: bool,
    env: &[(&str, String)],
) -> String {
    let mut out = String::new();
    for (k, v) in env {
        out.push_str(&format!("{k}={} ", shell_word(v)));
    }
    out.push_str(&format!(
        "cargo test {} -- {path} --exact",
        target.cargo_args()
    ));
    if ignored {
        out.push_str(" --ignored");
    }
    out
}

/// `v` as one shell word: as it is when every character is safe, else in single quotes.
fn shell_word(v: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_#~-".contains(c);
    if !v.is_empty() && v.chars().all(safe) {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

/// The path libtest gives test `name` in module `module` (`module_path!()`): the module path
/// without the crate's own name, then the function.
pub fn test_path(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_, inner)) => format!("{inner}::{name}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kind: TargetKind) -> Target {
        Target {
            package: "counter",
            manifest_dir: "/nonexistent",
            crate_name: "lost_update",
            kind,
            bin: None,
            release: false,
            features: vec![],
            no_default_features: false,
        }
    }

    #[test]
    fn each_form_names_what_cargo_needs() {
        let env = [("DOPPEL_SEED", "3".to_string())];
        let t = target(TargetKind::Test);
        assert_eq!(
            replay_command(&t, "finds_it", false, &env),
            "DOPPEL_SEED=3 cargo test -p counter --test lost_update -- finds_it --exact"
        );
        let mut t = target(TargetKind::Lib);
        t.release = true;
        t.features = vec!["planted", "extra"];
        assert_eq!(
            replay_command(&t, "tests::finds_it", true, &[]),
            "cargo test -p counter --release --features planted,extra --lib -- tests::finds_it \
             --exact --ignored"
        );
        assert_eq!(test_path("counter::tests", "x"), "tests::x");
        let t = target(TargetKind::Test);
        let env = [("DOPPEL_FAULTS", "benign=0.05, reset=0".to_string())];
        let line = replay_command(&t, "x", false, &env);
        assert!(
            line.starts_with("DOPPEL_FAULTS='benign=0.05, reset=0' cargo"),
            "{line}"
        );
        assert_eq!(test_path("lost_update", "x"), "x");
    }
}
