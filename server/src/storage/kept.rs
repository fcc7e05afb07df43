//! Kept partial uploads (docs/PROTOCOL.md §3.3): the first bytes of a STORE
//! or RESUME that was cut off, held out of sight for the resume window so
//! that `RESUME` by the same owner, of the same path and size, sends only
//! the rest.
//!
//! Why it is built this way:
//!
//! - The bytes must be exactly the first bytes the client sent, even after
//!   a crash. So a kept upload is two files in [`KEPT_DIR`] (inside the
//!   staging area, which no path reaches): `<id>.data`, only ever appended
//!   to, and `<id>.record`, naming owner, path, size, the kept length and
//!   the deadline. The data is fsynced *before* its record is written
//!   (atomically: a temporary, fsynced, renamed, the directory fsynced), so
//!   a record never vouches for more than is on disk. After a restart the
//!   data file is cut back to the recorded length (what a resume appended
//!   since is dropped) or, if it is shorter, thrown away with its record.
//! - The in-memory registry is the authority while the server runs: the
//!   uploads at rest, and the uploads in progress (one per owner, path and
//!   size, which is where the `450` comes from). A command that discards a
//!   path also marks the uploads in progress under it, so that one cut off
//!   later is not kept either.
//! - Expiry is a sweep every [`SWEEP_INTERVAL`] over an index ordered by
//!   deadline, at most [`SWEEP_BATCH`] uploads at a time: no restart and no
//!   request is needed for kept bytes to go, and a sweep never scans
//!   everything.
//!
//! Owners are keys in text (an account name, or `-` for every anonymous
//! session: no account name can be `-`), the form a session's owner takes
//! as a key.

use super::{from_errno, storage_error, sync_dir};
use crate::ServerError;
use ferry_proto::Path;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Directory inside the staging area ([`super::TEMP_DIR`]) that holds the
/// kept uploads.
pub const KEPT_DIR: &str = "kept";

/// The owner of every anonymous session, as a key.
pub const ANONYMOUS_OWNER: &str = "-";

/// How often expired uploads are looked for.
pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_millis(500);

/// Most expired uploads removed by one sweep.
pub(crate) const SWEEP_BATCH: usize = 64;

const DATA_SUFFIX: &str = ".data";
const RECORD_SUFFIX: &str = ".record";
const NEW_RECORD_SUFFIX: &str = ".record.new";

/// Which upload: the owner, the path from the root, the whole size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct UploadKey {
    /// The owner's key: an account name, or [`ANONYMOUS_OWNER`].
    pub(crate) owner: String,
    pub(crate) path: Path,
    pub(crate) size: u64,
}

/// How an upload begins, for what it discards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// `STORE`: discards everything kept of the path, and starts at zero.
    Afresh,
    /// `RESUME`: discards what is kept of the path with another size, and
    /// continues what this owner keeps of it with this size.
    Continuing,
}

/// A kept upload at rest.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Names its two files, `<id>.data` and `<id>.record`.
    pub(crate) id: String,
    /// Bytes kept: the first `kept` bytes of the file.
    pub(crate) kept: u64,
    deadline: SystemTime,
    /// Orders entries of the same deadline in the expiry index.
    seq: u64,
}

/// An upload in progress.
#[derive(Debug)]
struct Active {
    /// Bytes it continues from (kept before it began).
    kept: u64,
    /// Its path was discarded since it began: if cut off, keep nothing.
    discarded: bool,
}

#[derive(Debug, Default)]
struct Registry {
    at_rest: HashMap<UploadKey, Entry>,
    /// `(deadline, seq)` of every entry at rest.
    expiry: BTreeMap<(SystemTime, u64), UploadKey>,
    active: HashMap<UploadKey, Active>,
    next_seq: u64,
}

impl Registry {
    /// Puts `entry` at rest; returns the one it replaces, if any.
    fn insert(&mut self, key: UploadKey, mut entry: Entry) -> Option<Entry> {
        self.next_seq += 1;
        entry.seq = self.next_seq;
        self.expiry.insert((entry.deadline, entry.seq), key.clone());
        let old = self.at_rest.insert(key, entry)?;
        self.expiry.remove(&(old.deadline, old.seq));
        Some(old)
    }

    fn take(&mut self, key: &UploadKey) -> Option<Entry> {
        let entry = self.at_rest.remove(key)?;
        self.expiry.remove(&(entry.deadline, entry.seq));
        Some(entry)
    }

