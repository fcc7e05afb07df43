//! An upload of unknown size (the FTP door's STOR): a temporary file in
//! the staging area, renamed over its path in one step once the door says
//! it is complete, and removed by its guard in every other case (an error,
//! a reset, a cancelled transfer). Unlike [`super::Upload`], nothing of it
//! is ever kept for a resume: FTP's STOR names no size, so a cut-off
//! upload cannot be told apart from a complete one by its length, and the
//! contract (§6) keeps nothing.

use super::{from_errno, Storage};
use crate::ServerError;
use ferry_proto::Path;
use rustix::fs::AtFlags;
use std::sync::Arc;

/// A temporary file being written; dropped before [`Staged::commit`], it
/// is removed.
#[derive(Debug)]
pub(crate) struct Staged {
    storage: Arc<Storage>,
    name: String,
    committed: bool,
}

impl Storage {
    /// Checks that a file may land at `path` (its parent exists, nothing
    /// but a regular file is in the way) and creates the temporary file.
    pub(crate) fn begin_staged(
        self: &Arc<Self>,
        path: &Path,
    ) -> Result<(Staged, std::fs::File), ServerError> {
        self.check_store(path)?;
        let (name, file) = self.create_temp()?;
        let staged = Staged {
            storage: Arc::clone(self),
            name,
            committed: false,
        };
        Ok((staged, file))
    }
}

impl Staged {
    /// Flushes `file` to disk and renames it over `path` in one step; what
    /// was kept of the path (a cut-off Ferry upload) is discarded, as a
    /// completed upload of the path discards it.
    pub(crate) fn commit(mut self, file: std::fs::File, path: &Path) -> Result<(), ServerError> {
        file.sync_all().map_err(ServerError::from_storage)?;
        drop(file);
        let storage = Arc::clone(&self.storage);
        storage.commit_temp(&storage.temp, &self.name, path)?;
        self.committed = true;
        storage.kept.discard_path(path);
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        match rustix::fs::unlinkat(&self.storage.temp, self.name.as_str(), AtFlags::empty()) {
            Ok(()) => {}
            Err(errno) => {
                let error = from_errno(errno);
                tracing::warn!(temp = %self.name, %error, "cannot remove an unfinished FTP upload");
            }
        }
    }
}
