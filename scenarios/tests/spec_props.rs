//! Property tests of the spec parser: no text, however mangled, makes it panic, and every
//! error it gives is one line that names the file and a line (and the key, where one is to
//! blame). The inputs are the built-in specs with random edits: bytes changed, lines dropped,
//! numbers replaced by any integer (huge, negative, zero), values swapped between keys.

use doppel_scenarios::spec::{Spec, BUILTIN};
use doppel_scenarios::workload;
use proptest::prelude::*;

/// One edit of a spec's text.
#[derive(Clone, Debug)]
enum Edit {
    /// Replace the byte at this index.
    Byte(prop::sample::Index, u8),
    /// Drop this line.
    DropLine(prop::sample::Index),
    /// Replace the value of this `key = value` line.
    Value(prop::sample::Index, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just("18446744073709551616".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1e308".to_string()),
        Just("\"pct:4294967295\"".to_string()),
        Just("\"99999999999999s\"".to_string()),
        Just("\"a\\nb\"".to_string()),
        Just("true".to_string()),
        Just("[1, 2]".to_string()),
        Just("{ x = 1 }".to_string()),
        "\"[a-z0-9:.=, ]{0,12}\"",
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Byte(i, b)),
        any::<prop::sample::Index>().prop_map(Edit::DropLine),
        (any::<prop::sample::Index>(), value).prop_map(|(i, v)| Edit::Value(i, v)),
    ]
}

/// `text` with `e` applied.
fn apply(text: &str, e: &Edit) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    match e {
        Edit::Byte(i, b) => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let k = i.index(bytes.len());
                bytes[k] = *b;
            }
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        Edit::DropLine(i) if !lines.is_empty() => {
            lines.remove(i.index(lines.len()));
        }
        Edit::Value(i, v) => {
            let keyed: Vec<usize> = (0..lines.len())
                .filter(|&k| lines[k].contains('='))
                .collect();
            if !keyed.is_empty() {
                let k = keyed[i.index(keyed.len())];
                let key = lines[k].split('=').next().unwrap_or_default().to_string();
                lines[k] = format!("{key}= {v}");
            }
        }
        Edit::DropLine(_) => {}
    }
    lines.join("\n") + "\n"
}

proptest! {
    #[test]
    fn a_mangled_spec_is_parsed_or_refused_in_one_line_naming_the_place(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let (_, original) = BUILTIN[which.index(BUILTIN.len())];
        let text = edits.iter().fold(original.to_string(), |t, e| apply(&t, e));
        if let Err(e) = Spec::parse_with("x.toml", &text, workload::all()) {
            let line = e.to_string();
            prop_assert_eq!(line.lines().count(), 1, "{}", line);
            let place = line
                .strip_prefix("x.toml:")
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.parse::<usize>().ok());
            prop_assert!(place.is_some(), "no line number: {}\n--- spec:\n{}", line, text);
        }
    }

    #[test]
    fn any_text_is_parsed_or_refused_without_a_panic(text in "[a-z_\\[\\]=\"0-9.:, \n-]{0,200}") {
        if let Err(e) = Spec::parse_with("x.toml", &text, workload::all()) {
            prop_assert!(e.to_string().starts_with("x.toml"), "{}", e);
            prop_assert_eq!(e.to_string().lines().count(), 1, "{}", e);
        }
    }
}
