//! Directory trees on disk, as the tests build and compare them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

/// Every entry under `dir` by its path relative to `dir` (with `/`), a
/// directory as `None`, a file as its bytes. Symbolic links are not followed.
pub fn tree(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(here) = pending.pop() {
        for entry in std::fs::read_dir(&here).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let relative = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                found.insert(relative, None);
                pending.push(path);
            } else if kind.is_file() {
                found.insert(relative, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    found
}

/// Writes the files and directories of `entries` under `dir`.
pub fn build(dir: &Path, entries: &[(&str, Option<&[u8]>)]) {
    for (path, content) in entries {
        let path = dir.join(path);
        match content {
            None => std::fs::create_dir_all(&path).unwrap(),
            Some(bytes) => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, bytes).unwrap();
            }
        }
    }
}
