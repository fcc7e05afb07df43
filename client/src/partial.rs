//! Downloads that survive a cut: the bytes go to a hidden part file beside
//! the target (`.<name>.part`), which stays when the connection is lost and
//! is continued with `READ` from its length the next time.
//!
//! The contract lets a client keep a partial file only out of sight
//! (docs/PROTOCOL.md §3.4), so the target itself appears only once every
//! byte is there: the part's length must equal the size `STAT` gave before
//! and after the transfer (and, with `--verify`, the SHA-256 the server's
//! `HASH`), and only then is the part renamed into place.
//!
//! A part is continued only if it can still be a prefix of the server's
//! file: not longer than it, and not older than the file's last change (a
//! cut stamps the part with the file's time; a file replaced since then is
//! newer, and the part is started over).

use crate::hashing::HashingWriter;
use crate::session::{Session, TransferProgress};
use crate::transfer::{save, verify_with_server, DownloadOptions, Downloaded};
use crate::transport::Transport;
use crate::ClientError;
use ferry_proto::{EntryKind, Path as RemotePath, Status, Verb};
use sha2::{Digest, Sha256};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};
use tokio::io::{AsyncWriteExt, BufWriter};

/// Buffer between the network and the part file.
const PART_BUFFER: usize = 256 * 1024;

/// The hidden part file of a download to `target`: `.<name>.part` beside it.
pub fn part_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.part"))
}

/// Downloads `remote` to `target` through its part file (see the module
/// comment). On a cut the part stays and [`ClientError::DownloadCut`] says
/// where; on a refusal, or a file that changed meanwhile, it is removed.
pub(crate) async fn download<T: Transport>(
    session: &mut Session<T>,
    remote: &RemotePath,
    target: &Path,
    options: &DownloadOptions,
    progress: &mut dyn TransferProgress,
) -> Result<Downloaded, ClientError> {
    let before = session.stat(remote).await.map_err(as_read)?;
    let EntryKind::File { size } = before.kind else {
        return Err(ClientError::RemoteIsDirectory {
            path: remote.to_string(),
        });
    };
    let part = part_path(target);
    let local_error = |action, source| ClientError::Local {
        action,
        path: part.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&part)
        .map_err(|source| local_error("open", source))?;
    let have = usable_prefix(&file, size, before.modified)
        .map_err(|source| local_error("read", source))?;
    file.set_len(have)
        .map_err(|source| local_error("write", source))?;
    let hasher = hash_prefix(&mut file, have).map_err(|source| local_error("read", source))?;
    file.seek(SeekFrom::Start(have))
        .map_err(|source| local_error("write", source))?;
    let mut sink = HashingWriter::continuing(
        BufWriter::with_capacity(PART_BUFFER, tokio::fs::File::from_std(file)),
        hasher,
    );
    let mut offset = Offset {
        inner: progress,
        kept: have,
    };
    let read = session
        .read(remote, have, size - have, &mut sink, &mut offset)
        .await;
    // Whatever arrived is kept on disk before anything else is decided.
    let flushed = sink.flush().await;
    let (file, sha256) = sink.finish();
    let file = file.into_inner();
    let synced = file.sync_all().await;
    let file = file.into_std().await;
    let on_disk = file.metadata().map(|m| m.len()).unwrap_or(have);
    let error = match (read, flushed.and(synced)) {
        (Ok(_), Ok(())) => None,
        (Ok(_), Err(source)) => Some(local_error("write", source)),
        (Err(ClientError::Output { source }), _) => Some(local_error("write", source)),
        (Err(error), _) => Some(error),
    };
    if let Some(error) = error {
        if matches!(error, ClientError::Refused { .. }) {
            drop(file);
            let _ = std::fs::remove_file(&part);
            return Err(error);
        }
        return Err(keep_cut(&file, &part, remote, &before, size, &error));
    }
    // The second STAT vouches that the bytes are all of the same file.
    match session.stat(remote).await {
        Ok(after) if on_disk == size && after == before => drop(file),
        Err(error) if error.is_cut() => {
            return Err(keep_cut(&file, &part, remote, &before, size, &error));
        }
        Ok(_) | Err(_) => {
            drop(file);
            let _ = std::fs::remove_file(&part);
            return Err(ClientError::RemoteChanged {
                name: remote.to_string(),
            });
        }
    }
    let verified = match verify_with_server(session, remote, &sha256, options.verify).await {
        Ok(verified) => verified,
        Err(error) => {
            if matches!(error, ClientError::HashMismatch { .. }) {
                let _ = std::fs::remove_file(&part);
            }
            return Err(error);
        }
    };
    let part_file =
        tempfile::TempPath::try_from_path(&part).map_err(|source| local_error("save", source))?;
    save(part_file, target, target, options.overwrite)?;
    Ok(Downloaded {
        bytes: size,
        path: Some(target.to_owned()),
        sha256,
        verified,
        continued_from: have,
    })
}

