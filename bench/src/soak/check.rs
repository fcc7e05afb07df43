//! The checks after the run, made on the server's root directly: each
//! client's files are what it knows it wrote, and the staging area holds
//! nothing but kept partial uploads of uploads still in doubt.

use super::client::{sha256_hex, ClientEnd, Doubt};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

/// What the root holds, against the clients' models.
#[derive(Debug, Default)]
pub struct RootCheck {
    /// Files compared byte for byte (through their hash).
    pub files_checked: usize,
    /// Paths skipped because the last command on them was in doubt.
    pub in_doubt: usize,
    pub problems: Vec<String>,
}

/// Compares every client's directory on disk with its model: the same
/// files, each with the content its model names, and nothing else.
pub fn files(root: &Path, ends: &[ClientEnd]) -> RootCheck {
    let mut check = RootCheck::default();
    for end in ends.iter().filter(|end| !end.failed) {
        let model = &end.model;
        let doubtful: HashSet<&str> = model
            .doubt
            .as_ref()
            .map(|doubt| doubt.paths().into_iter().collect())
            .unwrap_or_default();
        for (name, content) in &model.files {
            let on_disk = std::fs::read(root.join(name)).ok();
            if doubtful.contains(name.as_str()) {
                // An upload in doubt: the old file or the new one, whole.
                if let Some(Doubt::Upload { content: new, .. }) = &model.doubt {
                    let sha = on_disk.as_deref().map(sha256_hex);
                    let old = content.as_ref().map(|c| c.sha.clone());
                    if sha != old && sha.as_deref() != Some(new.sha.as_str()) {
                        check.problems.push(format!(
                            "{name}: neither its old content nor the upload in doubt"
                        ));
                    }
                }
                check.in_doubt += 1;
                continue;
            }
            match (content, on_disk) {
                (None, None) => {}
                (Some(content), Some(bytes)) => {
                    check.files_checked += 1;
                    if sha256_hex(&bytes) != content.sha {
                        check.problems.push(format!(
                            "{name}: {} bytes on disk that differ from the {} written",
                            bytes.len(),
                            content.size
                        ));
                    }
                }
                (Some(_), None) => check.problems.push(format!("{name}: missing on disk")),
                (None, Some(_)) => check
                    .problems
                    .push(format!("{name}: on disk though the client removed it")),
            }
        }
        for dir in [model.dir.clone(), format!("{}/sub", model.dir)] {
            let expected: BTreeSet<String> = model
                .files
                .keys()
                .filter_map(|name| {
                    let (parent, leaf) = name.rsplit_once('/')?;
                    (parent == dir).then(|| leaf.to_owned())
                })
                .chain(["sub".to_owned(), "tmp".to_owned()])
                .collect();
            for entry in std::fs::read_dir(root.join(&dir)).into_iter().flatten() {
                let Ok(entry) = entry else { continue };
                let leaf = entry.file_name().to_string_lossy().into_owned();
                if !expected.contains(&leaf) {
                    check
                        .problems
                        .push(format!("{dir}/{leaf}: a file no client wrote"));
                }
            }
        }
    }
    check
}

/// What the staging area holds after the server has stopped.
#[derive(Debug, Default)]
pub struct StagingCheck {
    /// Kept partial uploads (a record and its data).
    pub kept: usize,
    /// Uploads in doubt when the run ended, which may each be kept.
    pub may_be_kept: usize,
    pub problems: Vec<String>,
}

/// The staging directory may hold only the kept directory, and that only
/// pairs of a record and its data, each record for an upload still in
/// doubt at the end (same path and size), its data no longer than the size.
pub fn staging(root: &Path, ends: &[ClientEnd]) -> StagingCheck {
    let mut check = StagingCheck::default();
    let uploads: HashSet<(String, u64)> = ends
        .iter()
        .filter_map(|end| match &end.model.doubt {
            Some(Doubt::Upload { path, content, .. }) => Some((path.clone(), content.size)),
            _ => None,
        })
        .collect();
    check.may_be_kept = uploads.len();
    let staging = root.join(ferry_server::TEMP_DIR);
    for entry in std::fs::read_dir(&staging).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != ferry_server::KEPT_DIR {
            check.problems.push(format!(
                "{}/{name}: a staging leftover",
                ferry_server::TEMP_DIR
            ));
        }
    }
    let kept_dir = staging.join(ferry_server::KEPT_DIR);
    let names: BTreeSet<String> = std::fs::read_dir(&kept_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    for name in &names {
        let shown = format!(
            "{}/{}/{name}",
            ferry_server::TEMP_DIR,
            ferry_server::KEPT_DIR
        );
        if let Some(id) = name.strip_suffix(".record") {
            let data = format!("{id}.data");
            let record = std::fs::read_to_string(kept_dir.join(name)).unwrap_or_default();
            match (field(&record, "path"), field(&record, "size")) {
                (Some(path), Some(size)) => {
                    let size: u64 = size.parse().unwrap_or(u64::MAX);
                    if !uploads.contains(&(path.clone(), size)) {
                        check.problems.push(format!(
                            "{shown}: kept {size} bytes of {path}, which no client has in doubt"
                        ));
                    }
                    let len = std::fs::metadata(kept_dir.join(&data)).map_or(0, |m| m.len());
                    if len > size {
                        check
                            .problems
                            .push(format!("{shown}: {len} bytes kept of a {size}-byte upload"));
                    }
                }
                _ => check.problems.push(format!("{shown}: unreadable record")),
            }
            if !names.contains(&data) {
                check.problems.push(format!("{shown}: no data file"));
            }
            check.kept += 1;
        } else if let Some(id) = name.strip_suffix(".data") {
            if !names.contains(&format!("{id}.record")) {
                check
                    .problems
                    .push(format!("{shown}: data without a record"));
            }
        } else {
            check.problems.push(format!("{shown}: a staging leftover"));
        }
    }
    check
}

/// The value of `key = "text"` or `key = 123` in a record (TOML written by
/// the server; the soak's paths need no escapes).
fn field(record: &str, key: &str) -> Option<String> {
    record.lines().find_map(|line| {
        let (name, value) = line.split_once('=')?;
        (name.trim() == key).then(|| value.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_a_record() {
        let record = "owner = \"-\"\npath = \"c1/sub/f2\"\nsize = 4096\nkept = 10\n";
        assert_eq!(field(record, "path").as_deref(), Some("c1/sub/f2"));
        assert_eq!(field(record, "size").as_deref(), Some("4096"));
        assert_eq!(field(record, "deadline"), None);
    }

    #[test]
    fn a_staging_leftover_and_an_unexplained_kept_upload_are_problems() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let kept = dir
            .path()
            .join(ferry_server::TEMP_DIR)
            .join(ferry_server::KEPT_DIR);
        std::fs::create_dir_all(&kept).expect("the kept directory");
        assert!(staging(dir.path(), &[]).problems.is_empty());
        std::fs::write(kept.join("7.record"), "path = \"c1/f0\"\nsize = 9\n").expect("a record");
        std::fs::write(kept.join("7.data"), b"abc").expect("its data");
        std::fs::write(
            dir.path().join(ferry_server::TEMP_DIR).join("upload-1"),
            b"x",
        )
        .expect("a leftover");
        let check = staging(dir.path(), &[]);
        assert_eq!(check.kept, 1);
        assert_eq!(check.problems.len(), 2, "{:?}", check.problems);
    }
}
