//! Human-readable sizes and times.

use ferry_proto::ListingEntry;

/// `1536` → `"1.5 KiB"`; below 1 KiB the exact number of bytes.
///
/// Integer arithmetic only (the digits `{:.1}` of the f64 quotient would give,
/// ties to even): float formatting would add tens of KB to the page's WebAssembly.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 0;
    while unit < UNITS.len() - 1 && bytes >> (10 * (unit + 2)) != 0 {
        unit += 1;
    }
    let shift = 10 * (unit as u32 + 1);
    let (whole, rest) = (bytes >> shift, bytes & ((1 << shift) - 1));
    if whole >= 100 {
        format!("{} {}", rounded(whole, rest, shift), UNITS[unit])
    } else {
        // bytes × 10 / 2^shift in u64, without overflow: the whole part (below
        // 100) and the rest (below 2^shift <= 2^60) each times ten. (u128 did
        // it in one step, but brought its formatting and division, 2 KB.)
        let rest = rest * 10;
        let tenths = rounded(
            whole * 10 + (rest >> shift),
            rest & ((1 << shift) - 1),
            shift,
        );
        format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
    }
}

/// `quotient + rest / 2^shift` (with `rest < 2^shift`) rounded to the nearest
/// integer, ties to even.
fn rounded(quotient: u64, rest: u64, shift: u32) -> u64 {
    let half = 1 << (shift - 1);
    if rest > half || (rest == half && quotient % 2 == 1) {
        quotient + 1
    } else {
        quotient
    }
}

/// `1500` → `"1.5"`: milliseconds as seconds with one decimal (rounded half up).
pub fn seconds_tenths(ms: u32) -> String {
    let tenths = (u64::from(ms) + 50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// The modification time as `2026-11-24 16:13 UTC`.
pub fn modified(entry: &ListingEntry) -> String {
    let full = entry.modified_rfc3339();
    // RFC 3339 from ferry-proto: `YYYY-MM-DDTHH:MM:SSZ`; drop the seconds.
    match full.get(..16) {
        Some(minutes) => format!("{} UTC", minutes.replacen('T', " ", 1)),
        None => full,
    }
}

/// How long ago `secs` (Unix seconds) was, seen at `now`: `just now`,
/// `5 min ago`, `3 h ago`, `yesterday`, `4 days ago`, then the date.
pub fn relative_time(secs: u64, now: u64) -> String {
    const MIN: u64 = 60;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    let Some(ago) = now.checked_sub(secs) else {
        return "just now".into();
    };
    match ago {
        0..MIN => "just now".into(),
        MIN..HOUR => format!("{} min ago", ago / MIN),
        HOUR..DAY => format!("{} h ago", ago / HOUR),
        DAY..=172_799 => "yesterday".into(),
        _ if ago < 30 * DAY => format!("{} days ago", ago / DAY),
        _ => ferry_proto::format_rfc3339(secs)
            .get(..10)
            .unwrap_or_default()
            .to_owned(),
    }
}

/// The exact time, for the title shown on hover: `2026-11-24 16:13:25 UTC`.
pub fn exact_time(secs: u64) -> String {
    let full = ferry_proto::format_rfc3339(secs);
    format!("{} UTC", full.trim_end_matches('Z').replacen('T', " ", 1))
}

/// The page's clock, in Unix seconds.
pub fn now() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// A progress fraction in percent, for labels.
pub fn percent(done: u64, total: u64) -> u64 {
    if total == 0 {
        100
    } else {
        (done.min(total) as u128 * 100 / total as u128) as u64
    }
}

/// A listing row in the console, like the original command-line client printed it.
pub fn listing_line(entry: &ListingEntry) -> String {
    let size = entry.size().map_or_else(|| "-".to_owned(), human_size);
    let slash = if entry.is_dir() { "/" } else { "" };
    format!("{size:>10}  {}  {}{slash}", modified(entry), entry.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_proto::Name;

    #[test]
    fn sizes() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(human_size(100 * 1024 * 1024), "100 MiB");
        assert_eq!(human_size(u64::MAX), "16.0 EiB");
        // Ties go to even, as `{:.1}` of the f64 did: 1.25 KiB, 1.75 KiB, 100.5 KiB.
        assert_eq!(human_size(1280), "1.2 KiB");
        assert_eq!(human_size(1792), "1.8 KiB");
        assert_eq!(human_size(102_912), "100 KiB");
        assert_eq!(human_size(1023 * 1024 + 1000), "1024 KiB");
        assert_eq!(human_size(1024 * 1024 * 1024), "1.0 GiB");
        for bytes in [
            1024,
            1025,
            10_239,
            10_240,
            99_999,
            102_400,
            123_456_789,
            1 << 50,
            3 << 61,
        ] {
            let mut value = bytes as f64 / 1024.0;
            let mut unit = 0;
            while value >= 1024.0 && unit < 5 {
                value /= 1024.0;
                unit += 1;
            }
            let number = if value >= 100.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.1}")
            };
            assert!(
                human_size(bytes).starts_with(&format!("{number} ")),
                "{bytes}"
            );
        }
        assert_eq!(seconds_tenths(500), "0.5");
        assert_eq!(seconds_tenths(8000), "8.0");
    }

    #[test]
    fn times_and_percentages() {
        let entry = ListingEntry::file(Name::new("a").unwrap(), 1, 1_795_968_805);
        assert_eq!(modified(&entry), "2026-11-29 16:13 UTC");
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(0, 0), 100);
        assert_eq!(percent(u64::MAX, u64::MAX), 100);
    }

    #[test]
    fn relative_times() {
        let now = 1_795_968_805;
        assert_eq!(relative_time(now, now), "just now");
        assert_eq!(relative_time(now + 5, now), "just now");
        assert_eq!(relative_time(now - 300, now), "5 min ago");
        assert_eq!(relative_time(now - 3 * 3600, now), "3 h ago");
        assert_eq!(relative_time(now - 30 * 3600, now), "yesterday");
        assert_eq!(relative_time(now - 4 * 86400, now), "4 days ago");
        assert_eq!(relative_time(now - 90 * 86400, now), "2026-08-31");
        assert_eq!(exact_time(now), "2026-11-29 16:13:25 UTC");
    }
}
