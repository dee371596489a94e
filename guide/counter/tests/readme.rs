//! The README's "Testing your own server", checked: every excerpt marked
//! `<!-- guide: PATH -->` is in that file (line for line, white space aside), and every command
//! in a block marked `<!-- guide-run -->` prints the lines shown under it, in order (`...`
//! alone skips lines, a line ending in `...` is a prefix, a line starting with `...` a suffix).
//! Commands run in the workspace root, building into `target/nested`.

mod common;

use common::{root, shell, text};

/// The README's section about testing your own server.
fn section() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme
        .find("## Testing your own server")
        .expect("the section");
    // Up to the next heading of its level outside a code block.
    let mut fenced = false;
    let mut out = String::new();
    for (i, line) in readme[start..].lines().enumerate() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        if i > 0 && !fenced && line.starts_with("## ") {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The marked code blocks: the marker's text and the block's lines.
fn blocks(marker: &str) -> Vec<(String, Vec<String>)> {
    let text = section();
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim().strip_prefix(marker) else {
            continue;
        };
        let arg = rest.trim_end_matches("-->").trim().to_string();
        let fence = lines.next().expect("a code block after the marker");
        assert!(fence.starts_with("```"), "{marker}{arg}: no code block");
        let body: Vec<String> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .map(str::to_string)
            .collect();
        out.push((arg, body));
    }
    out
}

/// The non-empty lines of `text`, with runs of white space made one space (so indentation and
/// the alignment of comments do not count).
fn trimmed<'a>(text: impl Iterator<Item = &'a str>) -> Vec<String> {
    text.map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn every_excerpt_is_in_the_crate() {
    let excerpts = blocks("<!-- guide:");
    assert!(excerpts.len() >= 5, "found {} excerpts", excerpts.len());
    for (path, body) in excerpts {
        let file = std::fs::read_to_string(root().join(&path)).expect(&path);
        let want = trimmed(body.iter().map(String::as_str));
        let have = trimmed(file.lines());
        let found = have.windows(want.len()).any(|w| w == want.as_slice());
        assert!(
            found,
            "the README's excerpt of {path} is not in it:\n{}",
            want.join("\n")
        );
    }
}

/// Whether the shown line `want` matches the printed line `got`.
fn matches(want: &str, got: &str) -> bool {
    if let Some(prefix) = want.strip_suffix("...") {
        got.starts_with(prefix)
    } else if let Some(suffix) = want.strip_prefix("...") {
        got.ends_with(suffix)
    } else {
        got == want
    }
}

/// Runs `command` as the README shows it, in the workspace root.
fn run(command: &str) -> String {
    text(&shell(command))
}

/// Checks that the lines `shown` appear in `printed`, in order.
fn check_in_order(command: &str, shown: &[String], printed: &str) {
    let got: Vec<&str> = printed.lines().collect();
    let mut at = 0;
    for want in shown.iter().filter(|w| w.trim() != "...") {
        match got[at..].iter().position(|g| matches(want, g)) {
            Some(i) => at += i + 1,
            None => panic!("{command}: the README shows\n{want}\nbut (after the lines before it) it printed\n{printed}"),
        }
    }
}

#[test]
fn every_command_prints_what_the_readme_shows() {
    let runs = blocks("<!-- guide-run");
    assert!(runs.len() >= 3, "found {} command blocks", runs.len());
    for (_, body) in runs {
        let mut commands: Vec<(String, Vec<String>)> = Vec::new();
        for line in body {
            match line.strip_prefix("$ ") {
                Some(cmd) => commands.push((cmd.to_string(), Vec::new())),
                None => commands.last_mut().expect("a command first").1.push(line),
            }
        }
        for (command, shown) in commands {
            check_in_order(&command, &shown, &run(&command));
        }
    }
}
