//! Durations as specs write them: a number and a unit, `250us`, `1.5s`, `10ms`, `2m`.

use std::time::Duration;

/// Parses `text` (`0`, `100ns`, `250us`, `10ms`, `1.5s`, `2m`); the error says what is expected.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let expected = || {
        format!("{text:?} is not a duration (expected a number and a unit: ns, us, ms, s or m, as in \"250ms\")")
    };
    let value: f64 = number.parse().map_err(|_| expected())?;
    let nanos_per = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "" if value == 0.0 => 1.0,
        _ => return Err(expected()),
    };
    let nanos = value * nanos_per;
    if !nanos.is_finite() || nanos > u64::MAX as f64 {
        return Err(format!("{text:?} is too long a duration"));
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

/// Renders a duration the way [`parse`] reads it back.
pub fn show(d: Duration) -> String {
    let ns = d.as_nanos();
    match ns {
        0 => "0".into(),
        n if n % 1_000_000_000 == 0 => format!("{}s", n / 1_000_000_000),
        n if n % 1_000_000 == 0 => format!("{}ms", n / 1_000_000),
        n if n % 1_000 == 0 => format!("{}us", n / 1_000),
        n => format!("{n}ns"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_and_round_trip() {
        for (text, d) in [
            ("0", Duration::ZERO),
            ("250us", Duration::from_micros(250)),
            ("1.5s", Duration::from_millis(1500)),
            ("10ms", Duration::from_millis(10)),
            ("2m", Duration::from_secs(120)),
            ("7ns", Duration::from_nanos(7)),
        ] {
            assert_eq!(parse(text), Ok(d), "{text}");
            assert_eq!(parse(&show(d)), Ok(d), "{text}");
        }
    }

    #[test]
    fn bad_durations_say_what_is_expected() {
        for bad in ["", "ms", "5", "5 parsecs", "1e999s", "-3s"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("duration"), "{bad}: {e}");
        }
    }
}
