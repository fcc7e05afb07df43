//! Whole-file transfers between local files and a [`Session`]: downloads
//! land in a temporary file that is renamed into place only on success (or,
//! kept for continuing, in the hidden part file of [`crate::partial`]), and
//! `--verify` compares SHA-256 digests computed while the bytes stream by.

use crate::hashing::{HashingReader, HashingWriter};
use crate::partial;
use crate::session::{Session, TransferProgress};
use crate::transport::Transport;
use crate::ClientError;
use ferry_proto::{Name, Path as RemotePath, RefusalKind};
use std::io;
use std::path::{Path, PathBuf};
use tokio::io::BufWriter;

/// Buffer between the network and the temporary file of a download.
const DOWNLOAD_BUFFER: usize = 256 * 1024;
/// Prefix and suffix of the temporary file of a download (a hidden file in
/// the destination directory, so the final rename never crosses file systems).
const TEMP_PREFIX: &str = ".ferry-";
const TEMP_SUFFIX: &str = ".part";

/// Where a download goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A local file path (already resolved, see [`download_path`]).
    File(PathBuf),
    /// Standard output (nothing can be taken back there if the transfer fails).
    Stdout,
}

/// How a download treats an existing local file and a cut-off transfer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadOptions {
    /// Replace an existing local file (otherwise it is never replaced, even
    /// one that appears during the transfer).
    pub overwrite: bool,
    /// Compare the bytes with the server's `HASH` before saving them.
    pub verify: bool,
    /// What happens to the bytes that arrived when the transfer is cut off.
    pub partial: Partial,
}

/// What a download does with the bytes of a transfer that was cut off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Partial {
    /// Remove them: nothing partial is left behind.
    #[default]
    Discard,
    /// Keep them in a hidden part file beside the target, and continue a
    /// part file found there with `READ` from its length.
    Keep,
}

/// How an upload starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UploadMode {
    /// `STORE`: the whole file.
    #[default]
    Store,
    /// `RESUME`: the server says how much of a cut-off upload it kept, and
    /// only the rest is sent.
    Resume,
}

/// How an upload is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadOptions {
    /// Compare the bytes with the server's `HASH` afterwards.
    pub verify: bool,
    /// STORE or RESUME.
    pub mode: UploadMode,
}

/// The outcome of a successful download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// Bytes received.
    pub bytes: u64,
    /// Where they were saved (`None` for standard output).
    pub path: Option<PathBuf>,
    /// The SHA-256 of the bytes received, lowercase hex.
    pub sha256: String,
    /// Whether the server's `HASH` confirmed the digest.
    pub verified: bool,
    /// Bytes that were already in a kept part file (0 for a fresh download).
    pub continued_from: u64,
}

/// The outcome of a successful upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// Bytes sent.
    pub bytes: u64,
    /// The path on the server.
    pub path: RemotePath,
    /// The SHA-256 of the whole file, lowercase hex.
    pub sha256: String,
    /// Whether the server's `HASH` confirmed the digest.
    pub verified: bool,
    /// Bytes the server had kept from a cut-off upload (RESUME), not sent again.
    pub kept: u64,
}

/// The local path a download of `remote` goes to: `output` if given (or
/// `output/<last name>` when `output` is an existing directory), else its
/// last name in the current directory.
pub fn download_path(remote: &RemotePath, output: Option<&Path>) -> PathBuf {
    let name = remote.last_name();
    match output {
        Some(dir) if dir.is_dir() => dir.join(name.as_str()),
        Some(path) => path.to_owned(),
        None => PathBuf::from(name.as_str()),
    }
}

/// The name an upload of `path` gets on the server: its base name.
pub fn upload_name(path: &Path) -> Result<Name, ClientError> {
    let shown = path.display().to_string();
    let base = path.file_name().ok_or_else(|| ClientError::InvalidName {
        name: shown.clone(),
        reason: "the path has no file name; give one with --as".to_owned(),
    })?;
    let base = base.to_str().ok_or_else(|| ClientError::InvalidName {
        name: shown,
        reason: "the file name is not UTF-8; give one with --as".to_owned(),
    })?;
    Name::new(base).map_err(|error| ClientError::invalid_name(base, error))
}

