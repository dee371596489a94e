//! Every form of replay command `#[doppel::test]` prints works as typed: a library's unit
//! test (`--lib`), an integration test (`--test NAME`), an ignored test (`--ignored`), a
//! test in a nested module, a target whose name has a hyphen, another package of a workspace
//! (`-p`), and a release build with a feature (`--release --features`). Each is run in the
//! fixture workspace `tests/fixtures/replay-forms` (whose tests fail on purpose), and its
//! printed replay command is typed into a shell: it must run that one test, and replay the
//! seed with the same hash.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixture workspace.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay-forms")
}

/// A shell command run in the fixture workspace, building into `target/nested` (never
/// waiting on the outer build's lock), without this process's `DOPPEL_*` settings.
fn shell(line: &str) -> Output {
    let mut c = Command::new("sh");
    c.arg("-c").arg(line).current_dir(fixture());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("DOPPEL_") || k == "RUST_BACKTRACE" {
            c.env_remove(&k);
        }
    }
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/nested");
    c.env("CARGO_TARGET_DIR", target).output().expect("run sh")
}

/// Everything a command printed.
fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The rest of the first line of `out` after `marker`.
fn after<'a>(out: &'a str, marker: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.split_once(marker).map(|(_, rest)| rest.trim()))
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{out}"))
}

/// Runs `command`, which must fail seed 1 (of seeds 1 and 4); checks its replay command is
/// `want`, and that typing it replays seed 1 alone with the same hash.
fn check_form(command: &str, want: &str) {
    let first = shell(command);
    let out = text(&first);
    assert!(
        !first.status.success(),
        "{command}: the planted failure went unseen:\n{out}"
    );
    assert!(out.contains("2 of 6 seeds failed"), "{command}:\n{out}");
    let hash = after(&out, "seed 1 (hash ")
        .split(')')
        .next()
        .unwrap()
        .to_string();
    let replay = after(&out, "  replay: ");
    assert_eq!(replay, want, "{command}");
    let again = shell(replay);
    let got = text(&again);
    assert!(!again.status.success(), "{replay}: it passed:\n{got}");
    assert!(
        got.contains("0 passed; 1 failed"),
        "{replay}: exactly the one test should run:\n{got}"
    );
    assert!(
        got.contains(&format!(
            "seed 1 (hash {hash}) failed: client client failed: planted failure at seed 1"
        )),
        "{replay}: the same seed, the same hash:\n{got}"
    );
}

#[test]
fn every_replay_command_form_works_as_typed() {
    let forms = [
        (
            "cargo test -q -p forms --lib",
            "DOPPEL_TEST=tests::unit_form DOPPEL_SEED=1 cargo test -p forms --lib -- tests::unit_form --exact",
        ),
        (
            "cargo test -q -p forms --test it -- integration_form",
            "DOPPEL_TEST=integration_form DOPPEL_SEED=1 cargo test -p forms --test it -- integration_form --exact",
        ),
        (
            "cargo test -q -p forms --test it -- --ignored ignored_form",
            "DOPPEL_TEST=ignored_form DOPPEL_SEED=1 cargo test -p forms --test it -- ignored_form --exact --ignored",
        ),
        (
            "cargo test -q -p forms --test it -- inner::nested_form",
            "DOPPEL_TEST=inner::nested_form DOPPEL_SEED=1 cargo test -p forms --test it -- inner::nested_form --exact",
        ),
        (
            "cargo test -q -p forms --test my-form",
            "DOPPEL_TEST=hyphenated_form DOPPEL_SEED=1 cargo test -p forms --test my-form -- hyphenated_form --exact",
        ),
        (
            "cargo test -q -p forms-other --test other",
            "DOPPEL_TEST=other_package_form DOPPEL_SEED=1 cargo test -p forms-other --test other -- other_package_form --exact",
        ),
        (
            "cargo test -q --release -p forms --features extra --test it -- integration_form",
            "DOPPEL_TEST=integration_form DOPPEL_SEED=1 cargo test -p forms --release --features extra --test it -- integration_form --exact",
        ),
    ];
    for (command, want) in forms {
        check_form(command, want);
    }
}

#[test]
fn doppel_seed_reaches_only_the_test_doppel_test_names() {
    // Both tests of the binary run; only the named one replays seed 1 alone: the other sweeps
    // all six seeds, so it reports two failures.
    let o = shell(
        "DOPPEL_TEST=integration_form DOPPEL_SEED=1 cargo test -q -p forms --test it -- integration_form nested_form",
    );
    let out = text(&o);
    assert!(
        out.contains("doppel: integration_form seed 1 (hash "),
        "{out}"
    );
    assert!(
        out.contains("doppel: inner::nested_form: seeds 0..6"),
        "{out}"
    );
    assert!(out.contains("2 of 6 seeds failed"), "{out}");
}
