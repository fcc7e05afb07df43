//! The served tree on an object store (`--store`, OpenStack Swift or S3,
//! through OpenDAL): the same commands as on the local file system, with
//! the contract's rules made of what a store offers. What each costs, in
//! requests to the store (README "Object store" says the same):
//!
//! - **Paths.** A file `a/b` is the object `a/b` under the prefix; a
//!   directory `a` exists while its marker object `a/` (empty, made by
//!   MKDIR) or any object under `a/` does. [`TEMP_DIR`] at the top is
//!   reserved as on disk: it holds the kept uploads, and every command on
//!   it or under it gets `550`; LIST of the top never shows it.
//! - **STAT**: one HEAD of the object; if absent, one listing request
//!   (limit 1) under `path/`. A directory's time is its marker's (from that
//!   listing) when it has one, else 0 (1970): a prefix has none.
//! - **LIST**: the store's own listing with `/` as delimiter, page by page
//!   (1,000 names a request on Swift and S3; Swift's ends with one more,
//!   empty), which also says whether the directory exists (its marker or
//!   anything under it is listed), each entry kept once as a
//!   [`ListingEntry`]; the rows are encoded from them in bounded batches,
//!   so the body is never held as a whole beside them (`cmd::list`). S3
//!   returns a page's prefixes apart from its objects, so the rows are
//!   sorted after the last page; an entry seen twice is listed once.
//! - **RETRIEVE / READ**: a HEAD for the size, then one ranged GET streamed
//!   to the client. A file replaced between the two is sent from the one
//!   GET: one version, complete, or (if the new one is shorter) a transfer
//!   that ends early, which closes the connection as §3.4 says.
//! - **HASH**: the same GET streamed through SHA-256.
//! - **STORE / RESUME** (`upload`): the final object is written by one
//!   OpenDAL writer, a single PUT or a multipart/SLO upload committed only
//!   when the last byte is in, so nothing is visible before; an abort
//!   deletes the parts. Kept partial uploads are objects in the store.
//!   Before the `150`: a HEAD (a file there is replaced: its parent
//!   exists), else a listing request under `path/` (no directory there)
//!   and one for the parent; the path's kept uploads are discarded at the
//!   start and again after the commit, which checks the parent once more
//!   (a listing request) before the writer's PUT.
//! - **DELETE**: a HEAD (a file there? a large object?), then one DELETE
//!   (on Swift with `multipart-manifest=delete`, so a large object's
//!   segments go too), then the kept uploads of the path (`kept`).
//! - **RENAME** of a file: a HEAD of the source, a listing request for the
//!   target's parent (none when the source is in it) and one under the
//!   target (no directory there), a server-side copy, then a HEAD and a
//!   DELETE of the source, then the kept uploads of both paths.
//!   Meanwhile a reader sees the file at both paths (the copy complete);
//!   a crash between the two leaves both. On Swift and S3 a copy is
//!   limited to 5 GiB (past it, or where the store refuses, the server
//!   streams the copy). RENAME of a directory is a copy and a delete per
//!   object under it, at most 10,000, under a journal in the staging area:
//!   meanwhile its objects are split between the two paths; interrupted,
//!   it answers `451` saying how far it got, and the same RENAME again
//!   finishes it.
//! - **MKDIR**: a HEAD and a listing request (the path must be free), a
//!   listing request for the parent, one PUT of the marker.
//! - **RMDIR**: a listing (limit 2: the marker and one more means
//!   non-empty; two requests when only the marker is there), one DELETE of
//!   the marker, then the kept uploads beneath.
//! - **Kept uploads** of the paths a command discards: one recursive
//!   listing of the kept area (one request while nothing is kept).
//! - **Quotas**: the usage is a recursive listing of the home, summing the
//!   sizes (1 request per 1,000 objects; measured afresh for each upload of
//!   an account with a quota, as on disk, and as costly as the home is
//!   large), plus the owner's kept parts.
//!
//! A store is shared by every server on it: nothing here is cached, so a
//! write through one server is seen through every other at once, as far
//! as the store itself is consistent (Swift's container listings may lag
//! behind its objects under load; one replica on loopback does not).