/// Downloads `remote` to `destination`.
///
/// For a file, the bytes go to a temporary file in the same directory, which
/// is renamed to the destination only after the server's `226` (and, with
/// `verify`, a matching `HASH`); on any failure it is removed, so no partial
/// file is ever left, unless [`Partial::Keep`] keeps it out of sight to be
/// continued. Unless `overwrite` is set an existing file is never replaced,
/// even one that appears during the transfer.
pub async fn download<T: Transport>(
    session: &mut Session<T>,
    remote: &RemotePath,
    destination: &Destination,
    options: &DownloadOptions,
    progress: &mut dyn TransferProgress,
) -> Result<Downloaded, ClientError> {
    let verify = options.verify;
    let path = match destination {
        Destination::Stdout => return download_to_stdout(session, remote, verify, progress).await,
        Destination::File(path) => path,
    };
    if !options.overwrite && path.symlink_metadata().is_ok() {
        return Err(ClientError::LocalExists { path: path.clone() });
    }
    // What is there decides how to write. A device or pipe (say /dev/null)
    // is written to directly: a rename would replace it, and it cannot hold
    // a partial file anyway. A symbolic link is followed, so the file it
    // points to is replaced and the link stays.
    let target = match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            let source = io::Error::new(io::ErrorKind::IsADirectory, "it is a directory");
            return Err(ClientError::Local {
                action: "replace",
                path: path.clone(),
                source,
            });
        }
        Ok(metadata) if !metadata.is_file() => {
            return download_to_special_file(session, remote, path, verify, progress).await;
        }
        Ok(_) => std::fs::canonicalize(path).map_err(|source| ClientError::Local {
            action: "resolve",
            path: path.clone(),
            source,
        })?,
        Err(_) => path.clone(),
    };
    if options.partial == Partial::Keep {
        match partial::download(session, remote, &target, options, progress).await {
            // A version 1 server knows neither STAT nor READ: a whole RETRIEVE then.
            Err(ClientError::Refused { refusal, .. })
                if refusal.kind() == RefusalKind::UnknownCommand => {}
            saved => {
                return saved.map(|saved| Downloaded {
                    path: Some(path.clone()),
                    ..saved
                })
            }
        }
    }
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // An ordinary new file: 0666 less the umask, not tempfile's 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let temp = builder
        .tempfile_in(dir)
        .map_err(|source| ClientError::Local {
            action: "create a temporary file in",
            path: dir.to_owned(),
            source,
        })?;
    // Dropping `temp_path` (on any early return) deletes the temporary file.
    let (file, temp_path) = temp.into_parts();
    let local_error = |action, source| ClientError::Local {
        action,
        path: temp_path.to_path_buf(),
        source,
    };
    let mut sink = HashingWriter::new(BufWriter::with_capacity(
        DOWNLOAD_BUFFER,
        tokio::fs::File::from_std(file),
    ));
    let bytes = session
        .retrieve(remote, &mut sink, progress)
        .await
        .map_err(|error| match error {
            ClientError::Output { source } => local_error("write", source),
            other => other,
        })?;
    let (file, sha256) = sink.finish();
    let file = file.into_inner();
    file.sync_all()
        .await
        .map_err(|source| local_error("write", source))?;
    drop(file);
    let verified = verify_with_server(session, remote, &sha256, verify).await?;
    save(temp_path, &target, path, options.overwrite)?;
    Ok(Downloaded {
        bytes,
        path: Some(path.clone()),
        sha256,
        verified,
        continued_from: 0,
    })
}

/// Renames a complete download into place; `shown` is the destination as
/// the user named it (`target` may be where its link points).
pub(crate) fn save(
    temp_path: tempfile::TempPath,
    target: &Path,
    shown: &Path,
    overwrite: bool,
) -> Result<(), ClientError> {
    let persisted = if overwrite {
        temp_path.persist(target)
    } else {
        temp_path.persist_noclobber(target)
    };
    persisted.map_err(|error| {
        if error.error.kind() == io::ErrorKind::AlreadyExists {
            ClientError::LocalExists {
                path: shown.to_owned(),
            }
        } else {
            ClientError::Local {
                action: "save",
                path: shown.to_owned(),
                source: error.error,
            }
        }
    })
}

