//! The served tree: every file operation of the server, confined to the
//! root, behind this one narrow interface (so that another back-end, an
//! object store, can take its place later without the commands changing).
//!
//! Every path is resolved beneath the root by the kernel (see `beneath`):
//! a symbolic link in any component, the last one included, is never
//! followed, replaced or removed, and other non-regular files (FIFOs,
//! sockets, devices) are never listed, opened or replaced. The operations
//! that act on an entry resolve its parent directory to a descriptor and
//! then act on the name inside it (`unlinkat`, `mkdirat`, `renameat`), so a
//! directory swapped for a link meanwhile is never walked through.
//!
//! Uploads are written to a temporary file in [`TEMP_DIR`], a directory at
//! the top of the root that no path reaches (every command on it or under
//! it is refused) and no listing shows. Only when every byte is on disk is
//! the file renamed over its final path, which replaces it in one step.
//! What a cut-off upload leaves is kept in a directory of the staging area
//! for the resume window (see `kept`); the commands that discard a path
//! here (DELETE, RENAME, RMDIR) also discard what is kept of it.
//!
//! Every function here blocks; callers run them through [`blocking`].
//! The commands reach this storage, or the object store that may take its
//! place (`object`), through [`Store`] (`store`).

mod beneath;
mod home;
mod kept;
mod listing;
mod object;
mod root;
mod staged;
mod store;
mod upload;

pub(crate) use kept::{Begin, UploadKey, SWEEP_BATCH, SWEEP_INTERVAL};
pub use kept::{ANONYMOUS_OWNER, KEPT_DIR};
pub(crate) use object::{ObjectFile, ObjectStore, ObjectUpload};
pub use object::{Secret, StoreKind, StoreSpec};
pub use root::{SAMPLE_FILES, TEMP_DIR};
pub(crate) use store::{ObjectRange, Opened, Started, Store};
pub(crate) use upload::Upload;

use crate::ServerError;
use beneath::Beneath;
use ferry_proto::{EntryKind, Name, Path, Status};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags, Stat};
use rustix::io::Errno;
use std::io;
use std::sync::atomic::AtomicU64;
use std::time::SystemTime;
use tokio_util::task::TaskTracker;

/// Runs blocking file system work off the async worker threads.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, ServerError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ServerError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|join| ServerError::Storage(io::Error::other(join)))?
}

/// The served directory.
#[derive(Debug)]
pub(crate) struct Storage {
    beneath: Beneath,
    /// The upload directory, opened for reading.
    temp: OwnedFd,
    next_temp: AtomicU64,
    kept: kept::Kept,
    /// Cut-offs of dropped uploads still being kept (see `upload`).
    pending: TaskTracker,
}

/// A regular file opened for reading, with its size at opening time.
#[derive(Debug)]
pub(crate) struct OpenedFile {
    /// The open file; it keeps its content even if the path is replaced.
    pub(crate) file: std::fs::File,
    /// Size from `fstat` on the open file.
    pub(crate) len: u64,
}

/// A directory holding the entry a path names, and that entry's name.
struct InParent {
    dir: OwnedFd,
    name: Name,
}

impl Storage {
    /// Opens the regular file at `path` for reading. Its type is checked on
    /// an `O_PATH` descriptor first, so a FIFO or device is never opened;
    /// the file is then opened for reading (non-blocking, in case it was
    /// swapped meanwhile) and must be the very same inode.
    pub(crate) fn open_file(&self, path: &Path) -> Result<OpenedFile, ServerError> {
        reject_reserved(path)?;
        let probe = self
            .beneath
            .open(Some(path), OFlags::PATH)
            .map_err(from_errno)?;
        let before = rustix::fs::fstat(&probe).map_err(storage_error)?;
        match FileType::from_raw_mode(before.st_mode) {
            FileType::RegularFile => {}
            FileType::Directory => return Err(ServerError::Unavailable("Is a directory")),
            _ => return Err(ServerError::NoSuchFile),
        }
        let flags = OFlags::RDONLY | OFlags::NONBLOCK;
        let fd = self.beneath.open(Some(path), flags).map_err(from_errno)?;
        let after = rustix::fs::fstat(&fd).map_err(storage_error)?;
        let same = (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino);
        if !same || FileType::from_raw_mode(after.st_mode) != FileType::RegularFile {
            return Err(ServerError::NoSuchFile);
        }
        Ok(OpenedFile {
            file: std::fs::File::from(fd),
            len: size(&after),
        })
    }

