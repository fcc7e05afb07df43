//! Kept partial uploads on the object store (docs/PROTOCOL.md §3.3), held
//! in the store itself so that a `RESUME` reaching another server on the
//! same store continues what this one kept.
//!
//! Layout, under the reserved [`TEMP_DIR`] (no path reaches it), one
//! directory per upload (its id: start time and 128 random bits), so that
//! two uploads never write the same object:
//!
//! ```text
//! .ferry-tmp/kept/<owner, hex>/<SHA-256 of the path, hex>/<size>/<upload id>/part-<offset>-<length>
//! .ferry-tmp/kept/<owner, hex>/<SHA-256 of the path, hex>/<size>/<upload id>/manifest
//! ```
//!
//! - A part is one PUT of the client's bytes in order (at most
//!   [`PART_LEN`]; the last one, written when the upload is cut off, holds
//!   whatever arrived after the last full one, so a cut keeps every byte),
//!   so a part that exists is whole; offsets and lengths are in its name.
//! - The manifest (owner, path, size, deadline, when it was cut, runs) is
//!   written when the upload is cut off, after its last part. Its runs
//!   name whose parts hold its bytes: its own, after those of the kept
//!   upload it continued (a RESUME writes its new parts under its own new
//!   id, so two servers continuing the same kept upload at once each write
//!   their own). What is kept is the run of those parts from offset 0
//!   without a gap, up to the size: never more than the client sent,
//!   never different.
//! - A RESUME continues the upload of its path and size whose manifest
//!   was cut last; everything else kept of the path goes at its start
//!   (the manifest it continues too): from then on those parts are its
//!   own. Parts of a path and size without any manifest belong to uploads
//!   in progress (or to a server that died, which cannot vouch for them:
//!   the sweep removes them once the window, and at least an hour, has
//!   passed since their last part).
//! - The `450` of an upload in progress is known per server (in memory):
//!   two servers may take the same upload at once; each writes its own
//!   parts, and a RESUME later takes the one cut off last, whole.
//! - Costs: `RESUME` lists the path and size's objects (1 request per
//!   1,000) and reads each manifest there (normally one), then reads the
//!   kept bytes back into the final object (the store has no server-side
//!   append). A quota's kept bytes are a listing
//!   of the owner's parts. A discard (a STORE of a path, at its start and
//!   after its commit; a DELETE; a RENAME) is one recursive listing of the
//!   kept area (one request while it is empty) and a DELETE per object of
//!   the path's; an RMDIR or a directory RENAME also reads each manifest of
//!   another path (kept uploads are few; a store with many would want an
//!   index).
//!   The sweep of expired uploads lists every kept part, at most once a
//!   minute; an expired upload's directory goes, and the parts it had
//!   continued (then under no manifest) go as a dead server's do.

use super::{is_not_found, ObjectStore};
use crate::storage::{Begin, UploadKey, KEPT_DIR, SWEEP_BATCH, TEMP_DIR};
use crate::ServerError;
use ferry_proto::Path;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// The directory of the kept uploads of `key` (its path and size), one
/// directory per upload beneath.
pub(super) fn size_dir(key: &UploadKey) -> String {
    format!("{}{}/", path_dir(&key.owner, &key.path), key.size)
}

/// A new upload's id and directory under [`size_dir`]: its start time (ns)
/// and 128 bits from std's randomly keyed hasher, so that no two uploads,
/// on this server or another, write the same objects.
pub(super) fn new_upload(key: &UploadKey) -> (String, String) {
    use std::hash::{BuildHasher, Hasher};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = now_nanos();
    let count = NEXT.fetch_add(1, Ordering::Relaxed);
    let random = |salt: u64| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(nanos);
        hasher.write_u64(count);
        hasher.write_u64(salt);
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    let id = format!("{nanos:020}-{:016x}{:016x}", random(0), random(1));
    let dir = format!("{}{id}/", size_dir(key));
    (id, dir)
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

/// An id we made (it names a directory: nothing else gets in).
fn is_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
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
    /// When it was cut off (ns since the Unix epoch): a RESUME takes the
    /// newest.
    cut: u64,
    /// Whose parts hold its bytes, in order.
    runs: Vec<Run>,
}

