//! The body of a `LIST` transfer (docs/PROTOCOL.md §3.2), one row per entry:
//! `size TAB modified TAB name LF` for a file, `- TAB modified TAB name/ LF`
//! for a directory, sorted by the name field as it appears on the line.

use crate::rfc3339::{format_rfc3339, parse_rfc3339};
use crate::{Name, ProtoError};
use std::cmp::Ordering;

/// What an entry is: the two kinds a listing (and `STAT`) shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file of `size` bytes.
    File {
        /// Size in bytes.
        size: u64,
    },
    /// A directory.
    Directory,
}

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingEntry {
    /// A file with its size, or a directory.
    pub kind: EntryKind,
    /// Last modification, in whole seconds since the Unix epoch (UTC).
    pub modified: u64,
    /// The entry's name (a directory's without its `/`).
    pub name: Name,
}

impl ListingEntry {
    /// A regular file's row.
    pub fn file(name: Name, size: u64, modified: u64) -> ListingEntry {
        ListingEntry {
            kind: EntryKind::File { size },
            modified,
            name,
        }
    }

    /// A directory's row.
    pub fn directory(name: Name, modified: u64) -> ListingEntry {
        ListingEntry {
            kind: EntryKind::Directory,
            modified,
            name,
        }
    }

    /// The size of a file; `None` for a directory.
    pub fn size(&self) -> Option<u64> {
        match self.kind {
            EntryKind::File { size } => Some(size),
            EntryKind::Directory => None,
        }
    }

    /// Whether the entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Directory
    }

    /// The modification time as RFC 3339 UTC, e.g. `2026-11-24T16:13:25Z`.
    pub fn modified_rfc3339(&self) -> String {
        format_rfc3339(self.modified)
    }

    /// The order of rows: by the name field's bytes, a directory's `/`
    /// included (so `a.txt`, `a/`, `a0`).
    pub fn listing_order(&self, other: &ListingEntry) -> Ordering {
        let (mine, theirs) = (
            self.name.as_str().as_bytes(),
            other.name.as_str().as_bytes(),
        );
        let common = mine.len().min(theirs.len());
        // Names mostly differ within their common length: compare those
        // bytes as slices, and only a prefix tie looks at the '/'.
        mine[..common].cmp(&theirs[..common]).then_with(|| {
            let tail = |entry: &ListingEntry, name: &[u8]| {
                let slash = entry.is_dir().then_some(b'/');
                name[common..]
                    .iter()
                    .copied()
                    .chain(slash)
                    .collect::<Vec<u8>>()
            };
            tail(self, mine).cmp(&tail(other, theirs))
        })
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
        let modified = parse_rfc3339(modified).ok_or(bad("modified time is not RFC 3339"))?;
        let (kind, name) = match name.strip_suffix('/') {
            Some(name) if size == "-" => (EntryKind::Directory, name),
            Some(_) => return Err(bad("a directory has '-' for its size")),
            None if size == "-" => return Err(bad("a directory's name ends in '/'")),
            None => {
                if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("size is not a decimal number"));
                }
                let size = size.parse().map_err(|_| bad("size is too large"))?;
                (EntryKind::File { size }, name)
            }
        };
        let name = Name::new(name).map_err(|_| bad("invalid name"))?;
        Ok(ListingEntry {
            kind,
            modified,
            name,
        })
    }

    /// Appends the row; `times` keeps the last formatted time, since the
    /// files of one directory often share their modification second.
    fn encode_into(&self, out: &mut Vec<u8>, times: &mut TimeCache) {
        match self.kind {
            EntryKind::File { size } => out.extend_from_slice(size.to_string().as_bytes()),
            EntryKind::Directory => out.push(b'-'),
        }
        out.push(b'\t');
        out.extend_from_slice(times.format(self.modified).as_bytes());
        out.push(b'\t');
        out.extend_from_slice(self.name.as_str().as_bytes());
        if self.is_dir() {
            out.push(b'/');
        }
        out.push(b'\n');
    }
}

/// The RFC 3339 text of the last time formatted.
#[derive(Default)]
struct TimeCache {
    secs: Option<u64>,
    text: String,
}

