//! Kept partial uploads on the object store (docs/PROTOCOL.md §3.3), held
//! in the store itself so that a `RESUME` reaching another server on the
//! same store continues what this one kept.
//!
//! Layout, under the reserved [`TEMP_DIR`] (no path reaches it):
//!
//! ```text
//! .ferry-tmp/kept/<owner, hex>/<SHA-256 of the path, hex>/<size>/part-<offset>-<length>
//! .ferry-tmp/kept/<owner, hex>/<SHA-256 of the path, hex>/<size>/manifest
//! ```
//!
//! - A part is one PUT of the client's bytes in order (at most
//!   [`PART_LEN`]; the last one, written when the upload is cut off, holds
//!   whatever arrived after the last full one, so a cut keeps every byte),
//!   so a part that exists is whole; offsets and lengths are in its name. What is kept is the run of parts from offset
//!   0 without a gap, up to the size: never more than the client sent,
//!   never different.
//! - The manifest (owner, path, size, deadline) is written when the upload
//!   is cut off, after its last part, and removed when an upload continues
//!   it: parts without a manifest belong to an upload in progress (or to a
//!   server that died, which cannot vouch for them: the sweep removes them
//!   once the window, and at least an hour, has passed since their last
//!   part).
//! - The `450` of an upload in progress is known per server (in memory): a
//!   second server continuing the same kept upload at the same time is not
//!   refused; both write the same client's bytes at the same offsets.
//! - Costs: `RESUME` reads the manifest and lists the parts (1 request per
//!   1,000), then reads the kept bytes back into the final object (the
//!   store has no server-side append). A quota's kept bytes are a listing
//!   of the owner's parts. A discard (a STORE of a path, at its start and
//!   after its commit; a DELETE; a RENAME) is one recursive listing of the
//!   kept area (one request while it is empty) and a DELETE per object of
//!   the path's; an RMDIR or a directory RENAME also reads each manifest of
//!   another path (kept uploads are few; a store with many would want an
//!   index).
//!   The sweep of expired uploads lists every kept part, at most once a
//!   minute.

use super::{is_not_found, ObjectStore};
use crate::storage::{Begin, UploadKey, KEPT_DIR, SWEEP_BATCH, TEMP_DIR};
use crate::ServerError;
use ferry_proto::Path;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Bytes in one kept part: each is one PUT (Swift fsyncs every object, so
/// small parts cost more in requests than in bytes), one filling and one
/// in flight per upload.
pub(super) const PART_LEN: usize = 4 * 1024 * 1024;
/// The store's kept uploads are swept at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
const MANIFEST: &str = "manifest";
/// Parts without a manifest this much older than now (and than the
/// window) are a dead server's leftovers.
const ORPHAN_AGE: Duration = Duration::from_secs(3600);
/// A manifest is a few lines; anything longer is not one of ours.
const MANIFEST_MAX: u64 = 16 * 1024;

/// The kept area.
fn base() -> String {
    format!("{TEMP_DIR}/{KEPT_DIR}/")
}

fn owner_dir(owner: &str) -> String {
    format!("{}{}/", base(), hex::encode(owner))
}

fn path_dir(owner: &str, path: &Path) -> String {
    format!(
        "{}{}/",
        owner_dir(owner),
        hex::encode(Sha256::digest(path.as_str()))
    )
}

/// The directory of the kept upload `key`.
pub(super) fn upload_dir(key: &UploadKey) -> String {
    format!("{}{}/", path_dir(&key.owner, &key.path), key.size)
}

/// The object of the part at `offset` of `len` bytes.
pub(super) fn part_key(dir: &str, offset: u64, len: usize) -> String {
    format!("{dir}part-{offset:020}-{len:010}")
}

/// `(offset, length)` of a part's object name.
fn parse_part(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("part-")?;
    let (offset, len) = rest.split_once('-')?;
    Some((offset.parse().ok()?, len.parse().ok()?))
}

/// A kept part.
#[derive(Debug, Clone)]
pub(super) struct Part {
    pub(super) key: String,
    pub(super) offset: u64,
    pub(super) len: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    owner: String,
    path: String,
    size: u64,
    /// Seconds since the Unix epoch.
    deadline: u64,
}

/// Which kept uploads a discard reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Those of the paths themselves.
    Exactly,
    /// Those of the paths and of every path beneath them.
    Within,
}

