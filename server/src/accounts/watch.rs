//! Hot reload: the accounts file is checked on a timer and read again when
//! it changed.
//!
//! A stat once a second costs nothing and works on every file system
//! (network mounts and editors that replace the file included), where
//! change notifications miss a rename over the watched file or a mount. A
//! change is its size, its modification time or its inode (the tool
//! renames a new file into place, so every edit it makes has a new inode).
//! The task holds only a weak handle and ends with the server.

use super::file::AccountsFileError;
use super::live::{Accounts, Reload};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How often the running server looks at the accounts file.
pub const RELOAD_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// What tells one version of the file from the next without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    device: u64,
    inode: u64,
    size: u64,
    modified: Option<SystemTime>,
}

impl FileStamp {
    /// The stamp of the file at `path`, or `None` if it cannot be seen.
    pub fn of(path: &Path) -> Option<FileStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            device: metadata.dev(),
            inode: metadata.ino(),
            size: metadata.len(),
            modified: metadata.modified().ok(),
        })
    }
}

/// The permission bits of the file at `path` when its group or others have
/// any (the tool always writes 0600; a hand-made file may not be).
fn shared_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

impl Accounts {
    /// What the server does at start: reads the file (on a blocking
    /// thread), then follows it every [`RELOAD_CHECK_INTERVAL`].
    pub async fn open(path: &Path) -> Result<Accounts, AccountsFileError> {
        let owned = path.to_owned();
        let accounts = tokio::task::spawn_blocking(move || Accounts::load(&owned))
            .await
            .map_err(|error| AccountsFileError {
                path: path.to_owned(),
                line: None,
                message: error.to_string(),
            })??;
        tracing::info!(
            path = %path.display(),
            accounts = accounts.current().len(),
            "accounts loaded"
        );
        if let Some(mode) = shared_mode(path) {
            tracing::warn!(
                path = %path.display(),
                mode = format_args!("{mode:o}"),
                "the accounts file holds password hashes but others may read it (chmod 600)"
            );
        }
        accounts.watch(RELOAD_CHECK_INTERVAL);
        Ok(accounts)
    }

    /// Checks the file every `interval` on the current Tokio runtime until
    /// every handle is dropped; logs each reload, and each bad edit once
    /// (the accounts in force then stay).
    pub fn watch(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let accounts = Accounts { inner };
                let checked = {
                    let accounts = accounts.clone();
                    tokio::task::spawn_blocking(move || accounts.reload_if_changed()).await
                };
                match checked {
                    Ok(Ok(Reload::Unchanged)) => {}
                    Ok(Ok(Reload::Reloaded(count))) => tracing::info!(
                        path = %accounts.path().display(),
                        accounts = count,
                        "accounts file reloaded"
                    ),
                    Ok(Err(error)) => tracing::error!(
                        accounts = accounts.current().len(),
                        "accounts file not reloaded, keeping the accounts in force: {error}"
                    ),
                    Err(error) => tracing::error!(%error, "accounts file check failed"),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::password::cheap_hash;
    use crate::accounts::{store, Access, Account, AccountsFile, Home};

    /// A file of one account per name, each with the password "pw".
    fn file_of(names: &[&str]) -> String {
        let hash = cheap_hash("pw");
        let mut file = AccountsFile::default();
        for name in names {
            let account = Account {
                name: name.parse().unwrap(),
                home: Home::Root,
                access: Access::ReadWrite,
                quota: None,
            };
            file.add(account, hash.clone()).unwrap();
        }
        file.render()
    }

    #[test]
    fn a_change_is_read_and_a_bad_edit_keeps_the_accounts_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.toml");
        store::write_private(&path, file_of(&["alice"]).as_bytes()).unwrap();
        let accounts = Accounts::load(&path).unwrap();
        assert_eq!(accounts.reload_if_changed(), Ok(Reload::Unchanged));

        store::write_private(&path, file_of(&["alice", "bob"]).as_bytes()).unwrap();
        assert_eq!(accounts.reload_if_changed(), Ok(Reload::Reloaded(2)));
        assert!(accounts.verify("bob", "pw").is_some());

        store::write_private(&path, b"[accounts.carol]\npassword = 42\n").unwrap();
        let error = accounts.reload_if_changed().unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
        assert_eq!(accounts.current().len(), 2, "the previous accounts stay");
        assert_eq!(
            accounts.reload_if_changed(),
            Ok(Reload::Unchanged),
            "reported once"
        );

        std::fs::remove_file(&path).unwrap();
        assert!(accounts.reload_if_changed().is_err());
        assert_eq!(accounts.reload_if_changed(), Ok(Reload::Unchanged));
        assert!(accounts.verify("alice", "pw").is_some());
    }

    #[tokio::test]
    async fn the_running_server_sees_an_edit_without_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.toml");
        store::write_private(&path, file_of(&["alice"]).as_bytes()).unwrap();
        let accounts = Accounts::load(&path).unwrap();
        let watcher = accounts.watch(Duration::from_millis(20));
        store::write_private(&path, file_of(&["bob"]).as_bytes()).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while accounts.current().get("bob").is_none() {
            assert!(tokio::time::Instant::now() < deadline, "no reload seen");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(accounts.current().get("alice").is_none());
        drop(accounts);
        tokio::time::timeout(Duration::from_secs(10), watcher)
            .await
            .expect("the watcher ends with its accounts")
            .unwrap();
    }
}