mod kept;
mod remote;
mod upload;

pub use remote::{Secret, StoreKind, StoreSpec};
pub(crate) use upload::ObjectUpload;

use super::{Begin, UploadKey, TEMP_DIR};
use crate::ServerError;
use bytes::Bytes;
use ferry_proto::{EntryKind, ListingEntry, Name, Path, Status};
use futures::{Stream, StreamExt, TryStreamExt};
use opendal::{EntryMode, Metadata, Operator};
use remote::Remote;
use sha2::{Digest, Sha256};
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_util::task::TaskTracker;

/// Most objects a directory RENAME moves on the store (each a copy and a
/// delete); a larger directory gets `550`.
const DIR_RENAME_MAX: usize = 10_000;

/// The served tree in an object store.
#[derive(Debug)]
pub(crate) struct ObjectStore {
    remote: Remote,
    kept: kept::KeptUploads,
    /// Cut-offs of dropped uploads still being kept.
    pending: TaskTracker,
}

/// A file to read: where, and its size when it was looked at.
#[derive(Debug)]
pub(crate) struct ObjectFile {
    store: Arc<ObjectStore>,
    key: String,
    pub(crate) len: u64,
}

/// The object of the file `path`.
fn file_key(path: &Path) -> String {
    path.as_str().to_owned()
}

/// The marker (and prefix) of the directory `dir`; `/` is the top.
fn dir_key(dir: Option<&Path>) -> String {
    match dir {
        Some(dir) => format!("{}/", dir.as_str()),
        None => "/".to_owned(),
    }
}

/// Every command on the staging area or under it is refused.
fn reject_reserved(path: &Path) -> Result<(), ServerError> {
    super::reject_reserved(path)
}

fn seconds(meta: &Metadata) -> u64 {
    meta.last_modified()
        .map(SystemTime::from)
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_secs())
}

fn is_not_found(error: &opendal::Error) -> bool {
    error.kind() == opendal::ErrorKind::NotFound
}

impl ObjectFile {
    /// The bytes `offset..offset + len`, as one ranged GET.
    pub(crate) async fn stream(
        &self,
        offset: u64,
        len: u64,
    ) -> Result<impl Stream<Item = io::Result<Bytes>> + Unpin + use<>, ServerError> {
        let store = &self.store;
        let op = store.op().await?;
        let reader = match op.reader(&self.key).await {
            Ok(reader) => reader,
            Err(error) => return Err(store.fail(error).await),
        };
        let end = offset.saturating_add(len);
        match reader.into_bytes_stream(offset..end).await {
            Ok(stream) => Ok(stream),
            Err(error) => Err(store.fail(error).await),
        }
    }
}

impl ObjectStore {
    /// Reaches the store `spec` names (logging in, for Swift).
    pub(crate) async fn open(
        spec: StoreSpec,
        resume_window: Duration,
    ) -> Result<ObjectStore, ServerError> {
        let remote = Remote::open(spec).await?;
        Ok(ObjectStore {
            remote,
            kept: kept::KeptUploads::new(resume_window),
            pending: TaskTracker::new(),
        })
    }

    /// Where the store is (for the log).
    pub(crate) fn describe(&self) -> String {
        self.remote.spec().describe()
    }

    async fn op(&self) -> Result<Operator, ServerError> {
        self.remote.op().await
    }

    /// A store error as the server reports it: a missing object is "no
    /// such file", the rest a transient failure (451).
    async fn fail(&self, error: opendal::Error) -> ServerError {
        if is_not_found(&error) {
            return ServerError::NoSuchFile;
        }
        // The store's own words (its URLs, headers) go to the log, not to
        // the client, which gets `451 Local error: the object store failed`.
        tracing::warn!(%error, "object store request failed");
        ServerError::Store(error.kind().to_string())
    }

