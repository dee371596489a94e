//! Property tests of the RESP parser: a stream of requests cut into reads anywhere parses to
//! the same requests (and the same error, if any) as the stream read whole, the way the server
//! feeds it (parsing again only once the buffer holds what the parser said it needs); and no
//! input, random or a valid stream mutated, makes it panic.

use proptest::prelude::*;

use super::{Parsed, Parser};

/// What a stream parses to: each request's arguments, then the error that ended it, if any.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    requests: Vec<Vec<Vec<u8>>>,
    error: Option<String>,
}

/// Parses `stream` as the server does, delivered in reads of the lengths `cuts` gives (cycled;
/// the stream read whole when `cuts` is empty).
fn parse_as_served(stream: &[u8], cuts: &[usize]) -> Outcome {
    let mut p = Parser::new();
    let (mut start, mut have, mut need, mut k) = (0, 0, 1, 0);
    let mut out = Outcome {
        requests: Vec::new(),
        error: None,
    };
    while have < stream.len() {
        let step = cuts
            .get(k % cuts.len().max(1))
            .copied()
            .unwrap_or(stream.len());
        have = (have + step.max(1)).min(stream.len());
        k += 1;
        while have - start >= need {
            let buf = &stream[start..have];
            match p.parse(buf) {
                Ok(Parsed::Request { used }) => {
                    out.requests
                        .push(p.args().iter().map(|r| buf[r.clone()].to_vec()).collect());
                    start += used;
                    need = 1;
                }
                Ok(Parsed::Empty { used }) => {
                    start += used;
                    need = 1;
                }
                Ok(Parsed::Incomplete { need: n }) => need = n,
                Err(e) => {
                    out.error = Some(e.0);
                    return out;
                }
            }
        }
    }
    out
}

/// One request as a client writes it: multi-bulk with any bytes in its arguments, or inline.
fn request() -> impl Strategy<Value = Vec<u8>> {
    let arg = proptest::collection::vec(any::<u8>(), 0..40);
    let multibulk = proptest::collection::vec(arg, 0..6).prop_map(|args| {
        let mut r = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            r.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            r.extend_from_slice(&a);
            r.extend_from_slice(b"\r\n");
        }
        r
    });
    let inline = "[a-zA-Z0-9 ]{0,30}(\r\n|\n)".prop_map(String::into_bytes);
    prop_oneof![3 => multibulk, 1 => inline]
}

/// A stream of requests.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(request(), 1..12).prop_map(|rs| rs.concat())
}

proptest! {
    #[test]
    fn any_split_of_a_valid_stream_parses_as_the_whole(
        s in stream(),
        cuts in proptest::collection::vec(1usize..64, 1..8),
    ) {
        let whole = parse_as_served(&s, &[]);
        prop_assert_eq!(&whole.error, &None);
        prop_assert_eq!(parse_as_served(&s, &cuts), whole);
        prop_assert_eq!(parse_as_served(&s, &[1]), parse_as_served(&s, &[]));
    }

    #[test]
    fn random_bytes_never_panic_and_split_the_same(
        s in proptest::collection::vec(any::<u8>(), 0..400),
        cuts in proptest::collection::vec(1usize..32, 1..6),
    ) {
        prop_assert_eq!(parse_as_served(&s, &cuts), parse_as_served(&s, &[]));
    }

    #[test]
    fn a_mutated_valid_stream_never_panics_and_splits_the_same(
        s in stream(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cuts in proptest::collection::vec(1usize..32, 1..6),
    ) {
        let mut s = s;
        for (at, b) in edits {
            let i = at.index(s.len());
            s[i] = b;
        }
        prop_assert_eq!(parse_as_served(&s, &cuts), parse_as_served(&s, &[]));
    }
}