    /// What `STAT` says of `path`: a regular file or a directory.
    pub(crate) fn stat(&self, path: &Path) -> Result<Status, ServerError> {
        reject_reserved(path)?;
        let probe = self
            .beneath
            .open(Some(path), OFlags::PATH)
            .map_err(from_errno)?;
        let stat = rustix::fs::fstat(&probe).map_err(storage_error)?;
        let kind = match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => EntryKind::File { size: size(&stat) },
            FileType::Directory => EntryKind::Directory,
            _ => return Err(ServerError::NoSuchFile),
        };
        Ok(Status {
            kind,
            modified: modified(&stat),
        })
    }

    /// Removes the regular file at `path`; anything else is refused and
    /// left alone.
    pub(crate) fn delete(&self, path: &Path) -> Result<(), ServerError> {
        let entry = self.in_parent(path)?;
        match entry.file_type()? {
            Some(FileType::RegularFile) => {}
            Some(FileType::Directory) => return Err(ServerError::Unavailable("Is a directory")),
            _ => return Err(ServerError::NoSuchFile),
        }
        rustix::fs::unlinkat(&entry.dir, entry.name.as_str(), AtFlags::empty())
            .map_err(from_errno)?;
        sync_dir(&entry.dir)?;
        self.kept.discard_within(path);
        Ok(())
    }

    /// Creates the directory `path`; its parent must exist.
    pub(crate) fn mkdir(&self, path: &Path) -> Result<(), ServerError> {
        let entry = self.in_parent(path)?;
        let mode = Mode::from_raw_mode(0o755);
        match rustix::fs::mkdirat(&entry.dir, entry.name.as_str(), mode) {
            Ok(()) => sync_dir(&entry.dir),
            Err(Errno::EXIST) => Err(ServerError::Unavailable("Already exists")),
            Err(errno) => Err(from_errno(errno)),
        }
    }

    /// Removes the empty directory `path` (a link, FIFO or socket inside
    /// makes it non-empty, as any entry does).
    pub(crate) fn rmdir(&self, path: &Path) -> Result<(), ServerError> {
        let entry = self.in_parent(path)?;
        if entry.file_type()? != Some(FileType::Directory) {
            return Err(ServerError::Unavailable("No such directory"));
        }
        match rustix::fs::unlinkat(&entry.dir, entry.name.as_str(), AtFlags::REMOVEDIR) {
            Ok(()) => {
                sync_dir(&entry.dir)?;
                self.kept.discard_within(path);
                Ok(())
            }
            Err(Errno::NOTEMPTY | Errno::EXIST) => {
                Err(ServerError::Unavailable("Directory not empty"))
            }
            Err(errno) => Err(from_errno(errno)),
        }
    }

    /// Moves a file or directory in one step. A file replaces an existing
    /// file; nothing else is ever replaced.
    pub(crate) fn rename(&self, from: &Path, to: &Path) -> Result<(), ServerError> {
        let source = self.in_parent(from)?;
        let source_is_dir = match source.file_type()? {
            Some(FileType::RegularFile) => false,
            Some(FileType::Directory) => true,
            _ => return Err(ServerError::NoSuchFile),
        };
        if source_is_dir && to.is_within(from) {
            return Err(ServerError::Unavailable(
                "Cannot move a directory into itself",
            ));
        }
        let target = self.in_parent(to)?;
        let flags = match target.file_type()? {
            // Absent: and it must still be absent when the rename happens.
            None => RenameFlags::NOREPLACE,
            Some(FileType::RegularFile) if !source_is_dir => RenameFlags::empty(),
            Some(FileType::RegularFile) => {
                return Err(ServerError::Unavailable(
                    "Cannot replace a file with a directory",
                ))
            }
            Some(FileType::Directory) => {
                return Err(ServerError::Unavailable("Target is a directory"))
            }
            Some(_) => return Err(ServerError::Unavailable("Target is not a regular file")),
        };
        rustix::fs::renameat_with(
            &source.dir,
            source.name.as_str(),
            &target.dir,
            target.name.as_str(),
            flags,
        )
        .map_err(|errno| match errno {
            Errno::EXIST | Errno::NOTEMPTY | Errno::ISDIR => {
                ServerError::Unavailable("Target is in the way")
            }
            Errno::INVAL => ServerError::Unavailable("Cannot move a directory into itself"),
            other => from_errno(other),
        })?;
        sync_dir(&target.dir)?;
        sync_dir(&source.dir)?;
        self.kept.discard_within(from);
        self.kept.discard_within(to);
        Ok(())
    }

    /// Refuses a STORE that could never be renamed into place, before the
    /// client sends any bytes: the parent directory is missing, or the path
    /// is a directory or something other than a regular file.
    pub(crate) fn check_store(&self, path: &Path) -> Result<(), ServerError> {
        self.in_parent(path)?.check_replaceable()
    }

    /// Refuses an upload of `size` bytes that the file system has no room for.
    pub(crate) fn check_space(&self, size: u64) -> Result<(), ServerError> {
        if let Ok(stats) = rustix::fs::fstatvfs(&self.temp) {
            let available = stats.f_bavail.saturating_mul(stats.f_frsize);
            if size > available {
                return Err(ServerError::NoSpace);
            }
        }
        Ok(())
    }

    /// Moves the finished upload `temp_name` in `dir` over `path` in one
    /// step and makes the rename durable.
    fn commit_temp(&self, dir: &OwnedFd, temp_name: &str, path: &Path) -> Result<(), ServerError> {
        let entry = self.in_parent(path)?;
        entry.check_replaceable()?;
        rustix::fs::renameat(dir, temp_name, &entry.dir, entry.name.as_str()).map_err(|errno| {
            match errno {
                Errno::ISDIR | Errno::NOTEMPTY | Errno::EXIST => ServerError::NotAFile,
                other => from_errno(other),
            }
        })?;
        sync_dir(&entry.dir)
    }

    /// Bytes kept at rest for `key`: what a `RESUME` of it would continue
    /// from.
    pub(crate) fn kept_len(&self, key: &UploadKey) -> u64 {
        self.kept.kept_len(key)
    }

    /// Bytes `owner` (an account name, or [`ANONYMOUS_OWNER`]) keeps in
    /// partial uploads, those being continued included: what a quota
    /// counts besides the files. For a `RESUME`, [`Storage::kept_len`] of
    /// its own upload is part of this figure and of its size alike.
    pub(crate) fn kept_bytes(&self, owner: &str) -> u64 {
        self.kept.kept_bytes(owner)
    }

    /// Bytes `owner` keeps of uploads to `path`, any size: what an upload
    /// of `path` takes out of the usage (it discards or continues them).
    pub(crate) fn kept_bytes_at(&self, owner: &str, path: &Path) -> u64 {
        self.kept.kept_bytes_at(owner, path)
    }

    /// Removes the kept uploads whose window has ended by `now`, a bounded
    /// batch at a time; returns how many (a full batch: sweep again).
    pub(crate) fn sweep(&self, now: SystemTime) -> usize {
        self.kept.sweep(now)
    }

    /// Waits until the uploads cut off by a forced shutdown are kept.
    pub(crate) async fn settle(&self) {
        self.pending.close();
        self.pending.wait().await;
    }

    /// The parent directory of `path`, opened beneath the root, and the
    /// name of the entry inside it. A missing parent is "no such directory".
    fn in_parent(&self, path: &Path) -> Result<InParent, ServerError> {
        reject_reserved(path)?;
        let parent = path.parent();
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        let dir = self
            .beneath
            .open(parent.as_ref(), flags)
            .map_err(|errno| match errno {
                Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::XDEV => {
                    ServerError::Unavailable("No such directory")
                }
                other => from_errno(other),
            })?;
        Ok(InParent {
            dir,
            name: path.last_name(),
        })
    }
}

