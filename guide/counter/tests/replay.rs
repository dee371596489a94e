//! The whole story for a user's crate, run the way the user runs it: `cargo test` with the
//! planted lost update on finds failing seeds, shrinks one to the fault that matters, and
//! prints replay commands; each command, typed into a shell as printed, replays the seed in a
//! new process with the same hash. Then the crate's own `counter-sim` command finds, shrinks
//! and replays the same bug.
//!
//! The nested cargo builds into `target/nested` (see `common`).

mod common;

use std::path::PathBuf;

use common::{nested_target, root, shell, text};

/// The rest of the first line of `out` that contains `marker`, after it.
fn after<'a>(out: &'a str, marker: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.split_once(marker).map(|(_, rest)| rest.trim()))
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{out}"))
}

/// The hash in `(hash H` right after `seed N`.
fn hash_of(out: &str, seed: &str) -> String {
    let marker = format!("seed {seed} (hash ");
    after(out, &marker)
        .split(')')
        .next()
        .expect("a hash")
        .to_string()
}

#[test]
fn the_printed_commands_replay_the_planted_bug_in_a_new_process() {
    let sweep = shell("cargo test -q -p counter --features lost-update --test sweep");
    let out = text(&sweep);
    assert!(
        !sweep.status.success(),
        "the planted bug went unseen:\n{out}"
    );
    assert!(out.contains("of 200 seeds failed"), "{out}");
    assert!(out.contains("GET says 19"), "a lost increment:\n{out}");
    // The first failing seed, its hash, its replay command, and its shrunk faults.
    let first = after(&out, "seed ").split(' ').next().unwrap().to_string();
    let hash = hash_of(&out, &first);
    let replay = after(&out, "  replay: ").to_string();
    let shrunk = after(&out, "  shrunk: ").to_string();
    assert!(shrunk.contains("1-minimal"), "{shrunk}");
    assert!(
        out.contains("    short-write@server:7000/"),
        "a short write decides it:\n{out}"
    );
    assert!(
        out.contains(">>"),
        "the events around the decisive fault:\n{out}"
    );
    let trace = PathBuf::from(after(&out, "whole trace: "));
    assert!(trace.is_file(), "{}", trace.display());

    // The replay command, as printed: the same seed, the same hash, in this new process.
    assert!(
        replay.starts_with(&format!("DOPPEL_TEST=increments_add_up DOPPEL_SEED={first} cargo test -p counter --features lost-update --test sweep -- increments_add_up --exact")),
        "{replay}"
    );
    let again = text(&shell(&replay));
    assert!(again.contains("1 failed"), "it ran the one test:\n{again}");
    assert_eq!(hash_of(&again, &first), hash, "{again}");
    assert!(again.contains("replayed twice"), "{again}");

    // The library finds it too.
    let library = shell("cargo test -q -p counter --features lost-update --test library");
    assert!(library.status.success(), "{}", text(&library));

    // The shrunk run's command: only the kept faults fire, and it fails the same way.
    let shrunk_hash = shrunk
        .split_once("(hash ")
        .and_then(|(_, h)| h.split(';').next())
        .expect("the shrunk run's hash")
        .to_string();
    let shrunk_replay = after(&out, "replay the shrunk run: ").to_string();
    assert!(
        shrunk_replay.contains("DOPPEL_ONLY=short-write@"),
        "{shrunk_replay}"
    );
    let again = text(&shell(&shrunk_replay));
    assert_eq!(hash_of(&again, &first), shrunk_hash, "{again}");
    assert!(again.contains("GET says 19"), "{again}");
}

#[test]
fn the_crates_own_command_finds_shrinks_and_replays_it() {
    let build = shell("cargo build -q -p counter --features lost-update --bin counter-sim");
    assert!(build.status.success(), "{}", text(&build));
    let bin = nested_target().join("debug").join("counter-sim");
    let bin = bin.display();
    let explore = shell(&format!(
        "{bin} explore two-connections --seeds 0..200 --jobs 2"
    ));
    assert_eq!(explore.status.code(), Some(1), "{}", text(&explore));
    let out = text(&explore);
    let seed = after(&out, "seed ").split(' ').next().unwrap().to_string();
    let shrink = text(&shell(&format!(
        "{bin} shrink two-connections --seed {seed}"
    )));
    assert!(shrink.contains("  short-write@server:7000/"), "{shrink}");
    let replay = after(&shrink, "replay it: ").to_string();
    assert!(
        replay.starts_with("counter-sim replay two-connections"),
        "{replay}"
    );
    let again = shell(&format!("{bin}{}", &replay["counter-sim".len()..]));
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("matches the recorded one"),
        "{}",
        text(&again)
    );
    // The spec that names this crate's own workload runs too, from its path.
    let spec = root().join("guide/counter/specs/counter.toml");
    let run = shell(&format!("{bin} explore {} --seeds 0..100", spec.display()));
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(text(&run).contains("(counter/correct)"), "{}", text(&run));
}
