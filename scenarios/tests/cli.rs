//! The `doppel` command, run as a user runs it: every subcommand's output and exit status, the
//! shards of a sweep combining into the whole, and bad input ending in exit status 2 with one
//! line and no file left behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `doppel` with `args`.
fn doppel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_doppel"))
        .args(args)
        .output()
        .expect("run the doppel binary")
}

/// Its stdout.
fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Its stderr.
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

#[test]
fn list_names_every_scenario_and_workload() {
    let o = doppel(&["list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for (name, _) in doppel_scenarios::spec::BUILTIN {
        assert!(out.contains(name), "{name} missing from:\n{out}");
    }
    for w in doppel_scenarios::workload::all() {
        assert!(out.contains(w.name()), "{} missing", w.name());
        for v in w.variants() {
            assert!(out.contains(v.name), "{} missing", v.name);
        }
    }
}

#[test]
fn run_prints_a_summary_and_writes_the_trace() {
    let dir = scratch("run");
    let trace = dir.join("run.trace");
    let o = doppel(&[
        "run",
        "echo",
        "--seed",
        "42",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("echo (echo/correct) seed 42: passed"), "{out}");
    assert!(
        out.contains("replay: doppel replay echo --seed 42 --hash "),
        "{out}"
    );
    let text = std::fs::read_to_string(&trace).expect("trace written");
    assert!(
        text.starts_with("# doppel trace backend=sim seed=42"),
        "{}",
        &text[..100]
    );
    assert!(text.lines().count() > 1000);
    // The same seed, the same summary.
    let again = doppel(&["run", "echo", "--seed", "42"]);
    assert_eq!(
        stdout(&again),
        out.replace(&format!("  trace: {}\n", trace.display()), "")
    );
    // JSON for tools.
    let j = doppel(&["run", "upper-framing", "--seed", "0", "--json"]);
    assert_eq!(j.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&j)).expect("one JSON object");
    assert_eq!(v["passed"], false);
    assert!(v["fired"].as_array().is_some_and(|f| !f.is_empty()));
}

#[test]
fn a_packed_trace_renders_to_what_the_text_trace_holds() {
    let dir = scratch("packed");
    let (text, packed) = (dir.join("run.trace"), dir.join("run.pk"));
    let t = doppel(&[
        "run",
        "kv",
        "--seed",
        "42",
        "--trace",
        text.to_str().unwrap(),
    ]);
    assert!(t.status.success(), "{}", stderr(&t));
    let p = doppel(&[
        "run",
        "kv",
        "--seed",
        "42",
        "--trace",
        packed.to_str().unwrap(),
        "--packed",
    ]);
    assert!(p.status.success(), "{}", stderr(&p));
    assert!(
        stdout(&p).contains(&format!(
            "trace: {} (packed: `doppel trace",
            packed.display()
        )),
        "{}",
        stdout(&p)
    );
    let whole = std::fs::read_to_string(&text).unwrap();
    let r = doppel(&["trace", packed.to_str().unwrap()]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(
        stdout(&r) == whole,
        "`doppel trace` differs from the text trace"
    );
    let rendered = dir.join("rendered.trace");
    let o = doppel(&[
        "trace",
        packed.to_str().unwrap(),
        "--out",
        rendered.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&rendered).unwrap() == whole);
    let j = doppel(&["trace", packed.to_str().unwrap(), "--json"]);
    let lines: Vec<serde_json::Value> = stdout(&j)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(
        lines.len(),
        whole.lines().count(),
        "a JSON line per text line"
    );
}

#[test]
fn a_failing_run_exits_1_with_its_replay_command() {
    let o = doppel(&["run", "upper-framing", "--seed", "0"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("FAILED: client"), "{out}");
    let replay = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: doppel "))
        .unwrap();
    let args: Vec<&str> = replay.split_whitespace().collect();
    let r = doppel(&args);
    assert_eq!(r.status.code(), Some(0), "{}", stdout(&r));
    assert!(
        stdout(&r).contains("matches the recorded one"),
        "{}",
        stdout(&r)
    );
}

#[test]
fn run_real_serves_the_workload_over_loopback() {
    let o = doppel(&["run", "upper", "--real"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("upper (upper/correct) on loopback: passed"));
    let o = doppel(&["run", "upper-short-write", "--real", "--repeat", "50"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("50 of 50 runs passed"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn explore_finds_failing_seeds_and_exits_1() {
    let dir = scratch("explore");
    let json = dir.join("sweep.json");
    let o = doppel(&[
        "explore",
        "upper-short-write",
        "--seeds",
        "0..300",
        "--jobs",
        "2",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("seeds run") && out.contains("FAILED"), "{out}");
    assert!(
        out.contains("replay: doppel replay upper-short-write --seed "),
        "{out}"
    );
    assert!(stderr(&o).contains("300/300 seeds"), "{}", stderr(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(r["failed"].as_array().is_some_and(|f| !f.is_empty()));
    assert!(r["faults"]["short-write"].as_u64().unwrap() > 0);
}

#[test]
fn explore_passes_a_correct_server_and_warns_of_classes_that_never_fired() {
    let o = doppel(&["explore", "echo-tiny", "--seeds", "0..2000", "--jobs", "2"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("2000 seeds run, 0 failed"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("warning"), "{}", stdout(&o));
    // A class that is on but never gets its chance proved nothing: say so.
    let o = doppel(&[
        "explore",
        "upper",
        "--seeds",
        "0..3",
        "--faults",
        "eintr=0.1,reset=0.000001",
    ]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("warning: fault class reset is enabled but never fired in 3 seeds"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn shards_combine_into_the_whole_sweep() {
    let dir = scratch("shards");
    let path = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let whole = doppel(&[
        "explore",
        "upper-framing",
        "--seeds",
        "0..100",
        "--json",
        &path("all.json"),
    ]);
    assert_eq!(whole.status.code(), Some(1));
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let o = doppel(&[
            "explore",
            "upper-framing",
            "--seeds",
            "0..100",
            "--shard",
            &shard,
            "--json",
            &path(&format!("s{k}.json")),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    }
    let c = doppel(&[
        "combine",
        &path("s1.json"),
        &path("s2.json"),
        &path("s3.json"),
        "--json",
        &path("c.json"),
    ]);
    assert_eq!(c.status.code(), Some(1), "{}", stderr(&c));
    let read = |n: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(n)).unwrap()).unwrap()
    };
    let (a, b) = (read("all.json"), read("c.json"));
    for key in ["seeds_run", "failed", "faults", "digest", "never_fired"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    // Overlapping or foreign shards are refused.
    let o = doppel(&["combine", &path("s1.json"), &path("s1.json")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("overlap"), "{}", stderr(&o));
    // A missing shard is reported.
    let o = doppel(&["combine", &path("s1.json"), &path("s3.json")]);
    assert!(
        stdout(&o).contains("were not run by any shard"),
        "{}",
        stdout(&o)
    );
}

/// An edit of a shard's JSON report.
type Forge = fn(&mut serde_json::Value);

#[test]
fn a_forged_report_is_refused_before_anything_is_merged() {
    let dir = scratch("forged");
    let path = |n: &str| dir.join(n).to_str().unwrap().to_string();
    for k in 1..=2 {
        let o = doppel(&[
            "explore",
            "upper-framing",
            "--seeds",
            "0..60",
            "--shard",
            &format!("{k}/2"),
            "--json",
            &path(&format!("s{k}.json")),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    }
    let s2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("s2.json")).unwrap()).unwrap();
    let forgeries: [(&str, Forge, &str); 5] = [
        (
            "digest",
            |v| v["digest"] = "not-hex-at-all!!".into(),
            "digest: \"not-hex-at-all!!\" is not 16 hex digits",
        ),
        (
            "count",
            |v| v["seeds_run"] = 1000.into(),
            "seeds_run is 1000 but the covered slices hold",
        ),
        (
            "seed",
            |v| v["failed"][0]["seed"] = 5000.into(),
            "failing seed 5000 is outside the covered slices",
        ),
        (
            "hash",
            |v| v["failed"][0]["hash"] = "zz".into(),
            "hash: \"zz\" is not 16 hex digits",
        ),
        (
            "class",
            |v| v["faults"]["gremlins"] = 3.into(),
            "fault class \"gremlins\"",
        ),
    ];
    for (name, forge, want) in forgeries {
        let mut v = s2.clone();
        forge(&mut v);
        let file = path(&format!("forged-{name}.json"));
        std::fs::write(&file, serde_json::to_string(&v).unwrap()).unwrap();
        let o = doppel(&["combine", &path("s1.json"), &file]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stdout(&o));
        assert!(stderr(&o).contains(want), "{name}: {}", stderr(&o));
        assert!(
            stdout(&o).is_empty(),
            "{name}: nothing merged: {}",
            stdout(&o)
        );
    }
}

#[test]
fn replay_checks_the_hash_and_shows_the_end_of_the_trace() {
    let o = doppel(&[
        "replay",
        "upper-framing",
        "--seed",
        "0",
        "--hash",
        "0123456789abcdef",
        "--tail",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("HASH MISMATCH: recorded 0123456789abcdef"),
        "{out}"
    );
    assert!(out.contains("replayed twice in this process"), "{out}");
    assert!(out.contains("last 5 of"), "{out}");
}

#[test]
fn shrink_finds_the_faults_that_matter_and_its_replay_fails_the_same_way() {
    let o = doppel(&["shrink", "accept-abort-fatal", "--seed", "1"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("shrunk "), "{out}");
    assert!(
        out.contains("accept-abort@server:7000/"),
        "the abort is what kills the loop:\n{out}"
    );
    let replay = out
        .lines()
        .find_map(|l| l.strip_prefix("replay it: doppel "))
        .unwrap();
    let args: Vec<&str> = replay.split_whitespace().collect();
    let r = doppel(&args);
    assert!(r.status.success(), "{}", stdout(&r));
    assert!(stdout(&r).contains("FAILED"), "{}", stdout(&r));
    assert!(
        stdout(&r).contains("matches the recorded one"),
        "{}",
        stdout(&r)
    );
    // A passing seed has nothing to shrink.
    let p = doppel(&["shrink", "echo-tiny", "--seed", "1"]);
    assert_eq!(p.status.code(), Some(1));
    assert!(stdout(&p).contains("passes: there is no failure to shrink"));
}

#[test]
fn the_race_between_reactors_is_explored_replayed_and_shrunk() {
    // The sweep finds the twin refusing a client with room to spare.
    let o = doppel(&["explore", "kv-admission-race", "--seeds", "0..40"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("max number of clients reached"), "{out}");
    let replay = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: doppel "))
        .unwrap();
    let args: Vec<&str> = replay.split_whitespace().collect();
    let r = doppel(&args);
    assert_eq!(r.status.code(), Some(0), "{}", stdout(&r));
    let replayed = stdout(&r);
    assert!(replayed.contains("FAILED"), "{replayed}");
    assert!(
        replayed.contains("server: main + 2 sub-reactors"),
        "{replayed}"
    );
    assert!(replayed.contains("matches the recorded one"), "{replayed}");
    // Seed 1 needs stalls (clients give up on stalled links and reconnect while the server
    // still holds their old connections) and the reactors' order; shrink keeps the stalls.
    let s = doppel(&["shrink", "kv-admission-race", "--seed", "1"]);
    assert!(s.status.success(), "{}{}", stdout(&s), stderr(&s));
    let shrunk = stdout(&s);
    assert!(shrunk.contains("shrunk "), "{shrunk}");
    assert!(shrunk.contains("  stall@"), "{shrunk}");
    let again = shrunk
        .lines()
        .find_map(|l| l.strip_prefix("replay it: doppel "))
        .unwrap();
    let args: Vec<&str> = again.split_whitespace().collect();
    let r = doppel(&args);
    assert!(
        stdout(&r).contains("max number of clients reached"),
        "{}",
        stdout(&r)
    );
    // On loopback nobody reconnects, and the twin passes.
    let l = doppel(&["run", "kv-admission-race", "--real", "--repeat", "20"]);
    assert!(l.status.success(), "{}", stdout(&l));
    assert!(
        stdout(&l).contains("20 of 20 runs passed"),
        "{}",
        stdout(&l)
    );
}

/// Bad command lines (`{dir}` is the scratch folder) and what their one line of error says.
const BAD: [(&str, &str); 35] = [
    ("run nosuch --seed 1", "no such scenario"),
    (
        "run {dir}/t.toml --seed 1",
        "t.toml:3: load.clients: invalid type",
    ),
    (
        "run {dir}/k.toml --seed 1",
        "k.toml:3: load.clientz: unknown field",
    ),
    (
        "run {dir}/w.toml --seed 1",
        "w.toml:1: workload: unknown workload \"echoo\"",
    ),
    (
        "run {dir}/s.toml --real",
        "s.toml:3: server.sub_reactors: 0 is too small (expected 1 to 64)",
    ),
    ("run {dir}/m.toml --seed 1", "m.toml:1:"),
    ("explore echo --seeds 10..3", "is reversed"),
    ("explore echo --seeds 3..3", "is empty"),
    (
        "explore echo --faults bogus=1",
        "unknown fault class \"bogus\"",
    ),
    ("explore echo --shard 4/3", "expected K/N"),
    (
        "explore echo-tiny --json /nonexistent/dir/x.json",
        "cannot write there",
    ),
    ("run echo --seed x", "expected an unsigned 64-bit seed"),
    (
        "run echo --seed 1 --frob",
        "unexpected argument '--frob' found",
    ),
    ("run echo --sed 1", "a similar argument exists: '--seed'"),
    ("replay echo --seed 1 --only foo", "fault \"foo\": no '@'"),
    (
        "combine {dir}/j.json --json {dir}/out.json",
        "not a doppel explore report",
    ),
    ("frob", "unrecognized subcommand 'frob'"),
    ("explor echo", "a similar subcommand exists: 'explore'"),
    (
        "explore echo-tiny --jobs 0",
        "expected a whole number, at least 1",
    ),
    (
        "explore echo-tiny --json {empty}",
        "an empty path names no file",
    ),
    (
        "explore echo-tiny --json {dir}/newdir/",
        "names a folder, not a file",
    ),
    ("explore echo-tiny --json {dir}", "Is a directory"),
    (
        "run echo",
        "the following required arguments were not provided: --seed <N>; see `doppel run --help`",
    ),
    (
        "run echo --seed 1 --trace {empty}",
        "an empty path names no file",
    ),
    (
        "explore echo-tiny --faults swarm=most",
        "swarm takes all or benign",
    ),
    ("run echo --real --seed 3", "cannot be used with"),
    (
        "run echo --seed 1 --packed",
        "required arguments were not provided: --trace <FILE>",
    ),
    ("trace {dir}/t.toml", "t.toml: not a packed doppel trace"),
    ("trace {dir}/absent.pk", "absent.pk: No such file"),
    (
        "trace {dir}/t.toml --out {dir}/out.json",
        "t.toml: not a packed doppel trace",
    ),
    ("serve htp", "serve: unknown workload \"htp\""),
    (
        "serve http --variant nope",
        "has no variant \"nope\" (known: correct, conn-age)",
    ),
    (
        "serve http --listen foo",
        "expected IP:PORT such as 127.0.0.1:8080",
    ),
    ("serve http --for 1x", "\"1x\" is not a duration"),
    (
        "serve http --listen 8.8.8.8:80",
        "serve: cannot listen on 8.8.8.8:80",
    ),
];

#[test]
fn bad_input_exits_2_with_one_line_and_leaves_no_file() {
    let dir = scratch("bad");
    for (name, text) in [
        (
            "t.toml",
            "workload = \"echo\"\n[load]\nclients = \"four\"\n",
        ),
        ("k.toml", "workload = \"echo\"\n[load]\nclientz = 4\n"),
        ("w.toml", "workload = \"echoo\"\n"),
        (
            "s.toml",
            "workload = \"echo\"\n[server]\nsub_reactors = 0\n",
        ),
        ("m.toml", "workload = \"echo\n"),
        ("j.json", "{not json"),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    for (line, want) in BAD {
        let line = line.replace("{dir}", dir.to_str().unwrap());
        let args: Vec<&str> = line
            .split_whitespace()
            .map(|a| if a == "{empty}" { "" } else { a })
            .collect();
        let o = doppel(&args);
        assert_eq!(o.status.code(), Some(2), "{line}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{line}: one line, got:\n{err}");
        assert!(err.contains(want), "{line}: wanted {want:?} in {err}");
    }
    assert!(!dir.join("out.json").exists(), "no partial output");
    let partial = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains("partial"));
    assert!(!partial, "a partial file was left behind");
}

#[test]
fn a_non_utf8_argument_is_one_line_and_exit_2() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"ech\xffo");
    let o = Command::new(env!("CARGO_BIN_EXE_doppel"))
        .args([
            std::ffi::OsStr::new("run"),
            bad,
            std::ffi::OsStr::new("--seed"),
            std::ffi::OsStr::new("1"),
        ])
        .output()
        .expect("run the doppel binary");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid UTF-8"), "{}", stderr(&o));
}

#[test]
fn a_sweep_at_the_top_of_the_seed_space_runs_exactly_its_seeds() {
    let o = doppel(&[
        "explore",
        "echo-tiny",
        "--seeds",
        "18446744073709551610..18446744073709551615",
        "--jobs",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("5 seeds run, 0 failed"),
        "{}",
        stdout(&o)
    );
    // More jobs than seeds: clamped, and said so.
    let o = doppel(&[
        "explore",
        "echo-tiny",
        "--seeds",
        "0..3",
        "--jobs",
        "100000",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--jobs 100000 is more than the 3 seeds to run; running 3"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn help_lists_the_verbs_and_each_verb_has_its_own() {
    let o = doppel(&["help"]);
    assert!(o.status.success());
    for verb in ["list", "run", "explore", "combine", "replay", "shrink"] {
        assert!(stdout(&o).contains(verb), "{verb}: {}", stdout(&o));
    }
    let o = doppel(&["run", "--help"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("--seed <N>"), "{}", stdout(&o));
}

#[test]
fn output_paths_that_are_not_regular_files_are_written_through_never_replaced() {
    let dir = scratch("through");
    let link = dir.join("sweep.json");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    let o = doppel(&[
        "explore",
        "echo-tiny",
        "--seeds",
        "0..5",
        "--json",
        link.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let o = doppel(&["run", "echo", "--seed", "3", "--trace", "/dev/stdout"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("# doppel trace backend=sim seed=3"),
        "the trace went to stdout:\n{}",
        stdout(&o)
    );
    // Standard output redirected to a file: the summary stays and the trace follows it.
    let out_path = dir.join("out.txt");
    let out = std::fs::File::create(&out_path).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_doppel"))
        .args(["run", "echo", "--seed", "3", "--trace", "/dev/stdout"])
        .stdout(out)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(
        text.contains("echo (echo/correct) seed 3: passed"),
        "{text}"
    );
    assert!(text.contains("# doppel trace backend=sim seed=3"), "{text}");
    std::fs::remove_file(&out_path).unwrap();
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(names.len(), 1, "nothing but the link: {names:?}");
}

#[test]
fn a_spec_name_with_a_newline_keeps_the_summary_on_one_line() {
    let dir = scratch("newline-name");
    let spec = dir.join("n.toml");
    std::fs::write(
        &spec,
        "name = \"two\\nlines\"\nworkload = \"echo\"\n[load]\nclients = 1\nrounds = 2\n",
    )
    .unwrap();
    let o = doppel(&["explore", spec.to_str().unwrap(), "--seeds", "0..3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("two\\nlines (echo/correct): 3 seeds run, 0 failed"),
        "{out}"
    );
}

#[test]
fn explore_requires_coverage_when_asked_and_stops_at_a_plateau() {
    // No resets in the plan: echo's `sometimes!` about a reset mid-round never holds.
    let quiet = [
        "explore",
        "echo-tiny",
        "--seeds",
        "0..200",
        "--jobs",
        "2",
        "--faults",
        "eintr=0.05",
    ];
    let o = doppel(&quiet);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let warned = stdout(&o);
    assert!(
        warned.contains("warning: sometimes!(\"echo: a reset hit a connection mid-round and the client reconnected\")")
            && warned.contains("never held"),
        "{warned}"
    );
    let o = doppel(&[&quiet[..], &["--require-coverage"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("coverage FAILED: 1 assertions not covered"));
    // With resets on, it holds, and the requirement is met.
    let o = doppel(&[
        "explore",
        "echo-tiny",
        "--seeds",
        "0..400",
        "--jobs",
        "2",
        "--require-coverage",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let json = scratch("plateau").join("sweep.json");
    let o = doppel(&[
        "explore",
        "echo-tiny",
        "--seeds",
        "0..100000",
        "--plateau",
        "200",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("coverage stopped growing"),
        "{}",
        stdout(&o)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let run = report["seeds_run"].as_u64().unwrap();
    assert!(
        run < 100_000 && report["plateau"].as_u64() == Some(run - 1),
        "{report}"
    );
    let o = doppel(&["explore", "echo-tiny", "--plateau", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn explore_finds_the_clock_skew_twin_and_passes_the_correct_lock_table() {
    let o = doppel(&["explore", "lock", "--jobs", "2", "--require-coverage"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("clock-skew="), "{}", stdout(&o));
    let o = doppel(&["explore", "lock-node-time", "--jobs", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("two holders of one lock"), "{out}");
    // Without clock skew the twin passes the same seeds: the skew is what breaks it.
    let o = doppel(&[
        "explore",
        "lock-node-time",
        "--jobs",
        "2",
        "--faults",
        "spurious=0.05,eintr-poll=0.05,eintr=0.05,short-read=0.05,short-write=0.05",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}
