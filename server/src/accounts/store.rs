//! Writing the accounts file: atomically, and readable by its owner only.
//!
//! The file holds password hashes, so it is mode 0600 from its first byte:
//! the new content goes to a temporary file created 0600 in the same
//! directory, is flushed to disk, and is renamed over the old file, then
//! the directory is flushed so the rename itself survives a crash. A
//! reader (the running server) sees the old file or the new one, never half
//! of either; and a crash leaves at most a stray temporary file. Two runs
//! of the tool at once take turns ([`lock_directory`]), so neither loses
//! the other's change.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of the accounts file.
pub const FILE_MODE: u32 = 0o600;

/// Holds an exclusive lock on the directory of the file at `path` until
/// dropped: the tool reads, changes and writes the file under it. (The
/// directory, not the file, because the file is replaced by each write.)
pub fn lock_directory(path: &Path) -> io::Result<File> {
    let dir = File::open(directory_of(path))?;
    rustix::fs::flock(&dir, rustix::fs::FlockOperation::LockExclusive)?;
    Ok(dir)
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Replaces the file at `path` with `content` (creating it if missing).
pub fn write_private(path: &Path, content: &[u8]) -> io::Result<()> {
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::other("the accounts file path has no file name"))?;
    let dir = directory_of(path);
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let written = write_new(&temp, content).and_then(|()| std::fs::rename(&temp, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(error);
    }
    File::open(dir)?.sync_all()
}

/// Writes `content` to a new file at `path`, mode 0600, flushed to disk.
fn write_new(path: &Path, content: &[u8]) -> io::Result<()> {
    // A temporary file left by a crashed run of the same process id.
    let _ = std::fs::remove_file(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    // The umask can only remove bits from 0600, but say it exactly anyway.
    file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    file.write_all(content)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_and_replaces_with_mode_0600_leaving_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.toml");
        write_private(&path, b"one").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        assert_eq!(mode(&path), FILE_MODE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(mode(&path), FILE_MODE);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn the_directory_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.toml");
        let held = lock_directory(&path).unwrap();
        let other = File::open(dir.path()).unwrap();
        let try_lock = rustix::fs::FlockOperation::NonBlockingLockExclusive;
        assert!(rustix::fs::flock(&other, try_lock).is_err());
        drop(held);
        assert!(rustix::fs::flock(&other, try_lock).is_ok());
        assert!(
            lock_directory(Path::new("accounts.toml")).is_ok(),
            "the current directory"
        );
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/accounts.toml");
        assert!(write_private(&path, b"x").is_err());
    }
}