    /// The metadata of the object of the file `path`, if there is one.
    async fn file_meta(&self, path: &Path) -> Result<Option<Metadata>, ServerError> {
        let op = self.op().await?;
        match op.stat(&file_key(path)).await {
            Ok(meta) if meta.mode() != EntryMode::DIR => Ok(Some(meta)),
            Ok(_) => Ok(None),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(self.fail(error).await),
        }
    }

    /// Whether the directory `dir` exists: the top always, another while
    /// its marker or any object under it does.
    async fn dir_exists(&self, dir: Option<&Path>) -> Result<bool, ServerError> {
        if dir.is_none() {
            return Ok(true);
        }
        Ok(!self.under(&dir_key(dir), 1).await?.is_empty())
    }

    /// The first objects under `prefix` (the marker included), up to
    /// `most`, in the store's order: one listing request when there are
    /// `most` (the store's page asked for that many), two when fewer (the
    /// empty page that ends a Swift listing).
    async fn under(&self, prefix: &str, most: usize) -> Result<Vec<opendal::Entry>, ServerError> {
        let op = self.op().await?;
        let lister = op.lister_with(prefix).recursive(true).limit(most).await;
        let mut lister = match lister {
            Ok(lister) => lister,
            Err(error) if is_not_found(&error) => return Ok(Vec::new()),
            Err(error) => return Err(self.fail(error).await),
        };
        let mut found = Vec::new();
        while found.len() < most {
            match lister.try_next().await {
                Ok(Some(entry)) => found.push(entry),
                Ok(None) => break,
                Err(error) if is_not_found(&error) => break,
                Err(error) => return Err(self.fail(error).await),
            }
        }
        Ok(found)
    }

    /// What `STAT` says of `path`.
    pub(crate) async fn stat(&self, path: &Path) -> Result<Status, ServerError> {
        reject_reserved(path)?;
        if let Some(meta) = self.file_meta(path).await? {
            return Ok(Status {
                kind: EntryKind::File {
                    size: meta.content_length(),
                },
                modified: seconds(&meta),
            });
        }
        // One listing request: the first object under `path/` is its
        // marker when there is one, with the marker's time.
        let marker = dir_key(Some(path));
        let Some(first) = self.under(&marker, 1).await?.pop() else {
            return Err(ServerError::NoSuchFile);
        };
        let modified = if first.path() != marker {
            0
        } else if first.metadata().last_modified().is_some() {
            seconds(first.metadata())
        } else {
            // The store listed the marker without its time (the memory
            // service does): one HEAD.
            let op = self.op().await?;
            op.stat(&marker).await.map_or(0, |meta| seconds(&meta))
        };
        Ok(Status {
            kind: EntryKind::Directory,
            modified,
        })
    }

    /// The regular file at `path`, for reading.
    pub(crate) async fn open_file(
        self: &Arc<Self>,
        path: &Path,
    ) -> Result<ObjectFile, ServerError> {
        reject_reserved(path)?;
        match self.file_meta(path).await? {
            Some(meta) => Ok(ObjectFile {
                store: Arc::clone(self),
                key: file_key(path),
                len: meta.content_length(),
            }),
            None if self.dir_exists(Some(path)).await? => {
                Err(ServerError::Unavailable("Is a directory"))
            }
            None => Err(ServerError::NoSuchFile),
        }
    }

