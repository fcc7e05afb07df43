//! RFC 3339 UTC times as whole Unix seconds, written and read here rather
//! than with humantime, whose `SystemTime` arithmetic and `Display` were
//! about 1 KB of the web page's WebAssembly (which shows every listing's
//! times). Both accept and produce exactly what humantime's
//! `format_rfc3339_seconds` and `parse_rfc3339` did (the tests below check
//! them against it on random input): the parser keeps its leniencies (a
//! leap second `:60` read as `:59`, any fraction, a `+00:00` offset).

/// Latest instant RFC 3339 can express (9999-12-31T23:59:59Z), in Unix seconds.
pub(crate) const MAX_SECS: u64 = 253_402_300_799;

/// Whole seconds since the Unix epoch as RFC 3339 UTC, e.g.
/// `2026-11-24T16:13:25Z` (clamped to the year 9999).
pub fn format_rfc3339(secs: u64) -> String {
    let secs = secs.min(MAX_SECS);
    // Days to a civil date (H. Hinnant's algorithm, from 0000-03-01).
    let z = secs / 86_400 + 719_468;
    let era = z / 146_097;
    let of_era = z % 146_097;
    let year_of_era = (of_era - of_era / 1460 + of_era / 36_524 - of_era / 146_096) / 365;
    let of_year = of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * of_year + 2) / 153;
    let day = of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    let of_day = secs % 86_400;
    let mut text = String::with_capacity(20);
    let mut push = |value: u64, digits: u32, after: char| {
        for place in (0..digits).rev() {
            text.push(char::from(b'0' + (value / 10u64.pow(place) % 10) as u8));
        }
        text.push(after);
    };
    push(year, 4, '-');
    push(month, 2, '-');
    push(day, 2, 'T');
    push(of_day / 3600, 2, ':');
    push(of_day / 60 % 60, 2, ':');
    push(of_day % 60, 2, 'Z');
    text
}

/// RFC 3339 UTC as whole seconds since the Unix epoch.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[10] != b'T' || (b.last() != Some(&b'Z') && !text.ends_with("+00:00")) {
        return None;
    }
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let two = |at: usize| {
        let digit = |b: u8| char::from(b).to_digit(10).map(u64::from);
        Some(digit(b[at])? * 10 + digit(b[at + 1])?)
    };
    let year = two(0)? * 100 + two(2)?;
    let month = two(5)?;
    let day = two(8)?;
    let hour = two(11)?;
    let minute = two(14)?;
    let second = two(17)?.min(59);
    if year < 1970 || hour > 23 || minute > 59 || two(17)? > 60 {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    const BEFORE: [u64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    const LENGTH: [u64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let index = usize::try_from(month).ok()?.checked_sub(1)?;
    let length = *LENGTH.get(index)? + u64::from(leap && month == 2);
    if day == 0 || day > length {
        return None;
    }
    let of_year = BEFORE[index] + day - 1 + u64::from(leap && month > 2);
    let leap_years =
        ((year - 1) - 1968) / 4 - ((year - 1) - 1900) / 100 + ((year - 1) - 1600) / 400;
    let days = (year - 1970) * 365 + leap_years + of_year;
    if b.get(19) == Some(&b'.') {
        // A fraction: digits up to the final `Z` or the `+00:00` at the end.
        for (at, &c) in b.iter().enumerate().skip(20) {
            match c {
                b'Z' if at == b.len() - 1 => break,
                b'+' if at + 6 == b.len() => break,
                c if c.is_ascii_digit() => {}
                _ => return None,
            }
        }
    } else if b.len() > 25 || (b[19] != b'Z' && &b[19..] != b"+00:00") {
        return None;
    }
    let total = second + minute * 60 + hour * 3600 + days * 86_400;
    (total <= MAX_SECS).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn by_humantime(text: &str) -> Option<u64> {
        let time = humantime::parse_rfc3339(text).ok()?;
        Some(time.duration_since(UNIX_EPOCH).ok()?.as_secs())
    }

    #[test]
    fn known_times() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_795_968_805), "2026-11-29T16:13:25Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
        for text in [
            "1970-01-01T00:00:00Z",
            "2026-11-29T16:13:25Z",
            "2000-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2001-02-29T00:00:00Z",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:61Z",
            "2016-12-31T24:00:00Z",
            "2016-00-10T00:00:00Z",
            "2016-13-10T00:00:00Z",
            "2016-12-00T00:00:00Z",
            "2016-12-32T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "9999-12-31T23:59:59Z",
            "2018-02-14T00:28:07.133Z",
            "2018-02-14T00:28:07.Z",
            "2018-02-14T00:28:07.1x3Z",
            "2018-02-14T00:28:07.1234567890123Z",
            "2018-02-14T00:28:07+00:00",
            "2018-02-14T00:28:07.5+00:00",
            "2018-02-14T00:28:07+01:00",
            "2018-02-14T00:28:07ZZ",
            "2018-02-14T00:28:07ZxZ",
            "2018-02-14T00:28:07Z+00:00",
            "2018-02-14 00:28:07Z",
            "2018-02-14t00:28:07Z",
            "2018-02-14T00:28:07z",
            "2018-02-14T00:28:07",
            "2018-2-14T00:28:07Z",
            "+018-02-14T00:28:07Z",
            "",
            "2018-02-14T00:28:0éZ",
        ] {
            assert_eq!(parse_rfc3339(text), by_humantime(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn writes_like_humantime(secs in 0..=MAX_SECS + 10) {
            let expected = humantime::format_rfc3339_seconds(
                UNIX_EPOCH + Duration::from_secs(secs.min(MAX_SECS)),
            )
            .to_string();
            prop_assert_eq!(format_rfc3339(secs), expected);
        }

        #[test]
        fn reads_what_it_writes(secs in 0..=MAX_SECS) {
            prop_assert_eq!(parse_rfc3339(&format_rfc3339(secs)), Some(secs));
        }

        #[test]
        fn reads_like_humantime(
            text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(Z|\\+00:00|\\.[0-9Z+]{0,8}(Z|\\+00:00)?|[Z+:0-9]{0,8})",
        ) {
            prop_assert_eq!(parse_rfc3339(&text), by_humantime(&text));
        }

        #[test]
        fn reads_anything_like_humantime(text in "[0-9TZ:+. -]{18,30}") {
            prop_assert_eq!(parse_rfc3339(&text), by_humantime(&text));
        }
    }
}
