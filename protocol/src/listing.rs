//! The body of a `LIST` transfer: `size TAB modified TAB name LF` per file.

use crate::{Name, ProtoError};
use std::time::{Duration, UNIX_EPOCH};

/// Latest instant RFC 3339 can express (9999-12-31T23:59:59Z), in Unix seconds.
const MAX_RFC3339_SECS: u64 = 253_402_300_799;

/// One regular file in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingEntry {
    /// Size in bytes.
    pub size: u64,
    /// Last modification, in whole seconds since the Unix epoch (UTC).
    pub modified: u64,
    /// File name.
    pub name: Name,
}

impl ListingEntry {
    /// The modification time as RFC 3339 UTC, e.g. `2026-11-24T16:13:25Z`.
    pub fn modified_rfc3339(&self) -> String {
        let secs = self.modified.min(MAX_RFC3339_SECS);
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
    }

    fn parse(line: &[u8], number: usize) -> Result<ListingEntry, ProtoError> {
        let bad = |reason| ProtoError::MalformedListing {
            line: number,
            reason,
        };
        let text = std::str::from_utf8(line).map_err(|_| bad("not UTF-8"))?;
        let mut fields = text.splitn(3, '\t');
        let (Some(size), Some(modified), Some(name)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(bad("expected three TAB-separated fields"));
        };
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("size is not a decimal number"));
        }
        let size = size.parse().map_err(|_| bad("size is too large"))?;
        let modified = humantime::parse_rfc3339(modified)
            .map_err(|_| bad("modified time is not RFC 3339"))?
            .duration_since(UNIX_EPOCH)
            .map_err(|_| bad("modified time is before 1970"))?
            .as_secs();
        let name = Name::new(name).map_err(|_| bad("invalid file name"))?;
        Ok(ListingEntry {
            size,
            modified,
            name,
        })
    }
}

/// Encodes a listing, sorted by name in byte order as the contract demands.
pub fn encode_listing(mut entries: Vec<ListingEntry>) -> Vec<u8> {
    entries.sort_by(|a, b| a.name.as_str().as_bytes().cmp(b.name.as_str().as_bytes()));
    let mut out = Vec::with_capacity(entries.len() * 48);
    for entry in &entries {
        out.extend_from_slice(entry.size.to_string().as_bytes());
        out.push(b'\t');
        out.extend_from_slice(entry.modified_rfc3339().as_bytes());
        out.push(b'\t');
        out.extend_from_slice(entry.name.as_str().as_bytes());
        out.push(b'\n');
    }
    out
}

/// Parses a complete listing body.
pub fn parse_listing(body: &[u8]) -> Result<Vec<ListingEntry>, ProtoError> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let Some(body) = body.strip_suffix(b"\n") else {
        return Err(ProtoError::MalformedListing {
            line: body.split(|&b| b == b'\n').count(),
            reason: "last line does not end in LF",
        });
    };
    body.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| ListingEntry::parse(line, i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(size: u64, modified: u64, name: &str) -> ListingEntry {
        ListingEntry {
            size,
            modified,
            name: Name::new(name).unwrap(),
        }
    }

    #[test]
    fn encodes_sorted_by_bytes() {
        let body = encode_listing(vec![
            entry(5, 1_795_968_805, "b"),
            entry(0, 0, "B a"),
            entry(1, 0, "é"),
        ]);
        assert_eq!(
            String::from_utf8(body.clone()).unwrap(),
            "0\t1970-01-01T00:00:00Z\tB a\n5\t2026-11-29T16:13:25Z\tb\n1\t1970-01-01T00:00:00Z\té\n"
        );
        assert_eq!(
            parse_listing(&body).unwrap()[1],
            entry(5, 1_795_968_805, "b")
        );
    }

    #[test]
    fn far_future_times_are_clamped_not_panicking() {
        let body = encode_listing(vec![entry(1, u64::MAX, "x")]);
        assert!(body.starts_with(b"1\t9999-12-31T23:59:59Z\tx\n"));
    }

    #[test]
    fn rejects_malformed_bodies() {
        for bad in [
            &b"1\t2026-01-01T00:00:00Z\tx"[..],
            b"x\t2026-01-01T00:00:00Z\tx\n",
            b"1\tyesterday\tx\n",
            b"1\t2026-01-01T00:00:00Z\n",
            b"1\t2026-01-01T00:00:00Z\t..\n",
        ] {
            assert!(
                parse_listing(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    proptest! {
        #[test]
        fn round_trip(rows in proptest::collection::vec((any::<u64>(), 0u64..MAX_RFC3339_SECS, "[^/\\\\\\x00-\\x1f\\x7f]{1,30}"), 0..10)) {
            let mut entries: Vec<_> = rows
                .into_iter()
                .filter(|(_, _, n)| n != "." && n != "..")
                .map(|(s, m, n)| entry(s, m, &n))
                .collect();
            let body = encode_listing(entries.clone());
            entries.sort_by(|a, b| a.name.as_str().as_bytes().cmp(b.name.as_str().as_bytes()));
            prop_assert_eq!(parse_listing(&body).unwrap(), entries);
        }
    }
}
