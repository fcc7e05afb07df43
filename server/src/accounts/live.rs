//! The running server's accounts: the file as last read successfully, kept
//! up to date while the server runs.
//!
//! A login asks [`Accounts::current`] (or [`Accounts::verify`]) and gets
//! the set in force at that moment; a reload swaps in a whole new set, so a
//! login never sees half of an edit. A reload that fails (a bad edit, the
//! file gone for a moment) keeps the previous set: the server must not lock
//! everyone out because of a typo.

use super::file::{AccountsFile, AccountsFileError};
use super::watch::FileStamp;
use super::Account;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// A handle on the accounts in force; cheap to clone, shared by every
/// connection.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    path: PathBuf,
    current: RwLock<Arc<AccountsFile>>,
    /// The file as it was when last read (successfully or not), so a bad
    /// edit is reported once, not on every check.
    seen: Mutex<Option<FileStamp>>,
}

/// What a check of the file found.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    /// The file has not changed since it was last read.
    Unchanged,
    /// The file changed and its new accounts are in force (how many).
    Reloaded(usize),
}

impl Accounts {
    /// Reads the file at `path`; a missing or bad file is an error.
    pub fn load(path: &Path) -> Result<Accounts, AccountsFileError> {
        let stamp = FileStamp::of(path);
        let file = AccountsFile::read(path)?;
        Ok(Accounts {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                current: RwLock::new(Arc::new(file)),
                seen: Mutex::new(stamp),
            }),
        })
    }

    /// The accounts file being followed.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The accounts in force now.
    pub fn current(&self) -> Arc<AccountsFile> {
        Arc::clone(&self.inner.current.read().expect("never poisoned"))
    }

    /// The account if `password` is its password, with the same cost for
    /// an unknown name as for a wrong password (see
    /// [`AccountsFile::verify`]). Blocking: call it with `spawn_blocking`.
    pub fn verify(&self, name: &str, password: &str) -> Option<Account> {
        self.current().verify(name, password)
    }

    /// Reads the file again if it changed (size, modification time or
    /// inode) since it was last read. On an error the accounts in force
    /// stay, and the same bad file is not reported again.
    pub fn reload_if_changed(&self) -> Result<Reload, AccountsFileError> {
        let inner = &self.inner;
        let stamp = FileStamp::of(&inner.path);
        {
            let mut seen = inner.seen.lock().expect("never poisoned");
            if *seen == stamp {
                return Ok(Reload::Unchanged);
            }
            // Taken before reading: an edit landing after this stat changes
            // the stamp again, and the next check reads the file once more.
            *seen = stamp;
        }
        let file = AccountsFile::read(&inner.path)?;
        let count = file.len();
        *inner.current.write().expect("never poisoned") = Arc::new(file);
        Ok(Reload::Reloaded(count))
    }
}
