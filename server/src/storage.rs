//! The root directory: every file operation of the server, confined to it.
//!
//! The root is opened once as a [`cap_std::fs::Dir`]; every later operation
//! is relative to that handle, so no name can reach outside it. A valid
//! [`Name`] holds no `/`, so it always denotes one entry directly in the
//! root; that entry is opened without following symbolic links and must be
//! a regular file, whatever else someone has put there.
//!
//! Uploads are written to a temporary file in [`TEMP_DIR`], a directory
//! inside the root (never listed: LIST shows regular files only, and no
//! valid name reaches inside it). Only when every byte is on disk is the
//! file renamed over its final name, which replaces it in one step.
//!
//! Every function here blocks; callers run them through [`blocking`].

use crate::ServerError;
use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use ferry_proto::{ListingEntry, Name};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

/// Directory inside the root that holds uploads in progress.
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
    root: Dir,
    /// The root opened for reading, for `fsync` after renames and removals
    /// (the `Dir` handle itself may be an `O_PATH` descriptor).
    root_sync: std::fs::File,
    temp: Dir,
    next_temp: AtomicU64,
}

/// A regular file opened for reading, with its size at opening time.
#[derive(Debug)]
pub(crate) struct OpenedFile {
    /// The open file; it keeps its content even if the name is replaced.
    pub(crate) file: std::fs::File,
    /// Size from `fstat` on the open file.
    pub(crate) len: u64,
}