impl InParent {
    /// The entry's own type (a link is a link), or `None` if it is absent.
    fn file_type(&self) -> Result<Option<FileType>, ServerError> {
        match rustix::fs::statat(&self.dir, self.name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(FileType::from_raw_mode(stat.st_mode))),
            Err(Errno::NOENT) => Ok(None),
            Err(errno) => Err(from_errno(errno)),
        }
    }

    /// An upload may land here: nothing there yet, or a regular file.
    fn check_replaceable(&self) -> Result<(), ServerError> {
        match self.file_type()? {
            None | Some(FileType::RegularFile) => Ok(()),
            Some(FileType::Directory) => Err(ServerError::NotAFile),
            Some(_) => Err(ServerError::NoSuchFile),
        }
    }
}

/// Every command on the staging area or under it is refused.
fn reject_reserved(path: &Path) -> Result<(), ServerError> {
    if path.first_name() == TEMP_DIR {
        return Err(ServerError::NoSuchFile);
    }
    Ok(())
}

/// Flushes a directory, so that a rename or removal in it survives a crash.
fn sync_dir(dir: impl AsFd) -> Result<(), ServerError> {
    rustix::fs::fsync(dir).map_err(storage_error)
}

fn size(stat: &Stat) -> u64 {
    u64::try_from(stat.st_size).unwrap_or(0)
}

fn modified(stat: &Stat) -> u64 {
    u64::try_from(stat.st_mtime).unwrap_or(0)
}

/// A file system error as the server reports it (see
/// [`ServerError::from_storage`]).
fn from_errno(errno: Errno) -> ServerError {
    ServerError::from_storage(io::Error::from(errno))
}

/// A failure that is the server's own problem (451).
fn storage_error(errno: Errno) -> ServerError {
    ServerError::Storage(io::Error::from(errno))
}

#[cfg(test)]
mod tests;
