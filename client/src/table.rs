//! `LIST` shown as an aligned table with human-readable sizes.

use bytesize::ByteSize;
use ferry_proto::{format_rfc3339, EntryKind, ListingEntry, Status};

/// [`render`] for the listing of `dir` (`None`: the home), whose emptiness
/// is said with the directory's name.
pub fn render_in(dir: Option<&str>, entries: &[ListingEntry], exact_sizes: bool) -> String {
    match (dir, entries.is_empty()) {
        (Some(dir), true) => format!("No files in /{}.\n", terminal_safe(dir)),
        _ => render(entries, exact_sizes),
    }
}

/// A size for people: `512 B`, `1.5 KiB`, `3.2 GiB` (powers of 1024).
pub fn human_size(bytes: u64) -> String {
    ByteSize::b(bytes).display().iec().to_string()
}

/// Renders a listing as a table: size (right-aligned; exact bytes with
/// `exact_sizes`), modification time in UTC, name; then a summary line.
pub fn render(entries: &[ListingEntry], exact_sizes: bool) -> String {
    if entries.is_empty() {
        return "No files on the server.\n".to_owned();
    }
    let size_of = |bytes: u64| {
        if exact_sizes {
            bytes.to_string()
        } else {
            human_size(bytes)
        }
    };
    let rows: Vec<(String, String, String)> = entries
        .iter()
        .map(|entry| {
            // A directory (version 2) shows `-` and a `/` after its name.
            let slash = if entry.is_dir() { "/" } else { "" };
            (
                entry.size().map_or_else(|| "-".to_owned(), size_of),
                modified_utc(entry),
                format!("{}{slash}", terminal_safe(entry.name.as_str())),
            )
        })
        .collect();
    const SIZE: &str = "SIZE";
    const MODIFIED: &str = "MODIFIED (UTC)";
    let size_width = rows
        .iter()
        .map(|row| row.0.len())
        .chain([SIZE.len()])
        .max()
        .unwrap_or(0);
    let time_width = rows
        .iter()
        .map(|row| row.1.len())
        .chain([MODIFIED.len()])
        .max()
        .unwrap_or(0);
    let mut out = format!("{SIZE:>size_width$}  {MODIFIED:<time_width$}  NAME\n");
    for (size, modified, name) in &rows {
        out.push_str(&format!(
            "{size:>size_width$}  {modified:<time_width$}  {name}\n"
        ));
    }
    let total: u64 = entries.iter().filter_map(ListingEntry::size).sum();
    let dirs = entries.iter().filter(|entry| entry.is_dir()).count();
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let files = count(entries.len() - dirs, "file", "files");
    let counted = match dirs {
        0 => files,
        _ => format!("{files} and {}", count(dirs, "directory", "directories")),
    };
    out.push_str(&format!("{counted}, {} in total\n", size_of(total)));
    out
}

/// `a/b.txt: file, 5 bytes (5 B), modified 2026-11-24T16:13:25Z`.
pub fn describe_status(path: &str, status: &Status) -> String {
    let modified = format_rfc3339(status.modified);
    let path = terminal_safe(path);
    match status.kind {
        EntryKind::File { size } => format!(
            "{path}: file, {size} bytes ({}), modified {modified}",
            human_size(size)
        ),
        EntryKind::Directory => format!("{path}: directory, modified {modified}"),
    }
}

/// A server-chosen name made safe to print on a terminal: valid names may
/// still hold C1 control characters (which some terminals obey as escape
/// sequences) or bidirectional overrides (which make a name look like
/// another), so those are shown escaped, e.g. `\u{9b}`.
pub fn terminal_safe(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// `2026-11-24 16:13:25` from the entry's RFC 3339 time.
fn modified_utc(entry: &ListingEntry) -> String {
    entry
        .modified_rfc3339()
        .replacen('T', " ", 1)
        .trim_end_matches('Z')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_proto::Name;

    fn entry(size: u64, name: &str) -> ListingEntry {
        ListingEntry::file(Name::new(name).unwrap(), size, 1_795_968_805)
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn columns_line_up() {
        let table = render(
            &[
                entry(5, "a.txt"),
                entry(123_456_789, "big file.bin"),
                entry(0, "名前"),
            ],
            false,
        );
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "     SIZE  MODIFIED (UTC)       NAME",
                "      5 B  2026-11-29 16:13:25  a.txt",
                "117.7 MiB  2026-11-29 16:13:25  big file.bin",
                "      0 B  2026-11-29 16:13:25  名前",
                "3 files, 117.7 MiB in total",
            ]
        );
    }

    #[test]
    fn names_cannot_drive_the_terminal() {
        assert_eq!(terminal_safe("plain name é"), "plain name é");
        assert_eq!(terminal_safe("a\u{9b}31mb"), "a\\u{9b}31mb");
        assert_eq!(terminal_safe("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        let table = render(&[entry(1, "x\u{9b}2J")], false);
        assert!(table.contains("x\\u{9b}2J") && !table.contains('\u{9b}'));
    }

    #[test]
    fn directories_are_counted_apart() {
        let dir = ListingEntry::directory(Name::new("sub").unwrap(), 1_795_968_805);
        let table = render(&[entry(2048, "a"), dir], false);
        assert!(
            table.contains("    -  2026-11-29 16:13:25  sub/\n"),
            "{table}"
        );
        assert!(
            table.ends_with("1 file and 1 directory, 2.0 KiB in total\n"),
            "{table}"
        );
    }

    #[test]
    fn exact_sizes_and_empty_listing() {
        let table = render(&[entry(123_456_789, "x")], true);
        assert_eq!(
            table,
            "     SIZE  MODIFIED (UTC)       NAME\n123456789  2026-11-29 16:13:25  x\n1 file, 123456789 in total\n"
        );
        assert_eq!(render(&[], false), "No files on the server.\n");
        assert_eq!(render_in(None, &[], false), "No files on the server.\n");
        assert_eq!(render_in(Some("a/b"), &[], false), "No files in /a/b.\n");
    }
}