    /// The entries of the top (`None`) or of a directory, sorted in the
    /// listing's order, each once.
    pub(crate) async fn list(&self, dir: Option<&Path>) -> Result<Vec<ListingEntry>, ServerError> {
        let missing = ServerError::Unavailable("No such directory");
        if let Some(dir) = dir {
            reject_reserved(dir)?;
        }
        // The listing itself says whether the directory exists: its
        // marker, or any object under it, is in it.
        let prefix = dir_key(dir);
        let op = self.op().await?;
        let mut lister = match op.lister(&prefix).await {
            Ok(lister) => lister,
            Err(error) if is_not_found(&error) => return Err(missing),
            Err(error) => return Err(self.fail(error).await),
        };
        let at_top = dir.is_none();
        let mut entries = Vec::new();
        let mut seen = false;
        loop {
            let entry = match lister.next().await {
                None => break,
                Some(Ok(entry)) => entry,
                Some(Err(error)) => return Err(self.fail(error).await),
            };
            seen = true;
            let key = entry.path();
            let rest = if at_top {
                key.trim_start_matches('/')
            } else {
                match key.strip_prefix(prefix.as_str()) {
                    Some(rest) => rest,
                    None => continue,
                }
            };
            let is_dir = rest.ends_with('/');
            let Ok(name) = Name::new(rest.trim_end_matches('/')) else {
                continue; // the directory itself, and names the protocol cannot express
            };
            if at_top && name.as_str() == TEMP_DIR {
                continue;
            }
            let meta = entry.metadata();
            if is_dir {
                entries.push(ListingEntry::directory(name, seconds(meta)));
            } else if meta.mode() == EntryMode::FILE && meta.last_modified().is_some() {
                entries.push(ListingEntry::file(
                    name,
                    meta.content_length(),
                    seconds(meta),
                ));
            } else {
                // The store listed the name without its size (the memory
                // service does): one HEAD.
                match op.stat(key).await {
                    Ok(meta) if meta.mode() == EntryMode::FILE => entries.push(ListingEntry::file(
                        name,
                        meta.content_length(),
                        seconds(&meta),
                    )),
                    Ok(_) => {}
                    Err(error) if is_not_found(&error) => {}
                    Err(error) => return Err(self.fail(error).await),
                }
            }
        }
        // Nothing listed: no such directory, unless the store leaves the
        // marker out of its own listing (one more request, only then).
        if !seen && !self.dir_exists(dir).await? {
            return Err(missing);
        }
        entries.sort_unstable_by(ListingEntry::listing_order);
        entries.dedup_by(|a, b| a.name == b.name && a.is_dir() == b.is_dir());
        Ok(entries)
    }

    /// Removes the file at `path`.
    pub(crate) async fn delete(&self, path: &Path) -> Result<(), ServerError> {
        reject_reserved(path)?;
        // The delete's own HEAD tells whether there is a file.
        if !self.remote.delete(&file_key(path)).await? {
            if self.dir_exists(Some(path)).await? {
                return Err(ServerError::Unavailable("Is a directory"));
            }
            return Err(ServerError::NoSuchFile);
        }
        self.kept.discard_paths(self, &[path]).await;
        Ok(())
    }

    /// Creates the directory `path` (its marker); the parent must exist.
    pub(crate) async fn mkdir(&self, path: &Path) -> Result<(), ServerError> {
        reject_reserved(path)?;
        if !self.dir_exists(path.parent().as_ref()).await? {
            return Err(ServerError::Unavailable("No such directory"));
        }
        if self.file_meta(path).await?.is_some() || self.dir_exists(Some(path)).await? {
            return Err(ServerError::Unavailable("Already exists"));
        }
        let op = self.op().await?;
        match op.create_dir(&dir_key(Some(path))).await {
            Ok(()) => Ok(()),
            Err(error) => Err(self.fail(error).await),
        }
    }

    /// Removes the empty directory `path` (its marker).
    pub(crate) async fn rmdir(&self, path: &Path) -> Result<(), ServerError> {
        reject_reserved(path)?;
        let marker = dir_key(Some(path));
        let found = self.under(&marker, 2).await?;
        match found.as_slice() {
            [] => return Err(ServerError::Unavailable("No such directory")),
            // The one object is the marker, or a file at `path/x` without one.
            [only] if only.path() == marker => {}
            _ => return Err(ServerError::Unavailable("Directory not empty")),
        }
        // A marker is an empty object, never a large one: a plain DELETE.
        let op = self.op().await?;
        match op.delete(&marker).await {
            Ok(()) => {}
            Err(error) if is_not_found(&error) => {}
            Err(error) => return Err(self.fail(error).await),
        }
        self.kept.discard_within(self, &[path]).await;
        Ok(())
    }