/// Writes a download straight into an existing device or pipe.
async fn download_to_special_file<T: Transport>(
    session: &mut Session<T>,
    remote: &RemotePath,
    path: &Path,
    verify: bool,
    progress: &mut dyn TransferProgress,
) -> Result<Downloaded, ClientError> {
    let local_error = |source| ClientError::Local {
        action: "write",
        path: path.to_owned(),
        source,
    };
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .await
        .map_err(local_error)?;
    let mut sink = HashingWriter::new(BufWriter::with_capacity(DOWNLOAD_BUFFER, file));
    let bytes = session
        .retrieve(remote, &mut sink, progress)
        .await
        .map_err(|error| match error {
            ClientError::Output { source } => local_error(source),
            other => other,
        })?;
    let (_, sha256) = sink.finish();
    let verified = verify_with_server(session, remote, &sha256, verify).await?;
    Ok(Downloaded {
        bytes,
        path: Some(path.to_owned()),
        sha256,
        verified,
        continued_from: 0,
    })
}

/// Writes a download to standard output (nothing to take back on failure).
async fn download_to_stdout<T: Transport>(
    session: &mut Session<T>,
    remote: &RemotePath,
    verify: bool,
    progress: &mut dyn TransferProgress,
) -> Result<Downloaded, ClientError> {
    let mut sink = HashingWriter::new(tokio::io::stdout());
    let bytes = session.retrieve(remote, &mut sink, progress).await?;
    let (_, sha256) = sink.finish();
    let verified = verify_with_server(session, remote, &sha256, verify).await?;
    Ok(Downloaded {
        bytes,
        path: None,
        sha256,
        verified,
        continued_from: 0,
    })
}

/// Uploads the local file at `path` as `remote`.
///
/// The size is taken when the file is opened; if the file then shrinks the
/// upload is abandoned (the server keeps no trace of it, or, for a server
/// that keeps cut-off uploads, only bytes that were really the file's).
pub async fn upload<T: Transport>(
    session: &mut Session<T>,
    path: &Path,
    remote: &RemotePath,
    options: &UploadOptions,
    progress: &mut dyn TransferProgress,
) -> Result<Uploaded, ClientError> {
    let local_error = |action, source| ClientError::Local {
        action,
        path: path.to_owned(),
        source,
    };
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|source| local_error("open", source))?;
    let metadata = file
        .metadata()
        .await
        .map_err(|source| local_error("read", source))?;
    if !metadata.is_file() {
        let source = io::Error::new(io::ErrorKind::InvalidInput, "it is not a regular file");
        return Err(local_error("upload", source));
    }
    let size = metadata.len();
    let mut source = HashingReader::new(file);
    let sent = match options.mode {
        UploadMode::Store => session
            .store(remote, size, &mut source, progress)
            .await
            .map(|()| 0),
        UploadMode::Resume => match session.resume(remote, size, &mut source, progress).await {
            // A version 1 server has no RESUME; nothing was read or sent yet.
            Err(ClientError::Refused { refusal, .. })
                if refusal.kind() == RefusalKind::UnknownCommand =>
            {
                session
                    .store(remote, size, &mut source, progress)
                    .await
                    .map(|()| 0)
            }
            resumed => resumed,
        },
    };
    let kept = sent.map_err(|error| match error {
        ClientError::Input { source } => local_error("read", source),
        ClientError::ShortInput { expected, actual } => ClientError::SourceChanged {
            path: path.to_owned(),
            expected,
            actual,
        },
        other => other,
    })?;
    let sha256 = source.finish();
    let verified = verify_with_server(session, remote, &sha256, options.verify).await?;
    Ok(Uploaded {
        bytes: size,
        path: remote.clone(),
        sha256,
        verified,
        kept,
    })
}

/// With `verify`, asks the server for the file's SHA-256 and compares.
pub(crate) async fn verify_with_server<T: Transport>(
    session: &mut Session<T>,
    remote: &RemotePath,
    local: &str,
    verify: bool,
) -> Result<bool, ClientError> {
    if !verify {
        return Ok(false);
    }
    let digest = session.hash(remote).await?;
    if digest != local {
        return Err(ClientError::HashMismatch {
            name: remote.to_string(),
            local: local.to_owned(),
            remote: digest,
        });
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn paths_and_names() {
        let name = RemotePath::new("dir/a b.txt").unwrap();
        assert_eq!(download_path(&name, None), PathBuf::from("a b.txt"));
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            download_path(&name, Some(dir.path())),
            dir.path().join("a b.txt")
        );
        let file = dir.path().join("out.bin");
        assert_eq!(download_path(&name, Some(&file)), file);
        assert_eq!(
            upload_name(Path::new("/tmp/x/名前.txt")).unwrap().as_str(),
            "名前.txt"
        );
        assert!(upload_name(Path::new("/")).is_err());
        assert!(upload_name(Path::new("..")).is_err());
    }
}
