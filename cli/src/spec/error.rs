//! A spec error: which file, which line, which key, and what was expected. One line, so the
//! command can print it as is.

use std::fmt;

/// Something wrong with a scenario spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// The file (or the name the text came under).
    pub file: String,
    /// The line, from 1, when known.
    pub line: Option<usize>,
    /// The key, dotted (`load.clients`), when known.
    pub key: Option<String>,
    /// What was wrong and what is expected.
    pub message: String,
}

impl SpecError {
    /// An error at a byte offset of `text`.
    pub fn at(
        file: &str,
        text: &str,
        offset: Option<usize>,
        key: Option<String>,
        message: String,
    ) -> SpecError {
        SpecError {
            file: file.to_string(),
            line: offset.map(|o| line_of(text, o)),
            key: key.filter(|k| !k.is_empty() && k != "."),
            message,
        }
    }
}

/// The line (from 1) of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {k}")?;
        }
        // TOML's messages may span lines; one line is what a command prints.
        let msg: Vec<&str> = self
            .message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        write!(f, ": {}", msg.join(" "))
    }
}

impl std::error::Error for SpecError {}
