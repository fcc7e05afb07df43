//! The storage the commands go through: the local file system (the
//! default, [`Storage`]) or an object store ([`ObjectStore`], `--store`).
//!
//! An enum rather than a trait object: the local side blocks (each call
//! runs on a blocking thread) and the object side is async, the two differ
//! where it matters (a local file is sent with `sendfile(2)`, an object is
//! streamed from a GET), and the commands match on that difference in the
//! one place each has it (`cmd::retrieve`, `cmd::hash`, `cmd::store`),
//! while everything else is one call here.
//!
//! The FTP door goes through the same calls, and through two of its own:
//! [`Store::top_status`] (a session whose home is the top) and
//! [`Store::begin_unsized`] (STOR, whose size is known only at its end).

use super::object::{ObjectFile, ObjectStore, ObjectUpload};
use super::staged::Staged;
use super::{blocking, Begin, OpenedFile, Storage, Upload, UploadKey};
use crate::ServerError;
use bytes::Bytes;
use ferry_proto::{EntryKind, ListingEntry, Path, Status};
use futures::{Stream, StreamExt};
use rustix::fs::OFlags;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;
use tokio::io::AsyncWriteExt;
use tokio_util::task::TaskTracker;

/// The buffer of a local unsized upload's file: one chunk is written on a
/// blocking thread while the next one is read from the data connection.
const UNSIZED_BUFFER: usize = 256 * 1024;

/// The size in the key of an unsized upload on the object store. The key
/// makes the upload known to the store's registry of uploads in progress
/// (a second FTP upload of the same path by the same owner meanwhile gets
/// `450`); no Ferry-protocol upload has this size (the size limit is far
/// below), so none is ever taken for it. Nothing of it is kept.
const UNSIZED: u64 = u64::MAX;

/// Where the served files are.
#[derive(Debug, Clone)]
pub(crate) enum Store {
    /// A directory of the local file system (`--root`).
    Local(Arc<Storage>),
    /// An object store (`--store`).
    Object(Arc<ObjectStore>),
}

/// A regular file opened for reading, with its size at opening time.
#[derive(Debug)]
pub(crate) enum Opened {
    /// An open local file (it keeps its content if the path is replaced).
    Local(OpenedFile),
    /// An object, read later by a ranged GET.
    Object(ObjectFile),
}

impl Opened {
    /// The file's size when it was opened.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Opened::Local(file) => file.len,
            Opened::Object(file) => file.len,
        }
    }
}

/// The bytes `offset..offset + len` of an object (one ranged GET), chunk
/// by chunk, checked to come to exactly `len`: RETRIEVE's and the FTP
/// door's RETR's one reading of an object. A store that sends fewer or more
/// bytes (the object was replaced meanwhile) ends it with an error.
pub(crate) struct ObjectRange<S> {
    chunks: S,
    left: u64,
}

impl ObjectRange<()> {
    pub(crate) async fn open(
        file: &ObjectFile,
        offset: u64,
        len: u64,
    ) -> Result<ObjectRange<impl Stream<Item = std::io::Result<Bytes>> + Unpin>, ServerError> {
        let chunks = file.stream(offset, len).await?;
        Ok(ObjectRange { chunks, left: len })
    }
}

impl<S: Stream<Item = std::io::Result<Bytes>> + Unpin> ObjectRange<S> {
    /// The next chunk, or `None` once all `len` bytes came.
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>, ServerError> {
        let changed = |what: &str| {
            ServerError::TransferAborted(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the object {what} while being sent"),
            ))
        };
        if self.left == 0 {
            return Ok(None);
        }
        match self.chunks.next().await {
            Some(chunk) => {
                let chunk = chunk.map_err(ServerError::TransferAborted)?;
                self.left = self
                    .left
                    .checked_sub(chunk.len() as u64)
                    .ok_or_else(|| changed("grew"))?;
                Ok(Some(chunk))
            }
            None => Err(changed("shrank")),
        }
    }
}

/// An upload that has begun.
#[derive(Debug)]
pub(crate) enum Started {
    /// Into a local file (see `storage::upload`).
    Local(Upload, std::fs::File),
    /// Into the object store (see `object::upload`).
    Object(ObjectUpload),
}

/// An upload whose size is known only when its bytes end (the FTP door's
/// STOR): out of sight until [`Unsized::commit`], and leaving nothing when
/// dropped or aborted instead (nothing of it is kept for a resume: see
/// `staged`).
#[derive(Debug)]
pub(crate) enum Unsized {
    /// A temporary file in the staging area, renamed over the path.
    Local(Staged, tokio::fs::File),
    /// The store's writer of the final object, closed to commit.
    Object(Unkept),
}

