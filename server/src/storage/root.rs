//! Preparing the root at start: created with sample files if missing, the
//! upload directory made (never through a link) and emptied of what a
//! crash left behind, except the kept partial uploads its records vouch
//! for (see `kept`), which a restart must not lose.

use super::beneath::Beneath;
use super::kept::{Kept, KEPT_DIR};
use super::Storage;
use ferry_proto::Path;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::io::{self, Write};
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tokio_util::task::TaskTracker;

/// Directory at the top of the root that holds uploads in progress. No
/// path reaches it and no listing shows it.
pub const TEMP_DIR: &str = ".ferry-tmp";

/// Files written into a root the server creates, so a first `LIST` shows
/// something (the original application shipped `serverTestFile.txt`).
pub const SAMPLE_FILES: [(&str, &str); 2] = [
    (
        "serverTestFile.txt",
        "This is a test file served by ferry-server.\n\
         Fetch it with RETRIEVE serverTestFile.txt.\n",
    ),
    (
        "welcome.txt",
        "Welcome to Ferry.\n\
         LIST shows the files here, RETRIEVE downloads one, STORE uploads one.\n\
         HELP lists every command.\n",
    ),
];

impl Storage {
    /// Opens the root, creating it with the sample files if it does not
    /// exist, and empties the upload directory of leftovers from a crash;
    /// kept partial uploads are taken in, for `resume_window` from their
    /// cut-off (none with a zero window).
    pub(crate) fn open(path: &std::path::Path, resume_window: Duration) -> io::Result<Storage> {
        let created = match std::fs::symlink_metadata(path) {
            Ok(_) => false,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(path)?;
                true
            }
            Err(error) => return Err(error),
        };
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let root = rustix::fs::open(path, flags, Mode::empty())?;
        if created {
            for (name, contents) in SAMPLE_FILES {
                write_new(&root, name, contents.as_bytes())?;
            }
        }
        match rustix::fs::mkdirat(&root, TEMP_DIR, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(errno) => return Err(errno.into()),
        }
        let beneath = Beneath::new(root);
        // If someone replaced the directory by a symbolic link, refuse to
        // start rather than write uploads wherever it points.
        let temp_path = Path::new(TEMP_DIR).expect("the upload directory's name is valid");
        let temp = beneath.open(Some(&temp_path), OFlags::RDONLY | OFlags::DIRECTORY)?;
        remove_entries(&temp, Some(KEPT_DIR))?;
        match rustix::fs::mkdirat(&temp, KEPT_DIR, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(errno) => return Err(errno.into()),
        }
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let kept_dir = rustix::fs::openat(&temp, KEPT_DIR, flags, Mode::empty())?;
        let kept = Kept::load(kept_dir, resume_window)?;
        Ok(Storage {
            beneath,
            temp,
            next_temp: AtomicU64::new(0),
            kept,
            pending: TaskTracker::new(),
        })
    }
}

/// Writes a new file `name` in `dir`.
fn write_new(dir: &OwnedFd, name: &str, contents: &[u8]) -> io::Result<()> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o644))?;
    std::fs::File::from(fd).write_all(contents)
}

/// Removes everything inside `dir` but the entry `spared`, subdirectories
/// too, never following a link (a link inside is removed as the link it
/// is; a `spared` that is not a directory is removed too).
fn remove_entries(dir: &OwnedFd, spared: Option<&str>) -> io::Result<()> {
    let listing = rustix::fs::openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    for entry in rustix::fs::Dir::new(listing)? {
        let entry = entry?;
        let name = entry.file_name().to_owned();
        if name.as_bytes() == b"." || name.as_bytes() == b".." {
            continue;
        }
        let is_dir = match entry.file_type() {
            FileType::Unknown => {
                rustix::fs::statat(dir, name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW)
                    .map(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::Directory)?
            }
            file_type => file_type == FileType::Directory,
        };
        if is_dir && spared.is_some_and(|spared| name.as_bytes() == spared.as_bytes()) {
            continue;
        }
        let removed = if is_dir {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let child = rustix::fs::openat(dir, name.as_c_str(), flags, Mode::empty())?;
            remove_entries(&child, None)?;
            rustix::fs::unlinkat(dir.as_fd(), name.as_c_str(), AtFlags::REMOVEDIR)
        } else {
            rustix::fs::unlinkat(dir.as_fd(), name.as_c_str(), AtFlags::empty())
        };
        match removed {
            Ok(()) => tracing::info!(name = ?name, "removed leftover upload"),
            Err(Errno::NOENT) => {}
            Err(errno) => return Err(errno.into()),
        }
    }
    Ok(())
}
