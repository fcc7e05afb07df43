//! An upload (STORE, RESUME) to the object store: the client's bytes go to
//! one OpenDAL writer of the final object, which the store makes visible
//! only when it is closed after the last byte (a single PUT, or an S3
//! multipart / Swift SLO upload completed then); an abort deletes what it
//! wrote (parts, segments), so a cut-off upload leaves no object.
//!
//! Unless nothing is kept (a resume window of 0), the same bytes also go
//! to the kept parts (see `kept`) as they arrive, so that a cut-off upload
//! is kept in the store and another server can continue it. That writes
//! every upload twice to the store (the parts are removed at the end); it
//! is the price of a resume that survives the server. A RESUME feeds the
//! kept parts to the new writer before its `150`.

use super::kept::{new_upload, part_key, Part, Run, PART_LEN};
use super::{file_key, ObjectStore};
use crate::storage::{Begin, UploadKey};
use crate::ServerError;
use bytes::Bytes;
use ferry_proto::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The writer's chunk: what a multipart part or SLO segment holds (S3 and
/// Swift want at least 5 MiB but for the last).
pub(super) const WRITE_CHUNK: usize = 8 * 1024 * 1024;

/// An upload in progress; dropped before [`ObjectUpload::commit`] or
/// [`ObjectUpload::cut`], it is cut on a task the server waits for.
#[derive(Debug)]
pub(crate) struct ObjectUpload {
    inner: Option<Inner>,
}

struct Inner {
    store: Arc<ObjectStore>,
    key: UploadKey,
    /// Bytes held when it began.
    offset: u64,
    writer: opendal::Writer,
    /// The kept parts being written, unless nothing is kept.
    parts: Option<Parts>,
    /// Raised when its path is discarded meanwhile.
    discarded: Arc<AtomicBool>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("key", &self.key)
            .field("offset", &self.offset)
            .field("parts", &self.parts.as_ref().map(|parts| parts.next))
            .finish_non_exhaustive()
    }
}

struct Parts {
    /// This upload's own id and directory (see `kept`).
    id: String,
    dir: String,
    /// The runs of the kept upload it continues, and their parts.
    runs: Vec<Run>,
    continued: Vec<String>,
    /// Offset of the next part.
    next: u64,
    buffer: Vec<u8>,
    /// The PUT of the last full part, under way while the next bytes come
    /// in (one at a time: a part in flight and one filling).
    in_flight: Option<tokio::task::JoinHandle<Result<(), ServerError>>>,
}

impl Parts {
    /// Waits for the part in flight; its failure is this upload's.
    async fn settle(&mut self) -> Result<(), ServerError> {
        match self.in_flight.take() {
            None => Ok(()),
            Some(put) => put
                .await
                .map_err(|join| ServerError::Storage(std::io::Error::other(join)))?,
        }
    }
}

impl ObjectUpload {
    /// Starts the upload `key` (`450` if it is in progress here already).
    pub(super) async fn begin(
        store: Arc<ObjectStore>,
        key: UploadKey,
        begin: Begin,
    ) -> Result<ObjectUpload, ServerError> {
        let (discarded, continued) = store.kept.begin(&store, &key, begin).await?;
        match Inner::open(&store, &key, &continued.parts).await {
            Ok((writer, offset)) => {
                let parts = store.kept.keeps().then(|| {
                    let (id, dir) = new_upload(&key);
                    Parts {
                        id,
                        dir,
                        runs: continued.runs,
                        continued: continued.parts.into_iter().map(|part| part.key).collect(),
                        next: offset,
                        buffer: Vec::new(),
                        in_flight: None,
                    }
                });
                Ok(ObjectUpload {
                    inner: Some(Inner {
                        store,
                        key,
                        offset,
                        writer,
                        parts,
                        discarded,
                    }),
                })
            }
            Err(error) => {
                store.kept.end(&key);
                Err(error)
            }
        }
    }

    /// Bytes the server holds already: the client sends the rest.
    pub(crate) fn offset(&self) -> u64 {
        self.inner.as_ref().map_or(0, |inner| inner.offset)
    }

    /// The whole file's size.
    pub(crate) fn size(&self) -> u64 {
        self.inner.as_ref().map_or(0, |inner| inner.key.size)
    }

    /// Takes the next bytes of the upload.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<(), ServerError> {
        let inner = self.inner.as_mut().ok_or_else(ended)?;
        inner.write(bytes).await
    }

    /// Makes the upload visible at `path` (its parent still there, no
    /// directory in the way): the writer is closed, the kept parts go, and
    /// so does what was kept of the path.
    pub(crate) async fn commit(mut self, path: &Path) -> Result<(), ServerError> {
        let mut inner = self.inner.take().ok_or_else(ended)?;
        let store = Arc::clone(&inner.store);
        // The parent may have gone meanwhile (one listing request).
        let checked = store.check_parent(path).await;
        let closed = match checked {
            Ok(()) => match inner.writer.close().await {
                Ok(_) => Ok(()),
                Err(error) => Err(store.fail(error).await),
            },
            Err(error) => {
                let _ = inner.writer.abort().await;
                Err(error)
            }
        };
        if let Some(parts) = &mut inner.parts {
            let _ = parts.settle().await;
        }
        store.kept.end(&inner.key);
        if closed.is_err() {
            // The parts written go (the discard below, after a commit,
            // takes them with what else was kept of the path).
            if let Some(parts) = inner.parts.as_ref().filter(|parts| parts.next > 0) {
                store
                    .kept
                    .forget(&store, &parts.dir, &parts.continued)
                    .await;
            }
        }
        closed?;
        if let Err(error) = store.kept.discard_path(&store, path).await {
            tracing::warn!(%error, "cannot discard what was kept of a stored path");
        }
        Ok(())
    }

    /// The client went away before the last byte: the writer is aborted,
    /// and what arrived is kept (its last part written, the manifest),
    /// unless nothing is kept, the bytes may not be whole (`intact` false),
    /// or the path was discarded meanwhile.
    pub(crate) async fn cut(mut self, intact: bool) {
        if let Some(inner) = self.inner.take() {
            inner.cut(intact).await;
        }
    }
}