/// An object upload that keeps nothing when dropped (`ABOR`, a forced
/// shutdown): the writer is aborted (its parts and segments deleted) on a
/// task of its own, which [`Store::settle`] waits for. An
/// [`ObjectUpload`] dropped by itself would keep what arrived for a
/// `RESUME`, which an unsized upload cannot have.
#[derive(Debug)]
pub(crate) struct Unkept(Option<ObjectUpload>);

/// The aborts of dropped unsized uploads still under way, in this process.
fn aborting() -> &'static TaskTracker {
    static ABORTING: OnceLock<TaskTracker> = OnceLock::new();
    ABORTING.get_or_init(TaskTracker::new)
}

impl Drop for Unkept {
    fn drop(&mut self) {
        if let Some(upload) = self.0.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                aborting().spawn_on(upload.cut(false), &runtime);
            }
        }
    }
}

impl Unsized {
    /// Takes the next bytes.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<(), ServerError> {
        match self {
            Unsized::Local(_, file) => file
                .write_all(bytes)
                .await
                .map_err(ServerError::from_storage),
            Unsized::Object(Unkept(Some(upload))) => upload.write(bytes).await,
            Unsized::Object(Unkept(None)) => Err(ServerError::Storage(std::io::Error::other(
                "the upload has ended",
            ))),
        }
    }

    /// Makes every byte written visible at `path` in one step: the file
    /// flushed to disk and renamed over it, or the object's writer closed.
    /// What was kept of the path (a cut-off Ferry upload) is discarded.
    pub(crate) async fn commit(self, path: Path) -> Result<(), ServerError> {
        match self {
            Unsized::Local(staged, mut file) => {
                file.flush().await.map_err(ServerError::from_storage)?;
                let file = file.into_std().await;
                blocking(move || staged.commit(file, &path)).await
            }
            Unsized::Object(mut unkept) => match unkept.0.take() {
                Some(upload) => upload.commit(&path).await,
                None => Err(ServerError::Storage(std::io::Error::other(
                    "the upload has ended",
                ))),
            },
        }
    }

    /// Ends the upload without a trace, before its error is answered.
    pub(crate) async fn abort(self) {
        match self {
            Unsized::Local(staged, file) => drop((staged, file)),
            Unsized::Object(mut unkept) => {
                if let Some(upload) = unkept.0.take() {
                    upload.cut(false).await;
                }
            }
        }
    }
}

impl Storage {
    /// The root's own status.
    fn top_status(&self) -> Result<Status, ServerError> {
        let root = self
            .beneath
            .open(None, OFlags::PATH)
            .map_err(super::storage_error)?;
        let stat = rustix::fs::fstat(&root).map_err(super::storage_error)?;
        Ok(Status {
            kind: EntryKind::Directory,
            modified: super::modified(&stat),
        })
    }
}