    /// Moves a file: a copy in the store, then a delete of the source. A
    /// directory is refused.
    pub(crate) async fn rename(&self, from: &Path, to: &Path) -> Result<(), ServerError> {
        reject_reserved(from)?;
        reject_reserved(to)?;
        let Some(source) = self.file_meta(from).await? else {
            if self.dir_exists(Some(from)).await? {
                return self.rename_dir(from, to).await;
            }
            return Err(ServerError::NoSuchFile);
        };
        // The target's parent exists when the source is beneath it (a
        // rename within one directory): no request for it.
        let parent = to.parent();
        let parent_holds_source = parent.as_ref().is_none_or(|parent| from.is_within(parent));
        if !parent_holds_source && !self.dir_exists(parent.as_ref()).await? {
            return Err(ServerError::Unavailable("No such directory"));
        }
        if self.dir_exists(Some(to)).await? {
            return Err(ServerError::Unavailable("Target is a directory"));
        }
        if from == to {
            return Ok(());
        }
        self.copy_sized(
            &file_key(from),
            &file_key(to),
            Some(source.content_length()),
        )
        .await?;
        self.remote.delete(&file_key(from)).await?;
        self.kept.discard_paths(self, &[from, to]).await;
        Ok(())
    }

    /// Moves the directory `from` and everything under it to `to`: a copy
    /// and a delete per object, at most [`DIR_RENAME_MAX`] of them, under a
    /// journal in the staging area naming both paths. Interrupted (a store
    /// error, a crash), the objects are split between the two; the same
    /// RENAME again finishes it (the journal lets it onto the `to` it
    /// began).
    async fn rename_dir(&self, from: &Path, to: &Path) -> Result<(), ServerError> {
        if to.is_within(from) {
            return Err(ServerError::Unavailable(
                "Cannot move a directory into itself",
            ));
        }
        if !self.dir_exists(to.parent().as_ref()).await? {
            return Err(ServerError::Unavailable("No such directory"));
        }
        if self.file_meta(to).await?.is_some() {
            return Err(ServerError::Unavailable(
                "Cannot replace a file with a directory",
            ));
        }
        let op = self.op().await?;
        let journal = format!(
            "{TEMP_DIR}/renames/{}",
            hex::encode(Sha256::digest(from.as_str()))
        );
        let intent = format!("{from}\t{to}");
        let resuming = match op.read(&journal).await {
            Ok(text) if text.to_vec() == intent.as_bytes() => true,
            Ok(_) => return Err(ServerError::Unavailable(
                "An interrupted rename of this directory to another path must be finished first",
            )),
            Err(_) => false,
        };
        if !resuming && self.dir_exists(Some(to)).await? {
            return Err(ServerError::Unavailable("Target is a directory"));
        }
        let source = dir_key(Some(from));
        let target = dir_key(Some(to));
        let mut keys = Vec::new();
        let mut lister = match op.lister_with(&source).recursive(true).await {
            Ok(lister) => lister,
            Err(error) => return Err(self.fail(error).await),
        };
        loop {
            match lister.try_next().await {
                Ok(Some(entry)) => keys.push(entry.path().to_owned()),
                Ok(None) => break,
                Err(error) => return Err(self.fail(error).await),
            }
            if keys.len() > DIR_RENAME_MAX {
                return Err(ServerError::Unavailable(
                    "Directory too large to rename on the object store",
                ));
            }
        }
        if let Err(error) = op.write(&journal, intent).await {
            return Err(self.fail(error).await);
        }
        let total = keys.len();
        for (moved, key) in keys.iter().enumerate() {
            let Some(rest) = key.strip_prefix(source.as_str()) else {
                continue;
            };
            let destination = format!("{target}{rest}");
            let step = async {
                if key.ends_with('/') {
                    if let Err(error) = op.create_dir(&destination).await {
                        return Err(self.fail(error).await);
                    }
                } else {
                    self.copy_sized(key, &destination, None).await?;
                }
                self.remote.delete(key).await.map(drop)
            }
            .await;
            if let Err(error) = step {
                tracing::warn!(%from, %to, moved, total, %error, "directory rename interrupted");
                return Err(ServerError::Storage(io::Error::other(format!(
                    "rename interrupted after {moved} of {total} objects; RENAME again to finish"
                ))));
            }
        }
        let _ = op.delete(&journal).await;
        self.kept.discard_within(self, &[from, to]).await;
        Ok(())
    }