impl TimeCache {
    fn format(&mut self, secs: u64) -> &str {
        if self.secs != Some(secs) {
            self.secs = Some(secs);
            self.text = format_rfc3339(secs);
        }
        &self.text
    }
}

/// Encodes a listing, sorted as the contract demands.
pub fn encode_listing(mut entries: Vec<ListingEntry>) -> Vec<u8> {
    entries.sort_unstable_by(ListingEntry::listing_order);
    let mut out = Vec::with_capacity(entries.len() * 48);
    let mut times = TimeCache::default();
    for entry in &entries {
        entry.encode_into(&mut out, &mut times);
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

    fn file(size: u64, modified: u64, name: &str) -> ListingEntry {
        ListingEntry::file(Name::new(name).unwrap(), size, modified)
    }

    fn dir(modified: u64, name: &str) -> ListingEntry {
        ListingEntry::directory(Name::new(name).unwrap(), modified)
    }

    #[test]
    fn encodes_sorted_by_bytes() {
        let body = encode_listing(vec![
            file(5, 1_795_968_805, "b"),
            file(0, 0, "B a"),
            file(1, 0, "é"),
        ]);
        assert_eq!(
            String::from_utf8(body.clone()).unwrap(),
            "0\t1970-01-01T00:00:00Z\tB a\n5\t2026-11-29T16:13:25Z\tb\n1\t1970-01-01T00:00:00Z\té\n"
        );
        assert_eq!(
            parse_listing(&body).unwrap()[1],
            file(5, 1_795_968_805, "b")
        );
    }

    #[test]
    fn directories_sort_with_their_slash() {
        let body = encode_listing(vec![file(1, 0, "a0"), dir(0, "a"), file(2, 0, "a.txt")]);
        assert_eq!(
            String::from_utf8(body.clone()).unwrap(),
            "2\t1970-01-01T00:00:00Z\ta.txt\n\
             -\t1970-01-01T00:00:00Z\ta/\n\
             1\t1970-01-01T00:00:00Z\ta0\n"
        );
        let parsed = parse_listing(&body).unwrap();
        assert_eq!(parsed[1], dir(0, "a"));
        assert_eq!(parsed[1].size(), None);
        assert_eq!(parsed[0].size(), Some(2));
    }

    #[test]
    fn far_future_times_are_clamped_not_panicking() {
        let body = encode_listing(vec![file(1, u64::MAX, "x")]);
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
            b"-\t2026-01-01T00:00:00Z\tx\n",
            b"1\t2026-01-01T00:00:00Z\tx/\n",
            b"-\t2026-01-01T00:00:00Z\tx//\n",
            b"-\t2026-01-01T00:00:00Z\t/\n",
            b"-\t2026-01-01T00:00:00Z\ta/b/\n",
        ] {
            assert!(
                parse_listing(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    fn entry_strategy() -> impl Strategy<Value = ListingEntry> {
        let name =
            "[^/\\\\\\x00-\\x1f\\x7f]{1,30}".prop_filter_map("valid names", |n| Name::new(n).ok());
        let kind = prop_oneof![
            any::<u64>().prop_map(|size| EntryKind::File { size }),
            Just(EntryKind::Directory),
        ];
        (kind, 0u64..crate::rfc3339::MAX_SECS, name).prop_map(|(kind, modified, name)| {
            ListingEntry {
                kind,
                modified,
                name,
            }
        })
    }

    proptest! {
        #[test]
        fn round_trip(mut entries in proptest::collection::vec(entry_strategy(), 0..10)) {
            let body = encode_listing(entries.clone());
            entries.sort_by(ListingEntry::listing_order);
            prop_assert_eq!(parse_listing(&body).unwrap(), entries);
        }

        /// The rows come out in the byte order of their name fields.
        #[test]
        fn rows_are_in_byte_order_of_the_name_field(entries in proptest::collection::vec(entry_strategy(), 0..10)) {
            let body = encode_listing(entries);
            let fields: Vec<&[u8]> = body
                .split(|&b| b == b'\n')
                .filter(|row| !row.is_empty())
                .map(|row| row.splitn(3, |&b| b == b'\t').nth(2).unwrap())
                .collect();
            prop_assert!(fields.windows(2).all(|pair| pair[0] <= pair[1]));
        }
    }
}