impl Store {
    /// What the FTP door says of the top, for a session whose home is the
    /// top: a directory, with the root's time on disk; on the store the
    /// top has no marker, so no time (0, 1970), as a directory without one.
    pub(crate) async fn top_status(&self) -> Result<Status, ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || storage.top_status()).await
            }
            Store::Object(_) => Ok(Status {
                kind: EntryKind::Directory,
                modified: 0,
            }),
        }
    }

    /// Starts an upload of unknown size to `path` by `owner` (the FTP
    /// door's STOR), after the checks of [`Store::check_store`]. On the
    /// store it is the Ferry protocol's upload (`object::upload`, begun as
    /// a `STORE` begins: what was kept of the path is discarded), under a
    /// key of its own and never kept.
    pub(crate) async fn begin_unsized(
        &self,
        owner: String,
        path: Path,
    ) -> Result<Unsized, ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                let (staged, file) = blocking(move || storage.begin_staged(&path)).await?;
                let mut file = tokio::fs::File::from_std(file);
                file.set_max_buf_size(UNSIZED_BUFFER);
                Ok(Unsized::Local(staged, file))
            }
            Store::Object(store) => {
                store.check_store(&path).await?;
                let key = UploadKey {
                    owner,
                    path,
                    size: UNSIZED,
                };
                let upload = store.begin_upload(key, Begin::Afresh).await?;
                Ok(Unsized::Object(Unkept(Some(upload))))
            }
        }
    }

    /// What `STAT` says of `path`.
    pub(crate) async fn stat(&self, path: Path) -> Result<Status, ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || storage.stat(&path)).await
            }
            Store::Object(store) => store.stat(&path).await,
        }
    }

    /// The regular file at `path`, opened (locally) or looked at (in the
    /// store) for reading.
    pub(crate) async fn open_file(&self, path: Path) -> Result<Opened, ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || storage.open_file(&path).map(Opened::Local)).await
            }
            Store::Object(store) => store.open_file(&path).await.map(Opened::Object),
        }
    }

    /// The entries of the top (`None`) or of a directory, sorted in the
    /// listing's order.
    pub(crate) async fn list(&self, dir: Option<Path>) -> Result<Vec<ListingEntry>, ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || {
                    let mut entries = storage.list(dir.as_ref())?;
                    entries.sort_unstable_by(ListingEntry::listing_order);
                    Ok(entries)
                })
                .await
            }
            Store::Object(store) => store.list(dir.as_ref()).await,
        }
    }

    /// Removes the regular file at `path`.
    pub(crate) async fn delete(&self, path: Path) -> Result<(), ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || storage.delete(&path)).await
            }
            Store::Object(store) => store.delete(&path).await,
        }
    }

    /// Creates the directory `path`.
    pub(crate) async fn mkdir(&self, path: Path) -> Result<(), ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || storage.mkdir(&path)).await
            }
            Store::Object(store) => store.mkdir(&path).await,
        }
    }

    /// Removes the empty directory `path`.
    pub(crate) async fn rmdir(&self, path: Path) -> Result<(), ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || storage.rmdir(&path)).await
            }
            Store::Object(store) => store.rmdir(&path).await,
        }
    }

    /// Moves `from` to `to`.
    pub(crate) async fn rename(&self, from: Path, to: Path) -> Result<(), ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || storage.rename(&from, &to)).await
            }
            Store::Object(store) => store.rename(&from, &to).await,
        }
    }

    /// Refuses a STORE that could never land at `path`.
    pub(crate) async fn check_store(&self, path: Path) -> Result<(), ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || storage.check_store(&path)).await
            }
            Store::Object(store) => store.check_store(&path).await,
        }
    }

    /// Creates an account's home and its missing parents.
    pub(crate) async fn make_home(&self, home: Path) -> Result<(), ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || storage.make_home(&home)).await
            }
            Store::Object(store) => store.make_home(&home).await,
        }
    }

    /// What an upload of `path` by `owner` takes out of the usage: the
    /// file it replaces and what `owner` keeps of the path.
    pub(crate) async fn leaving(&self, owner: String, path: Path) -> Result<u64, ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || {
                    let replaced = storage.replaced_size(&path)?;
                    Ok(replaced.saturating_add(storage.kept_bytes_at(&owner, &path)))
                })
                .await
            }
            Store::Object(store) => {
                let replaced = store.replaced_size(&path).await?;
                Ok(replaced.saturating_add(store.kept_bytes_at(&owner, &path).await?))
            }
        }
    }

    /// `owner`'s usage: the files under `home` and its kept bytes.
    pub(crate) async fn usage(
        &self,
        owner: String,
        home: Option<Path>,
    ) -> Result<u64, ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || {
                    let files = storage.usage(home.as_ref())?;
                    Ok(files.saturating_add(storage.kept_bytes(&owner)))
                })
                .await
            }
            Store::Object(store) => {
                let files = store.usage(home.as_ref()).await?;
                Ok(files.saturating_add(store.kept_bytes(&owner).await?))
            }
        }
    }

    /// Starts the upload `key`: refuses it when the file system has no
    /// room for what is still to come, marks it in progress (`450`) and
    /// opens where its bytes go.
    pub(crate) async fn begin_upload(
        &self,
        key: UploadKey,
        begin: Begin,
    ) -> Result<Started, ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || {
                    let held = match begin {
                        Begin::Afresh => 0,
                        Begin::Continuing => storage.kept_len(&key),
                    };
                    storage.check_space(key.size.saturating_sub(held))?;
                    let mut upload = storage.begin_upload(key, begin)?;
                    match upload.take_file() {
                        Some(file) => Ok(Started::Local(upload, file)),
                        None => {
                            upload.cut(None, false);
                            Err(ServerError::Storage(std::io::Error::other("no file")))
                        }
                    }
                })
                .await
            }
            Store::Object(store) => store.begin_upload(key, begin).await.map(Started::Object),
        }
    }

    /// Removes the kept uploads whose window has ended by `now`, a bounded
    /// batch at a time; returns how many (a full batch: sweep again).
    pub(crate) async fn sweep(&self, now: SystemTime) -> Result<usize, ServerError> {
        match self {
            Store::Local(storage) => {
                let storage = Arc::clone(storage);
                blocking(move || Ok(storage.sweep(now))).await
            }
            Store::Object(store) => Ok(store.sweep(now).await),
        }
    }

    /// Waits until the uploads cut off by a forced shutdown are kept (and
    /// the unsized ones on the store aborted).
    pub(crate) async fn settle(&self) {
        match self {
            Store::Local(storage) => storage.settle().await,
            Store::Object(store) => {
                store.settle().await;
                aborting().close();
                aborting().wait().await;
            }
        }
    }

    /// Where the files are, for the log.
    pub(crate) fn describe(&self) -> Option<String> {
        match self {
            Store::Local(_) => None,
            Store::Object(store) => Some(store.describe()),
        }
    }
}
