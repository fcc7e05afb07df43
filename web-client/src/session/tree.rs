//! Requests that take several exchanges: counting and deleting whole
//! folders (the protocol's RMDIR removes only an empty one), moving a
//! selection, and finding out whether the session may change anything.
//!
//! Folder walks use an explicit stack, not recursion, and stop at
//! [`WALK_LIMIT`] entries, so a huge tree cannot run the page out of memory.

use super::exchange::{Failed, NoData};
use super::task::Task;
use crate::model::{child, plural, Access, DeletePlan, Entry};
use crate::transport::ConnError;
use ferry_proto::{Delete, List, Mkdir, Name, Path, RefusalKind, Rename, Rmdir};

/// Most entries a delete walks through.
const WALK_LIMIT: u64 = 100_000;

/// How a walk ended early.
enum Stop {
    /// The connection is over.
    Ended(ConnError),
    /// A command failed (already reported).
    Failed,
}

impl From<ConnError> for Stop {
    fn from(end: ConnError) -> Stop {
        Stop::Ended(end)
    }
}

impl Task<'_> {
    /// Lists `dir` for a walk; a failure is reported and stops it.
    async fn walk_list(&mut self, dir: &Path) -> Result<(Vec<Path>, Vec<Path>), Stop> {
        let dir = Some(dir.clone());
        match self.entries(&dir).await? {
            Ok(entries) => {
                let (mut files, mut folders) = (Vec::new(), Vec::new());
                for entry in entries {
                    let path = child(&dir, &entry.name).map_err(|e| {
                        self.model
                            .error(format!("Cannot walk {}: {e}.", entry.name));
                        Stop::Failed
                    })?;
                    if entry.is_dir() {
                        folders.push(path);
                    } else {
                        files.push(path);
                    }
                }
                Ok((files, folders))
            }
            Err(failure) => {
                self.show_failure(&List(dir), &failure);
                Err(Stop::Failed)
            }
        }
    }

    /// Counts the files and folders inside `entries`' folders, then asks.
    pub(super) async fn plan_delete(&mut self, entries: Vec<Entry>) -> Result<bool, ConnError> {
        let (mut files_inside, mut folders_inside) = (0u64, 0u64);
        let mut stack: Vec<Path> = entries
            .iter()
            .filter(|e| e.is_dir)
            .map(|e| e.path.clone())
            .collect();
        while let Some(dir) = stack.pop() {
            match self.walk_list(&dir).await {
                Ok((files, folders)) => {
                    files_inside += files.len() as u64;
                    folders_inside += folders.len() as u64;
                    stack.extend(folders);
                }
                Err(Stop::Ended(end)) => return Err(end),
                Err(Stop::Failed) => return Ok(false),
            }
            if files_inside + folders_inside > WALK_LIMIT {
                self.model.error(format!(
                    "Too much to delete from the web page at once (over {WALK_LIMIT} entries)."
                ));
                return Ok(false);
            }
        }
        self.model.ask_delete(Some(DeletePlan {
            entries,
            files_inside,
            folders_inside,
        }));
        Ok(false)
    }

    /// Deletes `entries`: files with DELETE, folders by deleting what they
    /// hold (deepest first) and then RMDIR.
    pub(super) async fn remove(&mut self, entries: Vec<Entry>) -> Result<bool, ConnError> {
        let mut removed = 0u64;
        let outcome = self.remove_all(&entries, &mut removed).await;
        let changed = removed > 0;
        match outcome {
            Err(Stop::Ended(end)) => Err(end),
            Err(Stop::Failed) => Ok(changed),
            Ok(()) => {
                let what = match entries.as_slice() {
                    [one] => format!("“{}”", one.path.last_name()),
                    many => plural(many.len() as u64, "item"),
                };
                self.model.notify(format!("Deleted {what}."));
                Ok(changed)
            }
        }
    }

    async fn remove_all(&mut self, entries: &[Entry], removed: &mut u64) -> Result<(), Stop> {
        for entry in entries {
            if !entry.is_dir {
                self.delete_file(&entry.path).await?;
                *removed += 1;
                continue;
            }
            // (folder, listed): a folder is listed on the way down and removed on the way up.
            let mut stack = vec![(entry.path.clone(), false)];
            while let Some((dir, listed)) = stack.pop() {
                if listed {
                    match self.checked(&Rmdir(dir.clone()), &mut NoData).await? {
                        Ok(()) => *removed += 1,
                        Err(failure) => {
                            self.show_failure(&Rmdir(dir), &failure);
                            return Err(Stop::Failed);
                        }
                    }
                    continue;
                }
                let (files, folders) = self.walk_list(&dir).await?;
                for file in files {
                    self.delete_file(&file).await?;
                    *removed += 1;
                }
                stack.push((dir, true));
                stack.extend(folders.into_iter().map(|f| (f, false)));
                if stack.len() as u64 > WALK_LIMIT {
                    self.model
                        .error("The folder is too deep to delete from the web page.");
                    return Err(Stop::Failed);
                }
            }
        }
        Ok(())
    }

    async fn delete_file(&mut self, path: &Path) -> Result<(), Stop> {
        let exchange = Delete(path.clone());
        match self.checked(&exchange, &mut NoData).await? {
            Ok(()) => Ok(()),
            Err(failure) => {
                self.show_failure(&exchange, &failure);
                Err(Stop::Failed)
            }
        }
    }

    /// Moves each of `paths` into `into`, keeping its name.
    pub(super) async fn move_into(
        &mut self,
        paths: Vec<Path>,
        into: Option<Path>,
    ) -> Result<bool, ConnError> {
        let mut moved = 0u64;
        for from in paths {
            if from.parent() == into {
                continue;
            }
            if let Some(into) = &into {
                if into.is_within(&from) {
                    self.model.error(format!(
                        "Cannot move the folder “{}” into itself.",
                        from.last_name()
                    ));
                    continue;
                }
            }
            let to = match child(&into, &from.last_name()) {
                Ok(to) => to,
                Err(e) => {
                    self.model.error(format!("Cannot move “{from}”: {e}."));
                    continue;
                }
            };
            let exchange = Rename { from, to };
            match self.checked(&exchange, &mut NoData).await? {
                Ok(()) => moved += 1,
                Err(failure) => {
                    self.show_failure(&exchange, &failure);
                    break;
                }
            }
        }
        if moved > 0 {
            let into = crate::model::dir_text(&into);
            self.model
                .notify(format!("Moved {} to {into}.", plural(moved, "item")));
        }
        Ok(moved > 0)
    }

    /// Finds out whether this session may change files.
    ///
    /// The contract has no verb that tells a session's access, so the
    /// check makes and removes a folder of a random name in the home:
    /// `550` to that MKDIR means read-only (a fresh random name exists
    /// nowhere, and the home itself always exists once logged in).
    pub(super) async fn check_access(&mut self) -> Result<bool, ConnError> {
        let access = self.model.access_untracked();
        if access == Access::LoginRequired {
            return Ok(false);
        }
        let probe = format!(".ferry-write-check-{:08x}", random_u32());
        let Ok(name) = Name::new(probe) else {
            return Ok(false);
        };
        let path = Path::from(name);
        let read_only = match self.checked(&Mkdir(path.clone()), &mut NoData).await? {
            Ok(()) => {
                if let Err(failure) = self.checked(&Rmdir(path.clone()), &mut NoData).await? {
                    self.show_failure(&Rmdir(path), &failure);
                }
                false
            }
            Err(Failed::Refused(refusal)) if refusal.kind() == RefusalKind::NotLoggedIn => {
                self.model.set_access(Access::LoginRequired);
                return Ok(false);
            }
            Err(_) => true,
        };
        self.model.set_access(match access {
            Access::LoggedIn { account, .. } => Access::LoggedIn { account, read_only },
            _ => Access::Anonymous { read_only },
        });
        Ok(false)
    }
}

fn random_u32() -> u32 {
    (js_sys::Math::random() * f64::from(u32::MAX)) as u32
}