impl Storage {
    /// Opens the root, creating it with the sample files if it does not
    /// exist, and empties the upload directory of leftovers from a crash.
    pub(crate) fn open(path: &Path) -> io::Result<Storage> {
        let created = match std::fs::symlink_metadata(path) {
            Ok(_) => false,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(path)?;
                true
            }
            Err(error) => return Err(error),
        };
        let root = Dir::open_ambient_dir(path, ambient_authority())?;
        if created {
            for (name, contents) in SAMPLE_FILES {
                root.write(name, contents)?;
            }
        }
        match root.create_dir(TEMP_DIR) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
        // If someone replaced the directory by a symbolic link, refuse to
        // start rather than write uploads wherever it points.
        let temp = root.open_dir_nofollow(TEMP_DIR)?;
        for entry in temp.entries()? {
            let entry = entry?;
            let name = entry.file_name();
            let is_dir = entry.file_type()?.is_dir();
            let removed = if is_dir {
                temp.remove_dir_all(&name)
            } else {
                temp.remove_file(&name)
            };
            match removed {
                Ok(()) => tracing::info!(name = ?name, "removed leftover upload"),
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
        let mut options = OpenOptions::new();
        options.read(true).maybe_dir(true);
        let root_sync = root.open_with(".", &options)?.into_std();
        Ok(Storage {
            root,
            root_sync,
            temp,
            next_temp: AtomicU64::new(0),
        })
    }

    /// The regular files of the root with valid names, unsorted.
    pub(crate) fn list(&self) -> Result<Vec<ListingEntry>, ServerError> {
        let mut entries = Vec::new();
        for entry in self.root.entries().map_err(ServerError::Storage)? {
            let entry = entry.map_err(ServerError::Storage)?;
            // The entry's own type: a symbolic link is a link, not its target.
            match entry.file_type() {
                Ok(file_type) if file_type.is_file() => {}
                _ => continue,
            }
            let Some(name) = entry.file_name().to_str().and_then(|n| Name::new(n).ok()) else {
                continue;
            };
            let metadata = match entry.metadata() {
                Ok(metadata) if metadata.is_file() => metadata,
                // Removed or replaced since the directory was read.
                Ok(_) => continue,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(ServerError::Storage(error)),
            };
            let modified = metadata
                .modified()
                .ok()
                .and_then(|time| time.into_std().duration_since(UNIX_EPOCH).ok())
                .map_or(0, |since| since.as_secs());
            entries.push(ListingEntry {
                size: metadata.len(),
                modified,
                name,
            });
        }
        Ok(entries)
    }

    /// Opens `name` for reading without following symbolic links; anything
    /// but a regular file is "no such file".
    pub(crate) fn open_file(&self, name: &Name) -> Result<OpenedFile, ServerError> {
        let mut options = OpenOptions::new();
        // Non-blocking so that opening a FIFO someone put in the root
        // cannot hang; it is refused below as not a regular file.
        options.read(true).follow(FollowSymlinks::No).nonblock(true);
        let file = self
            .root
            .open_with(name.as_str(), &options)
            .map_err(ServerError::from_storage)?
            .into_std();
        let metadata = file.metadata().map_err(ServerError::from_storage)?;
        if !metadata.is_file() {
            return Err(ServerError::NoSuchFile);
        }
        Ok(OpenedFile {
            file,
            len: metadata.len(),
        })
    }

    /// Removes the regular file `name`; a symbolic link, directory or any
    /// other kind of entry is "no such file" and left alone.
    pub(crate) fn delete(&self, name: &Name) -> Result<(), ServerError> {
        let metadata = self
            .root
            .symlink_metadata(name.as_str())
            .map_err(ServerError::from_storage)?;
        if !metadata.is_file() {
            return Err(ServerError::NoSuchFile);
        }
        // unlink never follows links, so even if the entry was swapped for
        // one since the check, only the entry itself goes.
        self.root
            .remove_file(name.as_str())
            .map_err(ServerError::from_storage)?;
        self.root_sync.sync_all().map_err(ServerError::Storage)
    }

    /// Refuses a STORE that could never be renamed into place, before the
    /// client sends any bytes: the name is taken by a directory (including
    /// the upload directory itself) or the space is not there.
    pub(crate) fn check_store(&self, name: &Name, size: u64) -> Result<(), ServerError> {
        match self.root.symlink_metadata(name.as_str()) {
            Ok(metadata) if metadata.is_dir() => return Err(ServerError::NotAFile),
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(ServerError::from_storage(error)),
        }
        if let Ok(stats) = rustix::fs::fstatvfs(&self.root) {
            let available = stats.f_bavail.saturating_mul(stats.f_frsize);
            if size > available {
                return Err(ServerError::NoSpace);
            }
        }
        Ok(())
    }

    /// Creates a new, empty temporary file for an upload.
    pub(crate) fn create_temp(self: &Arc<Self>) -> Result<TempUpload, ServerError> {
        loop {
            let number = self.next_temp.fetch_add(1, Ordering::Relaxed);
            let temp_name = format!("upload-{}-{number}", std::process::id());
            let mut options = OpenOptions::new();
            options
                .write(true)
                .create_new(true)
                .follow(FollowSymlinks::No);
            match self.temp.open_with(&temp_name, &options) {
                Ok(file) => {
                    return Ok(TempUpload {
                        storage: Arc::clone(self),
                        temp_name,
                        file: Some(file.into_std()),
                        done: false,
                    })
                }
                // Left by another server process sharing the root.
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(ServerError::from_storage(error)),
            }
        }
    }

    /// Names of the entries in the upload directory (for tests).
    #[cfg(test)]
    fn temp_entries(&self) -> Vec<String> {
        self.temp
            .entries()
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

/// A temporary file receiving an upload. Dropping it without
/// [`TempUpload::commit`] removes the file.
#[derive(Debug)]
pub(crate) struct TempUpload {
    storage: Arc<Storage>,
    temp_name: String,
    file: Option<std::fs::File>,
    done: bool,
}

impl TempUpload {
    /// The open file to write the upload into (taken once).
    pub(crate) fn take_file(&mut self) -> Option<std::fs::File> {
        self.file.take()
    }

    /// Makes the upload visible as `name`: flushes `file` to disk, renames
    /// it over `name` in one step, then flushes the directory so the rename
    /// survives a crash.
    pub(crate) fn commit(mut self, file: std::fs::File, name: &Name) -> Result<(), ServerError> {
        let committed = self.try_commit(file, name);
        // Removes the temporary file unless the rename happened.
        self.remove();
        committed
    }

    /// The steps of [`TempUpload::commit`]; on error the caller removes the file.
    fn try_commit(&mut self, file: std::fs::File, name: &Name) -> Result<(), ServerError> {
        file.sync_all().map_err(ServerError::from_storage)?;
        drop(file);
        let storage = Arc::clone(&self.storage);
        storage
            .temp
            .rename(&self.temp_name, &storage.root, name.as_str())
            .map_err(|error| match error.kind() {
                io::ErrorKind::IsADirectory | io::ErrorKind::DirectoryNotEmpty => {
                    ServerError::NotAFile
                }
                _ => ServerError::from_storage(error),
            })?;
        self.done = true;
        storage.root_sync.sync_all().map_err(ServerError::Storage)
    }

    /// Removes the temporary file now (blocking).
    pub(crate) fn discard(mut self) {
        self.remove();
    }

    /// Removes the temporary file unless it was renamed or removed already.
    fn remove(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        self.file = None;
        if let Err(error) = self.storage.temp.remove_file(&self.temp_name) {
            tracing::warn!(temp = %self.temp_name, %error, "cannot remove temporary upload");
        }
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Only reached when a transfer is cancelled (forced shutdown); the
        // normal failure paths call `discard` themselves.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let mut upload = TempUpload {
                    storage: Arc::clone(&self.storage),
                    temp_name: std::mem::take(&mut self.temp_name),
                    file: self.file.take(),
                    done: false,
                };
                self.done = true;
                runtime.spawn_blocking(move || upload.remove());
            }
            Err(_) => self.remove(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A name known to be valid.
    fn name(text: &str) -> Name {
        Name::new(text).unwrap()
    }

    #[test]
    fn missing_root_is_created_with_sample_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("a/b");
        let storage = Storage::open(&root).unwrap();
        let mut names: Vec<_> = storage
            .list()
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        names.sort();
        assert_eq!(names, vec![name("serverTestFile.txt"), name("welcome.txt")]);
    }

    #[test]
    fn existing_root_gets_no_sample_files() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        assert!(storage.list().unwrap().is_empty());
    }

    #[test]
    fn upload_is_invisible_until_committed_and_discard_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(Storage::open(dir.path()).unwrap());
        let mut upload = storage.create_temp().unwrap();
        let mut file = upload.take_file().unwrap();
        file.write_all(b"hello").unwrap();
        assert!(storage.list().unwrap().is_empty());
        assert_eq!(storage.temp_entries().len(), 1);
        upload.commit(file, &name("x")).unwrap();
        assert_eq!(storage.temp_entries().len(), 0);
        assert_eq!(std::fs::read(dir.path().join("x")).unwrap(), b"hello");

        let upload = storage.create_temp().unwrap();
        assert_eq!(storage.temp_entries().len(), 1);
        upload.discard();
        assert_eq!(storage.temp_entries().len(), 0);
        drop(storage.create_temp().unwrap());
        assert_eq!(storage.temp_entries().len(), 0);
    }

    #[test]
    fn fifo_and_directory_are_not_files() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.path().join("fifo"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
            0,
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for entry in ["fifo", "sub", TEMP_DIR] {
            assert!(matches!(
                storage.open_file(&name(entry)),
                Err(ServerError::NoSuchFile)
            ));
            assert!(matches!(
                storage.delete(&name(entry)),
                Err(ServerError::NoSuchFile)
            ));
        }
        assert!(storage.list().unwrap().is_empty());
        assert!(matches!(
            storage.check_store(&name(TEMP_DIR), 1),
            Err(ServerError::NotAFile)
        ));
    }
}
