//! The line that says what a finished transfer did. The prompt and the
//! one-shot subcommands both print it, so it is worded here once and a
//! person (or a script) reading either sees the same words.

use crate::table::human_size;
use ferry_client::{Downloaded, TreeDone, Uploaded};
use std::path::Path;

/// `Saved "dir/f.txt" to f.txt (1.5 MiB, SHA-256 verified, continued after
/// 1.0 MiB)`, or `Wrote "dir/f.txt" to standard output (1.5 MiB)`. `remote`
/// is shown as the caller gives it (made terminal-safe or not).
pub fn downloaded(remote: &str, done: &Downloaded) -> String {
    let size = human_size(done.bytes);
    let checked = verified(done.verified);
    match &done.path {
        Some(path) => {
            let continued = if done.continued_from > 0 {
                format!(", continued after {}", human_size(done.continued_from))
            } else {
                String::new()
            };
            format!(
                "Saved \"{remote}\" to {} ({size}{checked}{continued})",
                path.display()
            )
        }
        None => format!("Wrote \"{remote}\" to standard output ({size}{checked})"),
    }
}

/// `Stored up.bin as "dir/up.bin" (1.5 MiB, SHA-256 verified, 1.0 MiB of it
/// kept by the server)`. `remote` is shown as the caller gives it.
pub fn uploaded(local: &Path, remote: &str, done: &Uploaded) -> String {
    let kept = if done.kept > 0 {
        format!(", {} of it kept by the server", human_size(done.kept))
    } else {
        String::new()
    };
    format!(
        "Stored {} as \"{remote}\" ({}{}{kept})",
        local.display(),
        human_size(done.bytes),
        verified(done.verified)
    )
}

/// `3 files in 2 directories, 1.5 MiB`.
pub fn tree(done: &TreeDone) -> String {
    let files = if done.files == 1 { "file" } else { "files" };
    let dirs = if done.dirs == 1 {
        "directory"
    } else {
        "directories"
    };
    format!(
        "{} {files} in {} {dirs}, {}",
        done.files,
        done.dirs,
        human_size(done.bytes)
    )
}

/// What a transfer's summary says of `--verify`.
fn verified(verified: bool) -> &'static str {
    if verified {
        ", SHA-256 verified"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_proto::Path as RemotePath;
    use std::path::PathBuf;

    #[test]
    fn downloads() {
        let plain = Downloaded {
            bytes: 1536,
            path: Some(PathBuf::from("f")),
            sha256: String::new(),
            verified: false,
            continued_from: 0,
        };
        assert_eq!(downloaded("d/f", &plain), "Saved \"d/f\" to f (1.5 KiB)");
        let continued = Downloaded {
            verified: true,
            continued_from: 1024,
            ..plain.clone()
        };
        assert_eq!(
            downloaded("d/f", &continued),
            "Saved \"d/f\" to f (1.5 KiB, SHA-256 verified, continued after 1.0 KiB)"
        );
        let to_stdout = Downloaded {
            path: None,
            verified: true,
            ..plain
        };
        assert_eq!(
            downloaded("d/f", &to_stdout),
            "Wrote \"d/f\" to standard output (1.5 KiB, SHA-256 verified)"
        );
    }

    #[test]
    fn uploads() {
        let plain = Uploaded {
            bytes: 2048,
            path: RemotePath::new("d/up.bin").unwrap(),
            sha256: String::new(),
            verified: false,
            kept: 0,
        };
        let local = Path::new("up.bin");
        assert_eq!(
            uploaded(local, "d/up.bin", &plain),
            "Stored up.bin as \"d/up.bin\" (2.0 KiB)"
        );
        let resumed = Uploaded {
            verified: true,
            kept: 512,
            ..plain
        };
        assert_eq!(
            uploaded(local, "d/up.bin", &resumed),
            "Stored up.bin as \"d/up.bin\" (2.0 KiB, SHA-256 verified, 512 B of it kept by the server)"
        );
    }
}
