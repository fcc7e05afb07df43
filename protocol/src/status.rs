//! The answer to `STAT`: `213 file <size> <modified>` or
//! `213 dir - <modified>`, written by the server and read by clients here.

use crate::rfc3339::{format_rfc3339, parse_rfc3339};
use crate::EntryKind;
use std::fmt;

/// What `STAT` says about a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// A file with its size, or a directory.
    pub kind: EntryKind,
    /// Last modification, in whole seconds since the Unix epoch (UTC).
    pub modified: u64,
}

impl Status {
    /// Reads the text of a `213` reply to `STAT`.
    pub fn parse(text: &str) -> Option<Status> {
        let mut words = text.split(' ');
        let (kind, size, modified) = (words.next()?, words.next()?, words.next()?);
        if words.next().is_some() {
            return None;
        }
        let kind = match (kind, size) {
            ("dir", "-") => EntryKind::Directory,
            ("file", size) if !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()) => {
                EntryKind::File {
                    size: size.parse().ok()?,
                }
            }
            _ => return None,
        };
        Some(Status {
            kind,
            modified: parse_rfc3339(modified)?,
        })
    }
}

impl fmt::Display for Status {
    /// The reply text after `213`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let modified = format_rfc3339(self.modified);
        match self.kind {
            EntryKind::File { size } => write!(f, "file {size} {modified}"),
            EntryKind::Directory => write!(f, "dir - {modified}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_round_trip() {
        let file = Status {
            kind: EntryKind::File { size: 42 },
            modified: 1_795_968_805,
        };
        assert_eq!(file.to_string(), "file 42 2026-11-29T16:13:25Z");
        assert_eq!(Status::parse(&file.to_string()), Some(file));
        let dir = Status {
            kind: EntryKind::Directory,
            modified: 0,
        };
        assert_eq!(dir.to_string(), "dir - 1970-01-01T00:00:00Z");
        assert_eq!(Status::parse(&dir.to_string()), Some(dir));
    }

    #[test]
    fn anything_else_is_not_a_status() {
        for bad in [
            "",
            "file",
            "file - 2026-11-29T16:13:25Z",
            "dir 5 2026-11-29T16:13:25Z",
            "file 5 yesterday",
            "file -5 2026-11-29T16:13:25Z",
            "link 5 2026-11-29T16:13:25Z",
            "file 5 2026-11-29T16:13:25Z extra",
        ] {
            assert_eq!(Status::parse(bad), None, "{bad:?}");
        }
    }
}