/// Bytes of a kept upload held by the parts of upload `id`, from where
/// the run before ends up to `end`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Run {
    pub(super) id: String,
    pub(super) end: u64,
}

/// What a RESUME continues: the parts (a run from 0 without a gap) and
/// the runs they make up.
#[derive(Debug, Default)]
pub(super) struct Continued {
    pub(super) parts: Vec<Part>,
    pub(super) runs: Vec<Run>,
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

    /// The objects under `dir` (at any depth).
    async fn objects(&self, store: &ObjectStore, dir: &str) -> Result<Vec<String>, ServerError> {
        let op = store.op().await?;
        let mut lister = match op.lister_with(dir).recursive(true).await {
            Ok(lister) => lister,
            Err(error) if is_not_found(&error) => return Ok(Vec::new()),
            Err(error) => return Err(store.fail(error).await),
        };
        let mut objects = Vec::new();
        loop {
            match lister.try_next().await {
                Ok(Some(entry)) if !entry.path().ends_with('/') => {
                    objects.push(entry.path().to_owned());
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(error) if is_not_found(&error) => break,
                Err(error) => return Err(store.fail(error).await),
            }
        }
        Ok(objects)
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

    /// What a RESUME of `key` continues: of the kept uploads of its path
    /// and size vouched for by an unexpired manifest of the same owner,
    /// path and size, the one cut off last; its runs' parts from 0 without
    /// a gap (a run that falls short ends it there).
    async fn chain(&self, store: &ObjectStore, key: &UploadKey) -> Result<Continued, ServerError> {
        if !self.keeps() {
            return Ok(Continued::default());
        }
        let dir = size_dir(key);
        let objects = self.objects(store, &dir).await?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let mut newest: Option<Manifest> = None;
        for object in &objects {
            let Some(upload) = object.strip_suffix(MANIFEST) else {
                continue;
            };
            let Some(manifest) = self.read_manifest(store, upload).await else {
                continue;
            };
            if manifest.owner == key.owner
                && manifest.path == key.path.as_str()
                && manifest.size == key.size
                && manifest.deadline > now
                && newest
                    .as_ref()
                    .is_none_or(|newest| manifest.cut > newest.cut)
            {
                newest = Some(manifest);
            }
        }
        let Some(manifest) = newest else {
            return Ok(Continued::default());
        };
        let mut parts: Vec<Part> = objects
            .iter()
            .filter_map(|object| {
                let name = object.rsplit('/').next().unwrap_or_default();
                let (offset, len) = parse_part(name)?;
                Some(Part {
                    key: object.clone(),
                    offset,
                    len,
                })
            })
            .collect();
        parts.sort_by_key(|part| (part.offset, part.len));
        let mut continued = Continued::default();
        let mut kept = 0u64;
        for run in manifest.runs {
            if !is_id(&run.id) {
                break;
            }
            let end = run.end.min(key.size);
            let prefix = format!("{dir}{}/", run.id);
            let start = kept;
            for part in parts.iter().filter(|part| part.key.starts_with(&prefix)) {
                if part.offset == kept && part.len > 0 && kept + part.len <= end {
                    kept += part.len;
                    continued.parts.push(part.clone());
                }
            }
            if kept > start {
                continued.runs.push(Run {
                    id: run.id,
                    end: kept,
                });
            }
            if kept != end {
                break;
            }
        }
        Ok(continued)
    }

    /// Bytes kept for `key` (what a RESUME would continue from).
    #[cfg(test)]
    pub(super) async fn kept_len(
        &self,
        store: &ObjectStore,
        key: &UploadKey,
    ) -> Result<u64, ServerError> {
        let continued = self.chain(store, key).await?;
        Ok(continued.runs.last().map_or(0, |run| run.end))
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
    /// what `begin` discards; returns what it continues. Everything else
    /// kept of the path goes, the manifest of what it continues too: from
    /// now on those parts are this upload's, until it is cut off (a
    /// manifest of its own naming them) or completed.
    pub(super) async fn begin(
        &self,
        store: &ObjectStore,
        key: &UploadKey,
        begin: Begin,
    ) -> Result<(Arc<AtomicBool>, Continued), ServerError> {
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
                    self.discard_path(store, &key.path).await?;
                    Continued::default()
                }
                Begin::Continuing => {
                    let continued = self.chain(store, key).await?;
                    let spared: Vec<&str> = continued
                        .parts
                        .iter()
                        .map(|part| part.key.as_str())
                        .collect();
                    self.discard(store, &[&key.path], Reach::Exactly, &spared)
                        .await?;
                    continued
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

    /// Writes the manifest of the cut-off upload `key` in its directory
    /// `dir`, naming the `runs` of parts (in the store) that hold its
    /// bytes, for the window from now.
    pub(super) async fn keep(
        &self,
        store: &ObjectStore,
        key: &UploadKey,
        dir: &str,
        runs: Vec<Run>,
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
            cut: now_nanos(),
            runs,
        };
        let text = toml::to_string(&manifest)
            .map_err(|error| ServerError::Storage(std::io::Error::other(error)))?;
        let op = store.op().await?;
        if let Err(error) = op.write(&format!("{dir}{MANIFEST}"), text).await {
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

    /// Removes the parts an upload that keeps nothing wrote: those under
    /// its directory `dir`, and those it `continued`.
    pub(super) async fn forget(&self, store: &ObjectStore, dir: &str, continued: &[String]) {
        self.remove_dir(store, dir).await;
        let Ok(op) = store.op().await else {
            return;
        };
        for key in continued {
            match op.delete(key).await {
                Ok(()) => {}
                Err(error) if is_not_found(&error) => {}
                Err(error) => tracing::warn!(key, %error, "cannot remove a kept part"),
            }
        }
    }

    /// Discards what every owner keeps of `path`, and marks the uploads in
    /// progress here of it.
    pub(super) async fn discard_path(
        &self,
        store: &ObjectStore,
        path: &Path,
    ) -> Result<(), ServerError> {
        self.discard(store, &[path], Reach::Exactly, &[]).await
    }

    /// Discards what is kept of each of `paths` (a DELETE, a RENAME of a
    /// file: from and onto); a failure is logged.
    pub(super) async fn discard_paths(&self, store: &ObjectStore, paths: &[&Path]) {
        if let Err(error) = self.discard(store, paths, Reach::Exactly, &[]).await {
            tracing::warn!(%error, "cannot discard kept uploads");
        }
    }

    /// Discards what is kept of `paths` and of every path beneath them (an
    /// RMDIR, a RENAME of a directory); a failure is logged.
    pub(super) async fn discard_within(&self, store: &ObjectStore, paths: &[&Path]) {
        if let Err(error) = self.discard(store, paths, Reach::Within, &[]).await {
            tracing::warn!(%error, "cannot discard kept uploads");
        }
    }

    /// The discards above: one recursive listing of the kept area (one
    /// request while it is empty, a request per 1,000 objects and the empty
    /// page that ends the listing otherwise), a DELETE per object
    /// discarded (but the `spared` objects), and (`Reach::Within`) one GET
    /// per manifest of another path, to read which path it keeps.
    async fn discard(
        &self,
        store: &ObjectStore,
        paths: &[&Path],
        reach: Reach,
        spared: &[&str],
    ) -> Result<(), ServerError> {
        let hit = |kept: &Path| {
            paths.iter().any(|path| match reach {
                Reach::Exactly => kept == *path,
                Reach::Within => kept.is_within(path),
            })
        };
        for (key, flag) in self.lock().iter() {
            if hit(&key.path) {
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
        let base = base();
        let op = store.op().await?;
        let mut lister = match op.lister_with(&base).recursive(true).await {
            Ok(lister) => lister,
            Err(error) if is_not_found(&error) => return Ok(()),
            Err(error) => return Err(store.fail(error).await),
        };
        let mut doomed = Vec::new();
        // Within: every other key, and per other path (its directory) the
        // directory of one of its manifests.
        let mut others: Vec<String> = Vec::new();
        let mut manifests: HashMap<String, String> = HashMap::new();
        loop {
            let entry = match lister.try_next().await {
                Ok(Some(entry)) => entry,
                Ok(None) => break,
                Err(error) if is_not_found(&error) => break,
                Err(error) => return Err(store.fail(error).await),
            };
            let key = entry.path();
            if key.ends_with('/') || spared.contains(&key) {
                continue;
            }
            // <owner>/<path hash>/<size>/<upload id>/<name>
            let Some(rest) = key.strip_prefix(base.as_str()) else {
                continue;
            };
            let mut components = rest.split('/');
            let owner = components.next().unwrap_or_default();
            let hash = components.next().unwrap_or_default();
            if hashes.iter().any(|wanted| wanted == hash) {
                doomed.push(key.to_owned());
            } else if reach == Reach::Within {
                if let Some(dir) = key.strip_suffix(MANIFEST) {
                    manifests
                        .entry(format!("{base}{owner}/{hash}/"))
                        .or_insert_with(|| dir.to_owned());
                }
                others.push(key.to_owned());
            }
        }
        for (path_dir, dir) in manifests {
            let beneath = self
                .read_manifest(store, &dir)
                .await
                .is_some_and(|manifest| {
                    Path::new(manifest.path.as_str()).is_ok_and(|kept| hit(&kept))
                });
            if beneath {
                doomed.extend(
                    others
                        .iter()
                        .filter(|key| key.starts_with(&path_dir))
                        .cloned(),
                );
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

    /// Directories of a path and size (all its uploads) holding parts and
    /// no manifest (a server died mid-upload, or an expired upload's
    /// manifest went and left the parts it continued) whose newest part is
    /// older than [`ORPHAN_AGE`] and the window, and that are not uploads
    /// in progress here (at most `most`). An upload in progress on another
    /// server writes a part at least every idle timeout, far below that
    /// age.
    async fn orphans(&self, store: &ObjectStore, now: u64, most: usize) -> Vec<String> {
        let Ok(op) = store.op().await else {
            return Vec::new();
        };
        let Ok(mut lister) = op.lister_with(&base()).recursive(true).await else {
            return Vec::new();
        };
        // Per path and size: has a manifest, newest part (seconds).
        let base = base();
        let mut dirs: HashMap<String, (bool, u64)> = HashMap::new();
        while let Ok(Some(entry)) = lister.try_next().await {
            let Some(rest) = entry.path().strip_prefix(base.as_str()) else {
                continue;
            };
            let name = rest.rsplit('/').next().unwrap_or_default();
            let components: Vec<&str> = rest.split('/').collect();
            if components.len() < 4 {
                continue;
            }
            let dir = format!("{base}{}/", components[..3].join("/"));
            let seen = dirs.entry(dir).or_insert((false, 0));
            if name == MANIFEST {
                seen.0 = true;
            } else if parse_part(name).is_some() {
                // Unknown times (the memory service) count as new.
                let time = super::seconds(entry.metadata());
                seen.1 = seen.1.max(if time == 0 { now } else { time });
            }
        }
        let age = ORPHAN_AGE.max(self.window).as_secs();
        let active: Vec<String> = self.lock().keys().map(size_dir).collect();
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