/// Leaves the part for the next `--continue`, stamped with the time of the
/// file it is a prefix of, and says so.
fn keep_cut(
    file: &std::fs::File,
    part: &Path,
    remote: &RemotePath,
    before: &Status,
    size: u64,
    cause: &ClientError,
) -> ClientError {
    let _ = file.set_modified(UNIX_EPOCH + Duration::from_secs(before.modified));
    ClientError::DownloadCut {
        name: remote.to_string(),
        part: part.to_owned(),
        have: file.metadata().map_or(0, |metadata| metadata.len()),
        size,
        cause: cause.to_string(),
    }
}

/// A refused `STAT` made for a download, in the words of the download: a
/// `550` there means no such file, as it would to READ.
fn as_read(error: ClientError) -> ClientError {
    match error {
        ClientError::Refused {
            mut refusal,
            subject,
        } => {
            refusal.verb = Verb::Read;
            ClientError::Refused { refusal, subject }
        }
        other => other,
    }
}

/// How many bytes of an existing part can be kept for a file of `size`
/// bytes last changed at `modified` (0: start over).
fn usable_prefix(file: &std::fs::File, size: u64, modified: u64) -> io::Result<u64> {
    let metadata = file.metadata()?;
    let stamped = metadata
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    if metadata.len() > size || stamped < modified {
        return Ok(0);
    }
    Ok(metadata.len())
}

/// The SHA-256 state after the first `len` bytes of `file`.
fn hash_prefix(file: &mut std::fs::File, len: u64) -> io::Result<Sha256> {
    let mut hasher = Sha256::new();
    file.seek(SeekFrom::Start(0))?;
    let copied = io::copy(&mut file.take(len), &mut hasher)?;
    if copied < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the part file shrank while it was read",
        ));
    }
    Ok(hasher)
}

/// Shows a continued download as the whole file with its kept part done.
struct Offset<'a> {
    inner: &'a mut dyn TransferProgress,
    kept: u64,
}

impl TransferProgress for Offset<'_> {
    fn start(&mut self, total: u64) {
        self.inner.start(self.kept + total);
        if self.kept > 0 {
            self.inner.resumed(self.kept);
        }
    }

    fn advance(&mut self, bytes: u64) {
        self.inner.advance(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn stamp(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn the_part_is_hidden_beside_the_target() {
        assert_eq!(
            part_path(Path::new("/tmp/x/a b.bin")),
            PathBuf::from("/tmp/x/.a b.bin.part")
        );
        assert_eq!(part_path(Path::new("f")), PathBuf::from(".f.part"));
    }

    #[test]
    fn a_part_is_kept_only_if_it_can_be_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".f.part");
        std::fs::write(&path, b"12345").unwrap();
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        file.set_modified(stamp(1_000)).unwrap();
        assert_eq!(usable_prefix(&file, 9, 1_000).unwrap(), 5);
        assert_eq!(usable_prefix(&file, 9, 999).unwrap(), 5);
        assert_eq!(
            usable_prefix(&file, 4, 1_000).unwrap(),
            0,
            "longer than the file"
        );
        assert_eq!(
            usable_prefix(&file, 9, 1_001).unwrap(),
            0,
            "the file changed since"
        );
        let mut file = file;
        let hasher = hash_prefix(&mut file, 3).unwrap();
        assert_eq!(
            hex::encode(hasher.finalize()),
            hex::encode(Sha256::digest(b"123"))
        );
    }
}