/// What this server knows of the kept uploads: the window, and its own
/// uploads in progress.
#[derive(Debug)]
pub(super) struct KeptUploads {
    window: Duration,
    /// Uploads in progress here; the flag is raised when their path is
    /// discarded meanwhile (then a cut keeps nothing).
    active: Mutex<HashMap<UploadKey, Arc<AtomicBool>>>,
    last_sweep: Mutex<Option<Instant>>,
}

impl KeptUploads {
    pub(super) fn new(window: Duration) -> KeptUploads {
        KeptUploads {
            window,
            active: Mutex::new(HashMap::new()),
            last_sweep: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<UploadKey, Arc<AtomicBool>>> {
        self.active
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn keeps(&self) -> bool {
        !self.window.is_zero()
    }

    /// The parts under `dir`, by offset.
    async fn parts(&self, store: &ObjectStore, dir: &str) -> Result<Vec<Part>, ServerError> {
        let op = store.op().await?;
        let mut lister = match op.lister(dir).await {
            Ok(lister) => lister,
            Err(error) if is_not_found(&error) => return Ok(Vec::new()),
            Err(error) => return Err(store.fail(error).await),
        };
        let mut parts = Vec::new();
        loop {
            match lister.try_next().await {
                Ok(Some(entry)) => {
                    let key = entry.path().to_owned();
                    let name = key.rsplit('/').next().unwrap_or_default();
                    if let Some((offset, len)) = parse_part(name) {
                        parts.push(Part { key, offset, len });
                    }
                }
                Ok(None) => break,
                Err(error) if is_not_found(&error) => break,
                Err(error) => return Err(store.fail(error).await),
            }
        }
        parts.sort_by_key(|part| (part.offset, part.len));
        Ok(parts)
    }

    /// One GET, read no further than a manifest may go.
    async fn read_manifest(&self, store: &ObjectStore, dir: &str) -> Option<Manifest> {
        let op = store.op().await.ok()?;
        let key = format!("{dir}{MANIFEST}");
        let mut stream = op
            .reader(&key)
            .await
            .ok()?
            .into_bytes_stream(..)
            .await
            .ok()?;
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.try_next().await.ok()? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > MANIFEST_MAX {
                return None;
            }
        }
        toml::from_str(std::str::from_utf8(&bytes).ok()?).ok()
    }

    /// The parts a RESUME of `key` continues (a run from 0 without a gap,
    /// vouched for by an unexpired manifest of the same owner, path and
    /// size), and their total.
    async fn chain(
        &self,
        store: &ObjectStore,
        key: &UploadKey,
    ) -> Result<(u64, Vec<Part>), ServerError> {
        if !self.keeps() {
            return Ok((0, Vec::new()));
        }
        let dir = upload_dir(key);
        let Some(manifest) = self.read_manifest(store, &dir).await else {
            return Ok((0, Vec::new()));
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        if manifest.owner != key.owner
            || manifest.path != key.path.as_str()
            || manifest.size != key.size
            || manifest.deadline <= now
        {
            return Ok((0, Vec::new()));
        }
        let mut kept = 0u64;
        let mut chain = Vec::new();
        for part in self.parts(store, &dir).await? {
            if part.offset == kept && part.len > 0 && kept + part.len <= key.size {
                kept += part.len;
                chain.push(part);
            }
        }
        Ok((kept, chain))
    }

    /// Bytes kept for `key` (what a RESUME would continue from).
    #[cfg(test)]
    pub(super) async fn kept_len(
        &self,
        store: &ObjectStore,
        key: &UploadKey,
    ) -> Result<u64, ServerError> {
        Ok(self.chain(store, key).await?.0)
    }

    /// Bytes in `owner`'s kept parts (of `path` only, when given), those
    /// of uploads in progress included.
    pub(super) async fn kept_bytes(
        &self,
        store: &ObjectStore,
        owner: &str,
        path: Option<&Path>,
    ) -> Result<u64, ServerError> {
        if !self.keeps() {
            return Ok(0);
        }
        let prefix = match path {
            Some(path) => path_dir(owner, path),
            None => owner_dir(owner),
        };
        let op = store.op().await?;
        let mut lister = match op.lister_with(&prefix).recursive(true).await {
            Ok(lister) => lister,
            Err(error) if is_not_found(&error) => return Ok(0),
            Err(error) => return Err(store.fail(error).await),
        };
        let mut total = 0u64;
        loop {
            match lister.try_next().await {
                Ok(Some(entry)) => {
                    let name = entry.path().rsplit('/').next().unwrap_or_default();
                    if let Some((_, len)) = parse_part(name) {
                        total = total.saturating_add(len);
                    }
                }
                Ok(None) => break,
                Err(error) if is_not_found(&error) => break,
                Err(error) => return Err(store.fail(error).await),
            }
        }
        Ok(total)
    }

    /// Marks `key` in progress here (`450` if it is already) and discards
    /// what `begin` discards; returns the parts it continues. The manifest
    /// of what it continues is removed: from now on the parts are this
    /// upload's, until it is cut off (a new manifest) or completed.
    pub(super) async fn begin(
        &self,
        store: &ObjectStore,
        key: &UploadKey,
        begin: Begin,
    ) -> Result<(Arc<AtomicBool>, Vec<Part>), ServerError> {
        let flag = {
            let mut active = self.lock();
            if active.contains_key(key) {
                return Err(ServerError::UploadInProgress);
            }
            let flag = Arc::new(AtomicBool::new(false));
            active.insert(key.clone(), Arc::clone(&flag));
            flag
        };
        let prepared = async {
            let continued = match begin {
                Begin::Afresh => {
                    self.discard_path(store, &key.path, None).await?;
                    Vec::new()
                }
                Begin::Continuing => {
                    let (_, chain) = self.chain(store, key).await?;
                    self.discard_path(store, &key.path, Some(key)).await?;
                    let dir = upload_dir(key);
                    let op = store.op().await?;
                    let _ = op.delete(&format!("{dir}{MANIFEST}")).await;
                    // Parts off the run (after a gap) are not this upload's.
                    for part in self.parts(store, &dir).await? {
                        if !chain.iter().any(|kept| kept.key == part.key) {
                            let _ = op.delete(&part.key).await;
                        }
                    }
                    chain
                }
            };
            Ok::<_, ServerError>(continued)
        }
        .await;
        // The discards above marked this upload too; it is not discarded.
        flag.store(false, Ordering::Relaxed);
        match prepared {
            Ok(continued) => Ok((flag, continued)),
            Err(error) => {
                self.end(key);
                Err(error)
            }
        }
    }

    /// The upload `key` is over here.
    pub(super) fn end(&self, key: &UploadKey) {
        self.lock().remove(key);
    }

    /// Writes the manifest of the cut-off upload `key`, whose parts are in
    /// the store, for the window from now.
    pub(super) async fn keep(
        &self,
        store: &ObjectStore,
        key: &UploadKey,
    ) -> Result<(), ServerError> {
        let deadline = SystemTime::now()
            .checked_add(self.window)
            .and_then(|deadline| deadline.duration_since(UNIX_EPOCH).ok())
            .map_or(u64::from(u32::MAX) * 64, |since| since.as_secs());
        let manifest = Manifest {
            owner: key.owner.clone(),
            path: key.path.as_str().to_owned(),
            size: key.size,
            deadline,
        };
        let text = toml::to_string(&manifest)
            .map_err(|error| ServerError::Storage(std::io::Error::other(error)))?;
        let op = store.op().await?;
        if let Err(error) = op
            .write(&format!("{}{MANIFEST}", upload_dir(key)), text)
            .await
        {
            return Err(store.fail(error).await);
        }
        Ok(())
    }

    /// Removes everything under `dir`.
    pub(super) async fn remove_dir(&self, store: &ObjectStore, dir: &str) {
        let removed = match store.op().await {
            Ok(op) => op.delete_with(dir).recursive(true).await,
            Err(error) => {
                tracing::warn!(dir, %error, "cannot remove a kept upload");
                return;
            }
        };
        match removed {
            Ok(()) => {}
            Err(error) if is_not_found(&error) => {}
            Err(error) => {
                tracing::warn!(dir, %error, "cannot remove a kept upload");
            }
        }
    }

    /// Discards what every owner keeps of `path` (but `spared`'s own
    /// upload), and marks the uploads in progress here of it.
    pub(super) async fn discard_path(
        &self,
        store: &ObjectStore,
        path: &Path,
        spared: Option<&UploadKey>,
    ) -> Result<(), ServerError> {
        self.discard(store, &[path], Reach::Exactly, spared).await
    }

    /// Discards what is kept of each of `paths` (a DELETE, a RENAME of a
    /// file: from and onto); a failure is logged.
    pub(super) async fn discard_paths(&self, store: &ObjectStore, paths: &[&Path]) {
        if let Err(error) = self.discard(store, paths, Reach::Exactly, None).await {
            tracing::warn!(%error, "cannot discard kept uploads");
        }
    }

    /// Discards what is kept of `paths` and of every path beneath them (an
    /// RMDIR, a RENAME of a directory); a failure is logged.
    pub(super) async fn discard_within(&self, store: &ObjectStore, paths: &[&Path]) {
        if let Err(error) = self.discard(store, paths, Reach::Within, None).await {
            tracing::warn!(%error, "cannot discard kept uploads");
        }
    }

    /// The discards above: one recursive listing of the kept area (one
    /// request while it is empty, a request per 1,000 objects and the empty
    /// page that ends the listing otherwise), a DELETE per object
    /// discarded, and (`Reach::Within`) one GET per manifest of another
    /// path, to read which path it keeps.
    async fn discard(
        &self,
        store: &ObjectStore,
        paths: &[&Path],
        reach: Reach,
        spared: Option<&UploadKey>,
    ) -> Result<(), ServerError> {
        let hit = |kept: &Path| {
            paths.iter().any(|path| match reach {
                Reach::Exactly => kept == *path,
                Reach::Within => kept.is_within(path),
            })
        };
        for (key, flag) in self.lock().iter() {
            if hit(&key.path) && Some(key) != spared {
                flag.store(true, Ordering::Relaxed);
            }
        }
        if !self.keeps() {
            return Ok(());
        }
        let hashes: Vec<String> = paths
            .iter()
            .map(|path| hex::encode(Sha256::digest(path.as_str())))
            .collect();
        let spared_dir = spared.map(upload_dir);
        let base = base();
        let op = store.op().await?;
        let mut lister = match op.lister_with(&base).recursive(true).await {
            Ok(lister) => lister,
            Err(error) if is_not_found(&error) => return Ok(()),
            Err(error) => return Err(store.fail(error).await),
        };
        let mut doomed = Vec::new();
        // Within: every other key, by upload directory, and the manifests.
        let mut others: Vec<String> = Vec::new();
        let mut manifests = Vec::new();
        loop {
            let entry = match lister.try_next().await {
                Ok(Some(entry)) => entry,
                Ok(None) => break,
                Err(error) if is_not_found(&error) => break,
                Err(error) => return Err(store.fail(error).await),
            };
            let key = entry.path();
            if key.ends_with('/')
                || spared_dir
                    .as_deref()
                    .is_some_and(|dir| key.starts_with(dir))
            {
                continue;
            }
            // <owner>/<path hash>/<size>/<name>
            let Some(rest) = key.strip_prefix(base.as_str()) else {
                continue;
            };
            let hash = rest.split('/').nth(1).unwrap_or_default();
            if hashes.iter().any(|wanted| wanted == hash) {
                doomed.push(key.to_owned());
            } else if reach == Reach::Within {
                if let Some(dir) = key.strip_suffix(MANIFEST) {
                    manifests.push(dir.to_owned());
                }
                others.push(key.to_owned());
            }
        }
        for dir in manifests {
            let beneath = self
                .read_manifest(store, &dir)
                .await
                .is_some_and(|manifest| {
                    Path::new(manifest.path.as_str()).is_ok_and(|kept| hit(&kept))
                });
            if beneath {
                doomed.extend(others.iter().filter(|key| key.starts_with(&dir)).cloned());
            }
        }
        for key in doomed {
            match op.delete(&key).await {
                Ok(()) => {}
                Err(error) if is_not_found(&error) => {}
                Err(error) => {
                    tracing::warn!(key, %error, "cannot remove a kept part");
                }
            }
        }
        Ok(())
    }

    /// The directories (at most `most`) of the kept uploads whose manifest
    /// `doomed` picks.
    async fn manifests(
        &self,
        store: &ObjectStore,
        most: usize,
        doomed: impl Fn(&Manifest) -> bool,
    ) -> Vec<String> {
        let Ok(op) = store.op().await else {
            return Vec::new();
        };
        let Ok(mut lister) = op.lister_with(&base()).recursive(true).await else {
            return Vec::new();
        };
        let mut found = Vec::new();
        while let Ok(Some(entry)) = lister.try_next().await {
            if found.len() >= most {
                break;
            }
            let Some(dir) = entry.path().strip_suffix(MANIFEST) else {
                continue;
            };
            if let Some(manifest) = self.read_manifest(store, dir).await {
                if doomed(&manifest) {
                    found.push(dir.to_owned());
                }
            }
        }
        found
    }

    /// Removes up to [`SWEEP_BATCH`] kept uploads whose window has ended
    /// by `now`; at most once every [`SWEEP_EVERY`].
    pub(super) async fn sweep(&self, store: &ObjectStore, now: SystemTime) -> usize {
        {
            let mut last = self.last_sweep.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| at.elapsed() < SWEEP_EVERY) {
                return 0;
            }
            *last = Some(Instant::now());
        }
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let expired = self
            .manifests(store, SWEEP_BATCH, |manifest| manifest.deadline <= now)
            .await;
        for dir in &expired {
            tracing::info!(dir, "kept upload expired");
            self.remove_dir(store, dir).await;
        }
        let orphans = self.orphans(store, now, SWEEP_BATCH).await;
        for dir in &orphans {
            tracing::info!(dir, "parts of an upload nobody vouches for removed");
            self.remove_dir(store, dir).await;
        }
        expired.len() + orphans.len()
    }

    /// Directories of parts without a manifest (a server died mid-upload)
    /// whose newest part is older than [`ORPHAN_AGE`] and the window, and
    /// that are not uploads in progress here (at most `most`). An upload in
    /// progress on another server writes a part at least every idle
    /// timeout, far below that age.
    async fn orphans(&self, store: &ObjectStore, now: u64, most: usize) -> Vec<String> {
        let Ok(op) = store.op().await else {
            return Vec::new();
        };
        let Ok(mut lister) = op.lister_with(&base()).recursive(true).await else {
            return Vec::new();
        };
        // Per upload directory: has a manifest, newest part (seconds).
        let mut dirs: HashMap<String, (bool, u64)> = HashMap::new();
        while let Ok(Some(entry)) = lister.try_next().await {
            let Some((dir, name)) = entry.path().rsplit_once('/') else {
                continue;
            };
            let seen = dirs.entry(format!("{dir}/")).or_insert((false, 0));
            if name == MANIFEST {
                seen.0 = true;
            } else if parse_part(name).is_some() {
                // Unknown times (the memory service) count as new.
                let time = super::seconds(entry.metadata());
                seen.1 = seen.1.max(if time == 0 { now } else { time });
            }
        }
        let age = ORPHAN_AGE.max(self.window).as_secs();
        let active: Vec<String> = self.lock().keys().map(upload_dir).collect();
        dirs.into_iter()
            .filter(|(dir, (manifest, newest))| {
                !manifest
                    && *newest > 0
                    && newest.saturating_add(age) <= now
                    && !active.contains(dir)
            })
            .map(|(dir, _)| dir)
            .take(most)
            .collect()
    }
}
