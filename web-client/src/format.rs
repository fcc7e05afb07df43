//! Human-readable sizes and times.

use ferry_proto::ListingEntry;

/// `1536` → `"1.5 KiB"`; below 1 KiB the exact number of bytes.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
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
    }

    #[test]
    fn times_and_percentages() {
        let entry = ListingEntry::file(Name::new("a").unwrap(), 1, 1_795_968_805);
        assert_eq!(modified(&entry), "2026-11-29 16:13 UTC");
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(0, 0), 100);
        assert_eq!(percent(u64::MAX, u64::MAX), 100);
    }
}
