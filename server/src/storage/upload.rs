//! Uploads in progress: a temporary file in the upload directory that
//! becomes visible only by one rename over its final path, after every
//! byte is on disk.

use super::{from_errno, Storage};
use crate::ServerError;
use ferry_proto::Path;
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Storage {
    /// Creates a new, empty temporary file for an upload.
    pub(crate) fn create_temp(self: &Arc<Self>) -> Result<TempUpload, ServerError> {
        loop {
            let number = self.next_temp.fetch_add(1, Ordering::Relaxed);
            let temp_name = format!("upload-{}-{number}", std::process::id());
            let flags =
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            match rustix::fs::openat(&self.temp, &temp_name, flags, Mode::from_raw_mode(0o644)) {
                Ok(fd) => {
                    return Ok(TempUpload {
                        storage: Arc::clone(self),
                        temp_name,
                        file: Some(std::fs::File::from(fd)),
                        done: false,
                    })
                }
                // Left by another server process sharing the root.
                Err(Errno::EXIST) => continue,
                Err(errno) => return Err(from_errno(errno)),
            }
        }
    }

    /// Names of the entries in the upload directory (for tests).
    #[cfg(test)]
    pub(super) fn temp_entries(&self) -> Vec<String> {
        let fd = rustix::fs::openat(
            &self.temp,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        rustix::fs::Dir::new(fd)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != "." && name != "..")
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

    /// Makes the upload visible at `path`: flushes `file` to disk, renames
    /// it over `path` in one step, then flushes the directory so the rename
    /// survives a crash.
    pub(crate) fn commit(mut self, file: std::fs::File, path: &Path) -> Result<(), ServerError> {
        let committed = self.try_commit(file, path);
        // Removes the temporary file unless the rename happened.
        self.remove();
        committed
    }

    /// The steps of [`TempUpload::commit`]; on error the caller removes the file.
    fn try_commit(&mut self, file: std::fs::File, path: &Path) -> Result<(), ServerError> {
        file.sync_all().map_err(ServerError::from_storage)?;
        drop(file);
        let storage = Arc::clone(&self.storage);
        let renamed = storage.commit_temp(&self.temp_name, path);
        if renamed.is_ok() {
            self.done = true;
        }
        renamed
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
        if let Err(error) = rustix::fs::unlinkat(
            &self.storage.temp,
            self.temp_name.as_str(),
            AtFlags::empty(),
        ) {
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
