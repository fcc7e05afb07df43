//! Whole trees: `get -r` walks the remote directory with `LIST` (one level
//! per command, as the protocol gives it) and `put -r` walks the local one,
//! creating directories as needed (`STAT`, then `MKDIR` where one is
//! missing, the top one's parents included). Every file goes through the same whole-file transfer as a
//! single get or put, so each appears complete or not at all. The walk
//! comes first, so one progress report covers the whole tree with its total
//! known before the first byte moves.
//!
//! Remote names are validated names (no `/`, never `..`), so joining them
//! to a local directory cannot leave it; local symbolic links and special
//! files are not followed nor sent, as the server would never list them.

use crate::session::{Session, TransferProgress};
use crate::transfer::{download, upload, upload_name, Destination, DownloadOptions, UploadOptions};
use crate::transport::Transport;
use crate::ClientError;
use ferry_proto::{EntryKind, Name, Path as RemotePath, RefusalKind};
use std::path::{Path, PathBuf};

/// What a tree transfer moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeDone {
    /// Files transferred.
    pub files: u64,
    /// Directories created or found (the top one included).
    pub dirs: u64,
    /// Bytes of all the files.
    pub bytes: u64,
    /// Local entries passed over: symbolic links and special files.
    pub skipped: Vec<PathBuf>,
}

/// A file of the walk: where it is on the server, where it is here, its size.
struct File {
    remote: RemotePath,
    local: PathBuf,
    size: u64,
}

/// Downloads the remote directory `remote` (`None`: the home) into the local
/// directory `local`, created if missing. Existing local files are replaced
/// only with `options.overwrite`.
pub async fn download_tree<T: Transport>(
    session: &mut Session<T>,
    remote: Option<&RemotePath>,
    local: &Path,
    options: &DownloadOptions,
    progress: &mut dyn TransferProgress,
) -> Result<TreeDone, ClientError> {
    if let Some(path) = remote {
        if let EntryKind::File { .. } = session.stat(path).await?.kind {
            return Err(ClientError::RemoteIsFile {
                path: path.to_string(),
            });
        }
    }
    let mut dirs = vec![local.to_owned()];
    let mut files = Vec::new();
    let mut pending = vec![(remote.cloned(), local.to_owned())];
    while let Some((dir, here)) = pending.pop() {
        for entry in session.list(dir.as_ref()).await? {
            let remote = child(dir.as_ref(), &entry.name)?;
            let local = here.join(entry.name.as_str());
            match entry.kind {
                EntryKind::Directory => {
                    dirs.push(local.clone());
                    pending.push((Some(remote), local));
                }
                EntryKind::File { size } => files.push(File {
                    remote,
                    local,
                    size,
                }),
            }
        }
    }
    for dir in &dirs {
        std::fs::create_dir_all(dir).map_err(|source| ClientError::Local {
            action: "create the directory",
            path: dir.clone(),
            source,
        })?;
    }
    let bytes = files.iter().map(|file| file.size).sum();
    progress.start(bytes);
    let mut share = Share(progress);
    for file in &files {
        let destination = Destination::File(file.local.clone());
        download(session, &file.remote, &destination, options, &mut share).await?;
    }
    Ok(TreeDone {
        files: files.len() as u64,
        dirs: dirs.len() as u64,
        bytes,
        skipped: Vec::new(),
    })
}

/// Uploads the local directory `local` as the remote directory `remote`
/// (`None`: into the home itself), creating remote directories as needed.
pub async fn upload_tree<T: Transport>(
    session: &mut Session<T>,
    local: &Path,
    remote: Option<&RemotePath>,
    options: &UploadOptions,
    progress: &mut dyn TransferProgress,
) -> Result<TreeDone, ClientError> {
    let mut done = TreeDone::default();
    let mut dirs = vec![remote.cloned()];
    let mut files = Vec::new();
    let mut pending = vec![(local.to_owned(), remote.cloned())];
    while let Some((here, dir)) = pending.pop() {
        let read_error = |source| ClientError::Local {
            action: "read the directory",
            path: here.clone(),
            source,
        };
        let mut entries = std::fs::read_dir(&here)
            .map_err(read_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(read_error)?;
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let path = entry.path();
            let kind = entry.file_type().map_err(|source| ClientError::Local {
                action: "read",
                path: path.clone(),
                source,
            })?;
            if !kind.is_dir() && !kind.is_file() {
                done.skipped.push(path);
                continue;
            }
            let remote = child(dir.as_ref(), &upload_name(&path)?)?;
            if kind.is_dir() {
                dirs.push(Some(remote.clone()));
                pending.push((path, Some(remote)));
            } else {
                let size = entry.metadata().map_or(0, |metadata| metadata.len());
                files.push(File {
                    remote,
                    local: path,
                    size,
                });
            }
        }
    }
    // The directories above the top one first, as `mkdir -p` would.
    let above = remote.map_or_else(Vec::new, ancestors);
    for dir in above.iter().chain(dirs.iter().flatten()) {
        ensure_dir(session, dir).await?;
    }
    done.dirs = dirs.len() as u64;
    done.bytes = files.iter().map(|file| file.size).sum();
    progress.start(done.bytes);
    let mut share = Share(progress);
    for file in &files {
        upload(session, &file.local, &file.remote, options, &mut share).await?;
        done.files += 1;
    }
    Ok(done)
}

/// Makes sure `dir` is a directory on the server: found by `STAT`, or
/// created by `MKDIR` when `STAT` finds nothing there.
async fn ensure_dir<T: Transport>(
    session: &mut Session<T>,
    dir: &RemotePath,
) -> Result<(), ClientError> {
    match session.stat(dir).await {
        Ok(status) if status.kind == EntryKind::Directory => Ok(()),
        Ok(_) => Err(ClientError::RemoteIsFile {
            path: dir.to_string(),
        }),
        Err(ClientError::Refused { refusal, .. }) if refusal.kind() == RefusalKind::NoSuchEntry => {
            session.mkdir(dir).await
        }
        Err(error) => Err(error),
    }
}

/// The directories that hold `path`, from the top down (`a`, `a/b` for `a/b/c`).
fn ancestors(path: &RemotePath) -> Vec<RemotePath> {
    let mut found: Vec<RemotePath> =
        std::iter::successors(path.parent(), RemotePath::parent).collect();
    found.reverse();
    found
}

/// `parent/name`, or `name` in the home.
fn child(parent: Option<&RemotePath>, name: &Name) -> Result<RemotePath, ClientError> {
    match parent {
        None => Ok(RemotePath::from(name.clone())),
        Some(parent) => parent
            .join(name)
            .map_err(|error| ClientError::invalid_name(&format!("{parent}/{name}"), error)),
    }
}

/// Passes a file's progress on to the tree's, whose total was set once.
struct Share<'a>(&'a mut dyn TransferProgress);

impl TransferProgress for Share<'_> {
    fn advance(&mut self, bytes: u64) {
        self.0.advance(bytes);
    }

    fn resumed(&mut self, kept: u64) {
        self.0.resumed(kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_come_from_the_top_down() {
        let path = |text: &str| RemotePath::new(text).unwrap();
        assert_eq!(ancestors(&path("a/b/c")), [path("a"), path("a/b")]);
        assert!(ancestors(&path("a")).is_empty());
        let name = Name::new("n").unwrap();
        assert_eq!(child(None, &name).unwrap(), path("n"));
        assert_eq!(child(Some(&path("a/b")), &name).unwrap(), path("a/b/n"));
    }
}