fn ended() -> ServerError {
    ServerError::Storage(std::io::Error::other("the upload has ended"))
}

impl Inner {
    /// Opens the writer of the final object and feeds it the `continued`
    /// parts; returns it and their total.
    async fn open(
        store: &ObjectStore,
        key: &UploadKey,
        continued: &[Part],
    ) -> Result<(opendal::Writer, u64), ServerError> {
        let op = store.op().await?;
        let mut writer = match op
            .writer_with(&file_key(&key.path))
            .chunk(WRITE_CHUNK)
            .await
        {
            Ok(writer) => writer,
            Err(error) => return Err(store.fail(error).await),
        };
        let mut offset = 0u64;
        for part in continued {
            let fed = match op.read(&part.key).await {
                Ok(buffer) if buffer.len() as u64 == part.len => writer.write(buffer).await,
                Ok(_) => Err(opendal::Error::new(
                    opendal::ErrorKind::Unexpected,
                    "a kept part changed size",
                )),
                Err(error) => Err(error),
            };
            if let Err(error) = fed {
                let _ = writer.abort().await;
                return Err(store.fail(error).await);
            }
            offset += part.len;
        }
        Ok((writer, offset))
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), ServerError> {
        let chunk = Bytes::copy_from_slice(bytes);
        if let Err(error) = self.writer.write(chunk).await {
            return Err(self.store.fail(error).await);
        }
        if let Some(parts) = &mut self.parts {
            parts.buffer.extend_from_slice(bytes);
            while parts.buffer.len() >= PART_LEN {
                let rest = parts.buffer.split_off(PART_LEN);
                let full = std::mem::replace(&mut parts.buffer, rest);
                parts.settle().await?;
                let store = Arc::clone(&self.store);
                let key = part_key(&parts.dir, parts.next, full.len());
                parts.next += full.len() as u64;
                parts.in_flight = Some(tokio::spawn(
                    async move { put_part(&store, key, full).await },
                ));
            }
        }
        Ok(())
    }

    async fn cut(mut self, intact: bool) {
        let store = Arc::clone(&self.store);
        if let Err(error) = self.writer.abort().await {
            tracing::warn!(%error, "cannot abort an unfinished upload to the store");
        }
        let Some(mut parts) = self.parts.take() else {
            store.kept.end(&self.key);
            return;
        };
        let mut keep = intact && !self.discarded.load(Ordering::Relaxed);
        if let Err(error) = parts.settle().await {
            tracing::warn!(%error, "cannot keep a part of a partial upload");
            keep = false;
        }
        if keep && !parts.buffer.is_empty() {
            let tail = std::mem::take(&mut parts.buffer);
            let len = tail.len() as u64;
            let key = part_key(&parts.dir, parts.next, tail.len());
            match put_part(&store, key, tail).await {
                Ok(()) => parts.next += len,
                Err(error) => tracing::warn!(%error, "cannot keep the tail of a partial upload"),
            }
        }
        keep = keep && parts.next > 0 && !self.discarded.load(Ordering::Relaxed);
        if keep {
            let mut runs = std::mem::take(&mut parts.runs);
            if parts.next > self.offset {
                runs.push(Run {
                    id: parts.id.clone(),
                    end: parts.next,
                });
            }
            match store.kept.keep(&store, &self.key, &parts.dir, runs).await {
                Ok(()) => tracing::info!(
                    owner = %self.key.owner,
                    path = %self.key.path,
                    size = self.key.size,
                    kept = parts.next,
                    "partial upload kept in the store"
                ),
                Err(error) => {
                    tracing::warn!(%error, "cannot keep a partial upload");
                    keep = false;
                }
            }
        }
        if !keep {
            store
                .kept
                .forget(&store, &parts.dir, &parts.continued)
                .await;
        }
        store.kept.end(&self.key);
    }
}

/// Writes `bytes` as the kept part `key`.
async fn put_part(store: &ObjectStore, key: String, bytes: Vec<u8>) -> Result<(), ServerError> {
    let op = store.op().await?;
    if let Err(error) = op.write(&key, bytes).await {
        return Err(store.fail(error).await);
    }
    Ok(())
}

impl Drop for ObjectUpload {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        // Only reached when a transfer is cancelled (forced shutdown); the
        // other paths end the upload themselves.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pending = inner.store.pending.clone();
            pending.spawn_on(inner.cut(true), &runtime);
        }
    }
}
