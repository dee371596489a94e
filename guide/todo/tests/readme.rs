//! The README's "Your hyper, axum or tonic server on doppel", checked: every excerpt marked
//! `<!-- guide: PATH -->` is in that file, line for line (white space aside).

use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The section, up to the next heading of its level outside a code block.
fn section() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme
        .find("## Your hyper, axum or tonic server on doppel")
        .expect("the section");
    let mut fenced = false;
    let mut out = String::new();
    for (i, line) in readme[start..].lines().enumerate() {
        fenced ^= line.starts_with("```");
        if i > 0 && !fenced && line.starts_with("## ") {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The non-empty lines of `text`, runs of white space made one space.
fn trimmed<'a>(text: impl Iterator<Item = &'a str>) -> Vec<String> {
    text.map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn every_excerpt_is_in_the_crate() {
    let text = section();
    let mut lines = text.lines();
    let mut checked = 0;
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim().strip_prefix("<!-- guide:") else {
            continue;
        };
        let path = rest.trim_end_matches("-->").trim();
        assert!(
            lines.next().is_some_and(|f| f.starts_with("```")),
            "{path}: no code block"
        );
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        let want = trimmed(body.into_iter());
        let file = std::fs::read_to_string(root().join(path)).expect(path);
        let have = trimmed(file.lines());
        assert!(
            have.windows(want.len()).any(|w| w == want.as_slice()),
            "the README's excerpt of {path} is not in it:\n{}",
            want.join("\n")
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "the section's excerpts");
}