    /// Removes the entries at rest matching `doomed` and marks the uploads
    /// in progress matching it; returns the ids whose files must go.
    fn discard(&mut self, doomed: impl Fn(&UploadKey) -> bool) -> Vec<String> {
        let keys: Vec<UploadKey> = self.at_rest.keys().filter(|k| doomed(k)).cloned().collect();
        for (key, active) in &mut self.active {
            if doomed(key) {
                active.discarded = true;
            }
        }
        keys.iter()
            .filter_map(|key| self.take(key))
            .map(|entry| entry.id)
            .collect()
    }
}

/// The kept uploads of one root.
#[derive(Debug)]
pub(crate) struct Kept {
    /// [`KEPT_DIR`], opened for reading.
    dir: OwnedFd,
    /// Zero: nothing is ever kept.
    window: Duration,
    registry: Mutex<Registry>,
    next_id: AtomicU64,
}

/// What a kept upload's record says, as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    owner: String,
    path: String,
    size: u64,
    kept: u64,
    /// Seconds since the Unix epoch.
    deadline: u64,
}

impl Kept {
    /// Opens `dir` (the kept directory) and takes in the kept uploads its
    /// records vouch for; everything else in it is removed.
    pub(super) fn load(dir: OwnedFd, window: Duration) -> io::Result<Kept> {
        let kept = Kept {
            dir,
            window,
            registry: Mutex::new(Registry::default()),
            next_id: AtomicU64::new(0),
        };
        let now = SystemTime::now();
        let mut records = Vec::new();
        let mut others = Vec::new();
        let listing = rustix::fs::openat(
            &kept.dir,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        for entry in rustix::fs::Dir::new(listing)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "." || name == ".." {
                continue;
            }
            match name.strip_suffix(RECORD_SUFFIX) {
                Some(id) if !id.is_empty() => records.push(id.to_owned()),
                _ => others.push(name),
            }
        }
        let mut vouched = Vec::new();
        for id in records {
            match kept.vouch(&id, now) {
                Some((key, entry)) => {
                    vouched.push(format!("{id}{DATA_SUFFIX}"));
                    let mut registry = kept.lock();
                    if let Some(old) = registry.insert(key, entry) {
                        drop(registry);
                        kept.remove_files(&old.id);
                    }
                }
                None => {
                    tracing::info!(id, "kept upload discarded at start");
                    kept.remove_files(&id);
                }
            }
        }
        for name in others {
            if vouched.contains(&name) {
                continue;
            }
            match rustix::fs::unlinkat(&kept.dir, name.as_str(), AtFlags::empty()) {
                Ok(()) => tracing::info!(name, "removed leftover of a kept upload"),
                Err(Errno::NOENT) => {}
                Err(errno) => return Err(errno.into()),
            }
        }
        rustix::fs::fsync(&kept.dir)?;
        let held = kept.lock().at_rest.len();
        if held > 0 {
            tracing::info!(uploads = held, "kept partial uploads taken in");
        }
        Ok(kept)
    }

