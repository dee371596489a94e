//! What the tests that type commands share: the workspace root they are typed in, and a shell
//! that runs one there, building into `target/nested` (so a nested cargo never waits on the
//! outer build's lock; the first run there compiles doppel once, later runs reuse it), without
//! this process's `DOPPEL_*` settings.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's root, where the printed commands are typed.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

/// The nested build's target folder.
pub fn nested_target() -> PathBuf {
    root().join("target").join("nested")
}

/// Runs `line` with `sh` in the workspace root.
pub fn shell(line: &str) -> Output {
    let mut c = Command::new("sh");
    c.arg("-c").arg(line).current_dir(root());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("DOPPEL_") || k == "RUST_BACKTRACE" {
            c.env_remove(&k);
        }
    }
    c.env("CARGO_TARGET_DIR", nested_target())
        .output()
        .expect("run sh")
}

/// Everything a command printed, stdout then stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
