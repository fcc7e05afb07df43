//! Uploads in progress: a file out of sight that becomes visible only by
//! one rename over its final path, after every byte is on disk.
//!
//! A fresh upload is a temporary file in the staging directory; a resumed
//! one appends to its kept data file (see `kept`). Cut off, an upload
//! hands what arrived to the kept uploads (or removes it, with a resume
//! window of 0); dropped without either (a forced shutdown cancels the
//! transfer where it stands), it does the same on a blocking thread the
//! server waits for before it stops.

use super::kept::{data_name, Begin, UploadKey};
use super::{from_errno, storage_error, Storage};
use crate::ServerError;
use ferry_proto::Path;
use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;
use std::io::{Seek, SeekFrom};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Where an upload's bytes are being written.
#[derive(Debug, Clone)]
enum Place {
    /// A temporary file of this name in the staging directory.
    Staging(String),
    /// The data file of the kept upload of this id.
    Kept(String),
}

impl Storage {
    /// Starts the upload `key`: marks it in progress (`450` if it is
    /// already), discards what `begin` discards, and opens the file to
    /// write into: the kept data to continue, or a new temporary file.
    pub(crate) fn begin_upload(
        self: &Arc<Self>,
        key: UploadKey,
        begin: Begin,
    ) -> Result<Upload, ServerError> {
        let continued = self.kept.begin(&key, begin)?;
        let opened = match continued {
            Some(entry) => match self.reopen_kept(&entry.id, entry.kept) {
                Ok(file) => Ok((Place::Kept(entry.id), entry.kept, file)),
                Err(error) => {
                    tracing::warn!(id = entry.id, %error, "cannot continue a kept upload: starting from zero");
                    self.kept.remove_files(&entry.id);
                    self.create_temp()
                        .map(|(name, file)| (Place::Staging(name), 0, file))
                }
            },
            None => self
                .create_temp()
                .map(|(name, file)| (Place::Staging(name), 0, file)),
        };
        match opened {
            Ok((place, offset, file)) => Ok(Upload {
                storage: Arc::clone(self),
                key,
                place,
                offset,
                file: Some(file),
                finished: false,
            }),
            Err(error) => {
                self.kept.end(&key);
                Err(error)
            }
        }
    }

    /// Opens the kept data `id` for appending after its first `kept` bytes
    /// (anything after them is cut off first).
    fn reopen_kept(&self, id: &str, kept: u64) -> Result<std::fs::File, ServerError> {
        let flags = OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(
            self.kept.dir(),
            data_name(id).as_str(),
            flags,
            Mode::empty(),
        )
        .map_err(storage_error)?;
        rustix::fs::ftruncate(&fd, kept).map_err(storage_error)?;
        let mut file = std::fs::File::from(fd);
        file.seek(SeekFrom::Start(kept))
            .map_err(ServerError::Storage)?;
        Ok(file)
    }

    /// Creates a new, empty temporary file in the staging directory.
    pub(super) fn create_temp(&self) -> Result<(String, std::fs::File), ServerError> {
        loop {
            let number = self.next_temp.fetch_add(1, Ordering::Relaxed);
            let temp_name = format!("upload-{}-{number}", std::process::id());
            let flags =
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            match rustix::fs::openat(&self.temp, &temp_name, flags, Mode::from_raw_mode(0o644)) {
                Ok(fd) => return Ok((temp_name, std::fs::File::from(fd))),
                // Left by another server process sharing the root.
                Err(Errno::EXIST) => continue,
                Err(errno) => return Err(from_errno(errno)),
            }
        }
    }

    /// Names of the entries in the staging directory besides the kept
    /// uploads' directory (for tests).
    #[cfg(test)]
    pub(super) fn temp_entries(&self) -> Vec<String> {
        entries(&self.temp)
            .into_iter()
            .filter(|name| name != super::KEPT_DIR)
            .collect()
    }

    /// Names of the files of the kept uploads (for tests).
    #[cfg(test)]
    pub(super) fn kept_entries(&self) -> Vec<String> {
        entries(self.kept.dir())
    }
}

