//! The value of every `SECONDS` flag.
//!
//! Flags name their unit `SECONDS`, so a plain whole number must mean
//! seconds; people also write `90s` or `5m`, so humantime's forms are
//! accepted too. One parser keeps the programs agreeing on both.

use std::time::Duration;

/// Parses a whole number of seconds (`300`) or a humantime duration
/// (`90s`, `5m`, `1h 30m`), for clap's `value_parser`.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|_| {
        "expected a whole number of seconds, e.g. 30, or a duration such as 90s or 5m".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds() {
        assert_eq!(parse_seconds("0"), Ok(Duration::ZERO));
        assert_eq!(parse_seconds("300"), Ok(Duration::from_secs(300)));
    }

    #[test]
    fn humantime_forms() {
        assert_eq!(parse_seconds("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_seconds("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_seconds("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_seconds("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_seconds("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn anything_else_is_refused_with_the_expected_form() {
        for text in ["", "-1", "soon", "5 parsecs", "1.5"] {
            let error = parse_seconds(text).unwrap_err();
            assert!(error.contains("whole number of seconds"), "{text}: {error}");
        }
    }
}