    /// Copies the object `from` to `to`: in the store where it can (Swift
    /// and S3 copy up to 5 GiB), else, or when the store refuses (S3 on
    /// Swift's s3api answers 412 for a multipart object), streamed through
    /// the server: one GET into one writer, never the whole file in memory.
    /// `size`, when known, spares the store's copy a HEAD of the source.
    async fn copy_sized(&self, from: &str, to: &str, size: Option<u64>) -> Result<(), ServerError> {
        let op = self.op().await?;
        if op.info().capability().copy {
            let options = opendal::options::CopyOptions {
                source_content_length_hint: size,
                ..Default::default()
            };
            match op.copy_options(from, to, options).await {
                Ok(_) => return Ok(()),
                Err(error) if is_not_found(&error) => return Err(self.fail(error).await),
                Err(error) => {
                    tracing::info!(from, to, %error, "the store refused a copy: copying through the server");
                }
            }
        }
        let copied = async {
            let reader = op.reader(from).await?;
            let mut stream = reader.into_bytes_stream(..).await?;
            let mut writer = op.writer_with(to).chunk(upload::WRITE_CHUNK).await?;
            let written = async {
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(|error| {
                        opendal::Error::new(opendal::ErrorKind::Unexpected, error.to_string())
                    })?;
                    writer.write(chunk).await?;
                }
                writer.close().await.map(drop)
            }
            .await;
            if written.is_err() {
                // Nothing of a failed copy stays (parts, segments).
                let _ = writer.abort().await;
            }
            written
        }
        .await;
        match copied {
            Ok(()) => Ok(()),
            Err(error) => Err(self.fail(error).await),
        }
    }

    /// Refuses a STORE that could never land: the parent is missing, or a
    /// directory is at the path.
    pub(crate) async fn check_store(&self, path: &Path) -> Result<(), ServerError> {
        reject_reserved(path)?;
        // A file there replaces it, and its parent exists: one HEAD.
        if self.file_meta(path).await?.is_some() {
            return Ok(());
        }
        self.check_parent(path).await?;
        if self.dir_exists(Some(path)).await? {
            return Err(ServerError::NotAFile);
        }
        Ok(())
    }

    /// `550 No such directory` when the parent of `path` is missing.
    pub(crate) async fn check_parent(&self, path: &Path) -> Result<(), ServerError> {
        if !self.dir_exists(path.parent().as_ref()).await? {
            return Err(ServerError::Unavailable("No such directory"));
        }
        Ok(())
    }

    /// Makes the markers of `home` and its parents where missing; a file
    /// in the way makes the home unavailable.
    pub(crate) async fn make_home(&self, home: &Path) -> Result<(), ServerError> {
        reject_reserved(home)?;
        let mut made: Option<Path> = None;
        for name in home.names() {
            let name = Name::new(name)?;
            let next = match &made {
                None => Path::from(name),
                Some(parent) => parent.join(&name)?,
            };
            if self.file_meta(&next).await?.is_some() {
                return Err(ServerError::Unavailable("Not a directory"));
            }
            if !self.dir_exists(Some(&next)).await? {
                let op = self.op().await?;
                if let Err(error) = op.create_dir(&dir_key(Some(&next))).await {
                    return Err(self.fail(error).await);
                }
            }
            made = Some(next);
        }
        Ok(())
    }

    /// The sum of the sizes of the files under `home` (the top when
    /// `None`, the staging area left out), at any depth.
    pub(crate) async fn usage(&self, home: Option<&Path>) -> Result<u64, ServerError> {
        let prefix = dir_key(home);
        let reserved = format!("{TEMP_DIR}/");
        self.sum_under(&prefix, |key| {
            home.is_none() && key.trim_start_matches('/').starts_with(&reserved)
        })
        .await
    }

    /// The sum of the sizes of the objects under `prefix` that `skip`
    /// does not exclude (markers count 0).
    async fn sum_under(
        &self,
        prefix: &str,
        skip: impl Fn(&str) -> bool,
    ) -> Result<u64, ServerError> {
        let op = self.op().await?;
        let mut lister = match op.lister_with(prefix).recursive(true).await {
            Ok(lister) => lister,
            Err(error) if is_not_found(&error) => return Ok(0),
            Err(error) => return Err(self.fail(error).await),
        };
        let mut total = 0u64;
        loop {
            let entry = match lister.next().await {
                None => break,
                Some(Ok(entry)) => entry,
                Some(Err(error)) => return Err(self.fail(error).await),
            };
            let key = entry.path();
            if key.ends_with('/') || skip(key) {
                continue;
            }
            let meta = entry.metadata();
            let size = if meta.mode() == EntryMode::FILE && meta.last_modified().is_some() {
                meta.content_length()
            } else {
                match op.stat(key).await {
                    Ok(meta) => meta.content_length(),
                    Err(error) if is_not_found(&error) => 0,
                    Err(error) => return Err(self.fail(error).await),
                }
            };
            total = total.saturating_add(size);
        }
        Ok(total)
    }

    /// The size of the file at `path`, or 0 when there is none.
    pub(crate) async fn replaced_size(&self, path: &Path) -> Result<u64, ServerError> {
        reject_reserved(path)?;
        Ok(self
            .file_meta(path)
            .await?
            .map_or(0, |meta| meta.content_length()))
    }

    /// Bytes kept for `key`.
    #[cfg(test)]
    pub(crate) async fn kept_len(&self, key: &UploadKey) -> Result<u64, ServerError> {
        self.kept.kept_len(self, key).await
    }

    /// Bytes `owner` keeps in partial uploads (what a quota counts).
    pub(crate) async fn kept_bytes(&self, owner: &str) -> Result<u64, ServerError> {
        self.kept.kept_bytes(self, owner, None).await
    }

    /// Bytes `owner` keeps of uploads to `path`, any size.
    pub(crate) async fn kept_bytes_at(&self, owner: &str, path: &Path) -> Result<u64, ServerError> {
        self.kept.kept_bytes(self, owner, Some(path)).await
    }

    /// Starts the upload `key` (see `upload`).
    pub(crate) async fn begin_upload(
        self: &Arc<Self>,
        key: UploadKey,
        begin: Begin,
    ) -> Result<ObjectUpload, ServerError> {
        ObjectUpload::begin(Arc::clone(self), key, begin).await
    }

    /// Removes kept uploads whose window has ended (a bounded batch, at
    /// most once a minute; see `kept`).
    pub(crate) async fn sweep(&self, now: SystemTime) -> usize {
        self.kept.sweep(self, now).await
    }

    /// Waits until the uploads cut off by a forced shutdown are kept.
    pub(crate) async fn settle(&self) {
        self.pending.close();
        self.pending.wait().await;
    }
}

#[cfg(test)]
mod tests;