#[cfg(test)]
fn entries(dir: &OwnedFd) -> Vec<String> {
    let fd = rustix::fs::openat(
        dir,
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

/// An upload in progress. It ends by [`Upload::commit`] or
/// [`Upload::cut`]; dropped before either, it is cut on a blocking thread.
#[derive(Debug)]
pub(crate) struct Upload {
    storage: Arc<Storage>,
    key: UploadKey,
    place: Place,
    /// Bytes already held when it began.
    offset: u64,
    file: Option<std::fs::File>,
    finished: bool,
}

impl Upload {
    /// Bytes the server holds already: the client sends the rest.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The whole file's size.
    pub(crate) fn size(&self) -> u64 {
        self.key.size
    }

    /// The open file to write the rest of the upload into, positioned
    /// after [`Upload::offset`] bytes (taken once).
    pub(crate) fn take_file(&mut self) -> Option<std::fs::File> {
        self.file.take()
    }

    /// Makes the upload visible at `path`: flushes `file` to disk, renames
    /// it over `path` in one step, then flushes the directory so the rename
    /// survives a crash. What was kept of the path is discarded.
    pub(crate) fn commit(mut self, file: std::fs::File, path: &Path) -> Result<(), ServerError> {
        self.finished = true;
        let storage = Arc::clone(&self.storage);
        let placed = file
            .sync_all()
            .map_err(ServerError::from_storage)
            .and_then(|()| {
                drop(file);
                let (dir, name) = self.location();
                storage.commit_temp(dir, &name, path)
            });
        match (&placed, &self.place) {
            (Ok(()), Place::Kept(id)) => storage.kept.remove_record(id),
            (Ok(()), Place::Staging(_)) => {}
            (Err(_), _) => self.remove_data(),
        }
        storage.kept.end(&self.key);
        if placed.is_ok() {
            storage.kept.discard_path(path);
        }
        placed
    }

    /// The client went away before the last byte: keeps what arrived in
    /// `file` (or, when `None`, in the file on disk), fsynced and recorded,
    /// unless nothing is kept on this server, the bytes may not be whole
    /// (`intact` false: writing failed), or its path was discarded.
    pub(crate) fn cut(mut self, file: Option<std::fs::File>, intact: bool) {
        self.finished = true;
        let storage = Arc::clone(&self.storage);
        let kept = &storage.kept;
        if !kept.keeps() || !intact {
            self.remove_data();
            kept.end(&self.key);
            return;
        }
        let len = match self.durable_len(file) {
            Ok(len) if len > 0 => len.min(self.key.size),
            Ok(_) => {
                self.remove_data();
                kept.end(&self.key);
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot keep a partial upload");
                self.remove_data();
                kept.end(&self.key);
                return;
            }
        };
        let id = match &self.place {
            Place::Kept(id) => Ok(id.clone()),
            Place::Staging(name) => kept.adopt(&storage.temp, name),
        };
        let kept_as = id.and_then(|id| kept.keep(&self.key, &id, len));
        if let Err(error) = kept_as {
            tracing::warn!(%error, "cannot keep a partial upload");
            self.remove_data();
            kept.end(&self.key);
        }
    }

    /// Flushes the bytes written so far to disk and returns their number.
    fn durable_len(&self, file: Option<std::fs::File>) -> Result<u64, ServerError> {
        let file = match file {
            Some(file) => file,
            None => {
                let (dir, name) = self.location();
                let flags = OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                let fd = rustix::fs::openat(dir, name.as_str(), flags, Mode::empty())
                    .map_err(storage_error)?;
                std::fs::File::from(fd)
            }
        };
        file.sync_all().map_err(ServerError::Storage)?;
        Ok(file.metadata().map_err(ServerError::Storage)?.len())
    }

    /// The directory and the name of the file being written.
    fn location(&self) -> (&OwnedFd, String) {
        match &self.place {
            Place::Staging(name) => (&self.storage.temp, name.clone()),
            Place::Kept(id) => (self.storage.kept.dir(), data_name(id)),
        }
    }

    /// Removes the file being written (and a kept upload's record).
    fn remove_data(&mut self) {
        self.file = None;
        match &self.place {
            Place::Staging(name) => {
                if let Err(error) =
                    rustix::fs::unlinkat(&self.storage.temp, name.as_str(), AtFlags::empty())
                {
                    tracing::warn!(temp = %name, %error, "cannot remove temporary upload");
                }
            }
            Place::Kept(id) => self.storage.kept.remove_files(id),
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let upload = Upload {
            storage: Arc::clone(&self.storage),
            key: self.key.clone(),
            place: self.place.clone(),
            offset: self.offset,
            file: self.file.take(),
            finished: false,
        };
        // Only reached when a transfer is cancelled (forced shutdown); the
        // other paths end the upload themselves.
        match tokio::runtime::Handle::try_current() {
            Ok(_) => {
                let pending = self.storage.pending.clone();
                pending.spawn_blocking(move || upload.cut(None, true));
            }
            Err(_) => upload.cut(None, true),
        }
    }
}
