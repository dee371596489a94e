//! The README's walkthrough, run: every `$ doppel ...` command between the `walkthrough`
//! markers runs, and every output line shown under it appears in what it prints (`...` stands
//! for lines left out, a line ending in `...` for a prefix, and the sweep's speed line varies).

use std::process::Command;

/// One command of the walkthrough and the output shown under it.
struct Step {
    /// The arguments after `doppel`.
    args: Vec<String>,
    /// The lines shown.
    shown: Vec<String>,
}

/// The walkthrough's commands.
fn steps() -> Vec<Step> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- walkthrough -->")
        .expect("walkthrough start marker");
    let end = readme
        .find("<!-- /walkthrough -->")
        .expect("walkthrough end marker");
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    for line in readme[start..end].lines() {
        if line.starts_with("```") {
            in_block = line == "```console";
            continue;
        }
        if !in_block {
            continue;
        }
        match line.strip_prefix("$ doppel ") {
            Some(cmd) => steps.push(Step {
                args: cmd.split_whitespace().map(str::to_string).collect(),
                shown: Vec::new(),
            }),
            None => steps
                .last_mut()
                .expect("output after a command")
                .shown
                .push(line.to_string()),
        }
    }
    steps
}

/// Whether the shown line `want` is in `got` (a `...` suffix makes it a prefix).
fn shown_in(want: &str, got: &str) -> bool {
    match want.strip_suffix("...") {
        Some(prefix) => got.lines().any(|l| l.starts_with(prefix)),
        None => got.lines().any(|l| l == want),
    }
}

#[test]
fn every_walkthrough_command_prints_what_the_readme_shows() {
    let steps = steps();
    assert!(steps.len() >= 5, "found {} commands", steps.len());
    for step in steps {
        let out = Command::new(env!("CARGO_BIN_EXE_doppel"))
            .args(&step.args)
            .output()
            .expect("run doppel");
        assert_ne!(out.status.code(), Some(2), "{:?}: bad input?", step.args);
        let got = String::from_utf8_lossy(&out.stdout);
        for want in &step.shown {
            if want.trim() == "..." || want.contains("seeds/s with") {
                continue;
            }
            assert!(
                shown_in(want, &got),
                "doppel {}: the README shows\n{want}\nbut it printed\n{got}",
                step.args.join(" ")
            );
        }
    }
}

#[test]
fn the_main_job_prints_what_the_readme_shows() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    assert!(readme.contains("cargo run --release -- run echo --seed 42 --trace run.trace"));
    let shown = readme
        .lines()
        .find(|l| l.trim_start().starts_with("virtual time ") && l.contains("hash "))
        .expect("the main job's summary line");
    let out = Command::new(env!("CARGO_BIN_EXE_doppel"))
        .args(["run", "echo", "--seed", "42"])
        .output()
        .expect("run doppel");
    let got = String::from_utf8_lossy(&out.stdout);
    assert!(
        got.lines().any(|l| l == shown),
        "README shows\n{shown}\nbut the run printed\n{got}"
    );
}