    /// The kept upload `id` if its record is whole and its data holds at
    /// least the recorded bytes (cut back to exactly them); `None` means
    /// it cannot be vouched for, or has expired, or nothing is kept now.
    fn vouch(&self, id: &str, now: SystemTime) -> Option<(UploadKey, Entry)> {
        if self.window.is_zero() {
            return None;
        }
        let record = self.read_record(id)?;
        let owner_ok = record.owner == ANONYMOUS_OWNER
            || record.owner.parse::<crate::accounts::AccountName>().is_ok();
        let path = Path::new(record.path).ok()?;
        let deadline = UNIX_EPOCH.checked_add(Duration::from_secs(record.deadline))?;
        if !owner_ok || record.kept == 0 || record.kept > record.size || deadline <= now {
            return None;
        }
        let flags = OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let fd =
            rustix::fs::openat(&self.dir, data_name(id).as_str(), flags, Mode::empty()).ok()?;
        let stat = rustix::fs::fstat(&fd).ok()?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return None;
        }
        let len = u64::try_from(stat.st_size).ok()?;
        if len < record.kept {
            return None;
        }
        if len > record.kept {
            rustix::fs::ftruncate(&fd, record.kept).ok()?;
            rustix::fs::fsync(&fd).ok()?;
        }
        let key = UploadKey {
            owner: record.owner,
            path,
            size: record.size,
        };
        let entry = Entry {
            id: id.to_owned(),
            kept: record.kept,
            deadline,
            seq: 0,
        };
        Some((key, entry))
    }

    fn read_record(&self, id: &str) -> Option<Record> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let name = format!("{id}{RECORD_SUFFIX}");
        let fd = rustix::fs::openat(&self.dir, name.as_str(), flags, Mode::empty()).ok()?;
        let mut text = String::new();
        // A record is a few lines; anything long is not one of ours.
        io::Read::read_to_string(
            &mut io::Read::take(std::fs::File::from(fd), 16 * 1024),
            &mut text,
        )
        .ok()?;
        toml::from_str(&text).ok()
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves a consistent registry
        // (every change is one insert or remove), so carry on.
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether anything is ever kept (the window is not zero).
    pub(crate) fn keeps(&self) -> bool {
        !self.window.is_zero()
    }

    /// Bytes kept at rest for `key` (0 if none).
    pub(crate) fn kept_len(&self, key: &UploadKey) -> u64 {
        self.lock().at_rest.get(key).map_or(0, |entry| entry.kept)
    }

    /// Bytes `owner` keeps in partial uploads, at rest or being continued
    /// (the usage that quotas count besides the files).
    pub(crate) fn kept_bytes(&self, owner: &str) -> u64 {
        self.kept_where(|key| key.owner == owner)
    }

    /// Bytes `owner` keeps of uploads to `path`, whatever their size, at
    /// rest or being continued: a STORE or RESUME of `path` discards or
    /// continues them all, so they leave the usage as its file enters it.
    pub(crate) fn kept_bytes_at(&self, owner: &str, path: &Path) -> u64 {
        self.kept_where(|key| key.owner == owner && key.path == *path)
    }

    fn kept_where(&self, wanted: impl Fn(&UploadKey) -> bool) -> u64 {
        let registry = self.lock();
        let at_rest = registry
            .at_rest
            .iter()
            .filter(|(key, _)| wanted(key))
            .map(|(_, entry)| entry.kept);
        let active = registry
            .active
            .iter()
            .filter(|(key, _)| wanted(key))
            .map(|(_, active)| active.kept);
        at_rest.chain(active).fold(0, u64::saturating_add)
    }

    /// Marks `key` in progress and discards what `begin` discards; returns
    /// the entry it continues, if any. `450` if `key` is in progress already
    /// (then nothing is discarded).
    pub(crate) fn begin(
        &self,
        key: &UploadKey,
        begin: Begin,
    ) -> Result<Option<Entry>, ServerError> {
        let mut registry = self.lock();
        if registry.active.contains_key(key) {
            return Err(ServerError::UploadInProgress);
        }
        let (continued, doomed) = match begin {
            Begin::Afresh => (None, registry.discard(|k| k.path == key.path)),
            Begin::Continuing => {
                let continued = registry.take(key);
                let doomed = registry.discard(|k| k.path == key.path && k.size != key.size);
                (continued, doomed)
            }
        };
        registry.active.insert(
            key.clone(),
            Active {
                kept: continued.as_ref().map_or(0, |entry| entry.kept),
                discarded: false,
            },
        );
        drop(registry);
        for id in doomed {
            self.remove_files(&id);
        }
        Ok(continued)
    }

    /// The upload `key` is over without anything to keep (completed,
    /// discarded or failed).
    pub(crate) fn end(&self, key: &UploadKey) {
        self.lock().active.remove(key);
    }

    /// Keeps the `kept` bytes now durable in `<id>.data` for `key`: writes
    /// the record, then puts the upload at rest, unless its path was
    /// discarded meanwhile. Ends the upload in progress either way.
    pub(crate) fn keep(&self, key: &UploadKey, id: &str, kept: u64) -> Result<(), ServerError> {
        let now = SystemTime::now();
        // A window too long for the clock keeps until the clock's end.
        let deadline = now
            .checked_add(self.window)
            .unwrap_or(UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 64));
        let record = Record {
            owner: key.owner.clone(),
            path: key.path.as_str().to_owned(),
            size: key.size,
            kept,
            deadline: deadline
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs()),
        };
        // The registry is held while the record is written, so the record
        // and the registry change at once for everyone else: a client that
        // sees the record and RESUMEs at once finds the upload at rest (not
        // still in progress, 450), and a STORE then discards it.
        let mut registry = self.lock();
        if let Err(error) = self.write_record(id, &record) {
            registry.active.remove(key);
            drop(registry);
            self.remove_files(id);
            return Err(error);
        }
        let discarded = registry.active.remove(key).is_some_and(|a| a.discarded);
        if discarded {
            drop(registry);
            self.remove_files(id);
            return Ok(());
        }
        let entry = Entry {
            id: id.to_owned(),
            kept,
            deadline,
            seq: 0,
        };
        let replaced = registry.insert(key.clone(), entry);
        drop(registry);
        if let Some(old) = replaced {
            self.remove_files(&old.id);
        }
        tracing::info!(owner = %key.owner, path = %key.path, size = key.size, kept, "partial upload kept");
        Ok(())
    }

    /// Discards what is kept of `path` itself (a completed upload or a
    /// STORE of it).
    pub(crate) fn discard_path(&self, path: &Path) {
        let doomed = self.lock().discard(|k| &k.path == path);
        for id in doomed {
            self.remove_files(&id);
        }
    }

    /// Discards what is kept of `path` and of every path beneath it (a
    /// DELETE, a RENAME from or onto it, an RMDIR).
    pub(crate) fn discard_within(&self, path: &Path) {
        let doomed = self.lock().discard(|k| k.path.is_within(path));
        for id in doomed {
            self.remove_files(&id);
        }
    }

    /// Removes up to [`SWEEP_BATCH`] uploads whose window has ended by
    /// `now`; returns how many.
    pub(crate) fn sweep(&self, now: SystemTime) -> usize {
        let mut registry = self.lock();
        let due: Vec<UploadKey> = registry
            .expiry
            .range(..=(now, u64::MAX))
            .take(SWEEP_BATCH)
            .map(|(_, key)| key.clone())
            .collect();
        let ids: Vec<String> = due
            .iter()
            .filter_map(|key| registry.take(key))
            .map(|entry| entry.id)
            .collect();
        drop(registry);
        for id in &ids {
            tracing::info!(id, "kept upload expired");
            self.remove_files(id);
        }
        ids.len()
    }

    /// A fresh id for a kept upload.
    pub(crate) fn new_id(&self) -> String {
        let number = self.next_id.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        format!("{nanos:x}-{}-{number}", std::process::id())
    }

    /// The kept directory, for moving a staged file in.
    pub(crate) fn dir(&self) -> &OwnedFd {
        &self.dir
    }

    /// Moves `temp_name` from the staging directory `staging` into the
    /// kept directory under a fresh id, made durable; returns the id.
    pub(crate) fn adopt(&self, staging: impl AsFd, temp_name: &str) -> Result<String, ServerError> {
        loop {
            let id = self.new_id();
            match rustix::fs::renameat_with(
                &staging,
                temp_name,
                &self.dir,
                data_name(&id).as_str(),
                RenameFlags::NOREPLACE,
            ) {
                Ok(()) => {
                    sync_dir(&self.dir)?;
                    return Ok(id);
                }
                Err(Errno::EXIST) => continue,
                Err(errno) => return Err(from_errno(errno)),
            }
        }
    }

    /// Writes `record` as `<id>.record` in one step, durably.
    fn write_record(&self, id: &str, record: &Record) -> Result<(), ServerError> {
        let text = toml::to_string(record)
            .map_err(|error| ServerError::Storage(io::Error::other(error)))?;
        let new_name = format!("{id}{NEW_RECORD_SUFFIX}");
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(
            &self.dir,
            new_name.as_str(),
            flags,
            Mode::from_raw_mode(0o600),
        )
        .map_err(storage_error)?;
        let mut file = std::fs::File::from(fd);
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(ServerError::Storage)?;
        drop(file);
        rustix::fs::renameat(
            &self.dir,
            new_name.as_str(),
            &self.dir,
            format!("{id}{RECORD_SUFFIX}").as_str(),
        )
        .map_err(storage_error)?;
        sync_dir(&self.dir)
    }

    /// Removes the record `id` (first: without it the data is a leftover)
    /// and then its data.
    pub(crate) fn remove_files(&self, id: &str) {
        self.remove_record(id);
        let _ = rustix::fs::unlinkat(&self.dir, data_name(id).as_str(), AtFlags::empty());
    }

    /// Removes only the record `id` (its data has been renamed into place).
    pub(crate) fn remove_record(&self, id: &str) {
        for name in [
            format!("{id}{RECORD_SUFFIX}"),
            format!("{id}{NEW_RECORD_SUFFIX}"),
        ] {
            match rustix::fs::unlinkat(&self.dir, name.as_str(), AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(error) => tracing::warn!(name, %error, "cannot remove a kept upload's record"),
            }
        }
        let _ = rustix::fs::fsync(&self.dir);
    }
}

/// The data file of the kept upload `id`.
pub(crate) fn data_name(id: &str) -> String {
    format!("{id}{DATA_SUFFIX}")
}
