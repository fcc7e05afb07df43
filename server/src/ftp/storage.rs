//! libunftp's storage back-end over ferry-server's own storage: every path
//! goes through [`super::paths`] (working directory, `..`, the home, §3.1
//! names) and then [`Store`], the calls the Ferry protocol's commands make,
//! on the local file system (resolved beneath the root without following
//! any link) or on the object store alike, the staging area out of reach
//! on both; uploads go through [`super::upload`]. Read-only identities get
//! `550` from every change, after a bad path's `553` (§3's order).
//!
//! The one difference is RETR's: a local file goes to a plain data
//! connection with `sendfile(2)` (vendor patch 9), or through buffers read
//! ahead on a blocking thread; an object is one ranged GET (from REST's
//! offset) streamed to the data connection.

use super::paths::{resolve, resolve_entry};
use super::upload;
use super::{Door, FtpUser};
use crate::storage::{ObjectFile, ObjectRange, Opened, Store};
use crate::ServerError;
use async_trait::async_trait;
use ferry_proto::{EntryKind, Path, Status};
use std::fmt::Debug;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use unftp_core::storage::{self as unftp, Fileinfo, Metadata, Permissions, StorageBackend};

/// Bytes read from a file and written to the data connection at a time.
const CHUNK_LEN: usize = 256 * 1024;
/// Chunks read ahead of the data connection (bounds a download's memory).
const CHUNKS_AHEAD: usize = 4;

/// One session's view of the storage.
#[derive(Debug)]
pub(crate) struct FtpStorage {
    door: Arc<Door>,
}

impl FtpStorage {
    pub(crate) fn new(door: Arc<Door>) -> FtpStorage {
        FtpStorage { door }
    }

    fn store(&self) -> &Store {
        &self.door.shared.storage
    }
}

/// What LIST, MLSD, SIZE and MDTM say of an entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    size: Option<u64>,
    modified: u64,
}

impl Meta {
    fn of(status: Status) -> Meta {
        Meta::new(status.kind, status.modified)
    }

    fn new(kind: EntryKind, modified: u64) -> Meta {
        let size = match kind {
            EntryKind::File { size } => Some(size),
            EntryKind::Directory => None,
        };
        Meta { size, modified }
    }
}

impl Metadata for Meta {
    fn len(&self) -> u64 {
        self.size.unwrap_or(0)
    }
    fn is_dir(&self) -> bool {
        self.size.is_none()
    }
    fn is_file(&self) -> bool {
        self.size.is_some()
    }
    fn is_symlink(&self) -> bool {
        false
    }
    fn modified(&self) -> unftp::Result<SystemTime> {
        Ok(SystemTime::UNIX_EPOCH + Duration::from_secs(self.modified))
    }
    fn gid(&self) -> u32 {
        0
    }
    fn uid(&self) -> u32 {
        0
    }
    fn permissions(&self) -> Permissions {
        Permissions(if self.is_dir() { 0o755 } else { 0o644 })
    }
}

/// A [`ServerError`] as libunftp's storage error, with its reply code.
fn ftp_error(error: ServerError) -> unftp::Error {
    unftp::Error::new(error.ftp_kind(), error)
}

#[async_trait]
impl StorageBackend<FtpUser> for FtpStorage {
    type Metadata = Meta;

    fn name(&self) -> &str {
        "ferry"
    }

    fn supported_features(&self) -> u32 {
        unftp::FEATURE_RESTART
    }

    async fn metadata<P: AsRef<std::path::Path> + Send + Debug>(
        &self,
        user: &FtpUser,
        path: P,
    ) -> unftp::Result<Meta> {
        let target = resolve(&user.identity, path.as_ref()).map_err(ftp_error)?;
        let status = match target {
            Some(path) => self.store().stat(path).await,
            None => self.store().top_status().await,
        };
        status.map(Meta::of).map_err(ftp_error)
    }

    async fn list<P: AsRef<std::path::Path> + Send + Debug>(
        &self,
        user: &FtpUser,
        path: P,
    ) -> unftp::Result<Vec<Fileinfo<PathBuf, Meta>>> {
        let dir = resolve(&user.identity, path.as_ref()).map_err(ftp_error)?;
        let mut entries = self.store().list(dir).await.map_err(ftp_error)?;
        entries.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        Ok(entries
            .into_iter()
            .map(|entry| Fileinfo {
                path: PathBuf::from(entry.name.as_str()),
                metadata: Meta::new(entry.kind, entry.modified),
            })
            .collect())
    }

    async fn get_into<'a, P, W>(
        &self,
        user: &FtpUser,
        path: P,
        start_pos: u64,
        output: &'a mut W,
    ) -> unftp::Result<u64>
    where
        W: AsyncWrite + Unpin + Sync + Send + ?Sized,
        P: AsRef<std::path::Path> + Send + Debug,
    {
        let (opened, offset) = self.open(user, path.as_ref(), start_pos).await?;
        let len = opened.len() - offset;
        let _transfer = self.door.transfer();
        let idle = self.door.shared.config.idle_timeout;
        let file = match opened {
            Opened::Local(opened) => opened.file,
            Opened::Object(file) => {
                return send_object_to(&file, offset, len, output, idle)
                    .await
                    .map_err(ftp_error)
            }
        };
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(socket) = libunftp::data_socket::take_plain_retr_socket() {
            if let Some(sent) = send_plain(socket, &file, offset, len, idle)
                .await
                .map_err(ftp_error)?
            {
                return Ok(sent);
            }
        }
        send(file, offset, output, idle).await.map_err(ftp_error)
    }

    async fn get<P: AsRef<std::path::Path> + Send + Debug>(
        &self,
        user: &FtpUser,
        path: P,
        start_pos: u64,
    ) -> unftp::Result<Box<dyn AsyncRead + Send + Sync + Unpin>> {
        // libunftp reads through `get_into` only (its exec_retr); this
        // stays for the trait, on the local file system.
        match self.open(user, path.as_ref(), start_pos).await? {
            (Opened::Local(opened), offset) => {
                let mut file = opened.file;
                file.seek(SeekFrom::Start(offset))
                    .map_err(|error| ftp_error(ServerError::Storage(error)))?;
                Ok(Box::new(tokio::fs::File::from_std(file)))
            }
            (Opened::Object(_), _) => Err(unftp::ErrorKind::CommandNotImplemented.into()),
        }
    }

    async fn put<P, R>(
        &self,
        user: &FtpUser,
        input: R,
        path: P,
        start_pos: u64,
    ) -> unftp::Result<u64>
    where
        P: AsRef<std::path::Path> + Send + Debug,
        R: AsyncRead + Send + Sync + Unpin + 'static,
    {
        let identity = &user.identity;
        let target = resolve_entry(identity, path.as_ref()).map_err(ftp_error)?;
        identity.check_writable().map_err(ftp_error)?;
        if start_pos > 0 {
            // A restarted upload would append to the file in place.
            return Err(unftp::ErrorKind::CommandNotImplemented.into());
        }
        let _transfer = self.door.transfer();
        let shared = &self.door.shared;
        upload::store(shared, &self.door.control, identity, target, input)
            .await
            .map_err(ftp_error)
    }

    async fn del<P: AsRef<std::path::Path> + Send + Debug>(
        &self,
        user: &FtpUser,
        path: P,
    ) -> unftp::Result<()> {
        let target = self.writable_entry(user, path.as_ref())?;
        self.store().delete(target).await.map_err(ftp_error)
    }

    async fn mkd<P: AsRef<std::path::Path> + Send + Debug>(
        &self,
        user: &FtpUser,
        path: P,
    ) -> unftp::Result<()> {
        let target = self.writable_entry(user, path.as_ref())?;
        self.store().mkdir(target).await.map_err(ftp_error)
    }

    async fn rename<P: AsRef<std::path::Path> + Send + Debug>(
        &self,
        user: &FtpUser,
        from: P,
        to: P,
    ) -> unftp::Result<()> {
        let from = resolve_entry(&user.identity, from.as_ref()).map_err(ftp_error)?;
        let to = self.writable_entry(user, to.as_ref())?;
        self.store().rename(from, to).await.map_err(ftp_error)
    }

    async fn rmd<P: AsRef<std::path::Path> + Send + Debug>(
        &self,
        user: &FtpUser,
        path: P,
    ) -> unftp::Result<()> {
        let target = self.writable_entry(user, path.as_ref())?;
        self.store().rmdir(target).await.map_err(ftp_error)
    }

    async fn cwd<P: AsRef<std::path::Path> + Send + Debug>(
        &self,
        user: &FtpUser,
        path: P,
    ) -> unftp::Result<()> {
        let meta = self.metadata(user, path).await?;
        if meta.is_dir() {
            Ok(())
        } else {
            Err(ftp_error(ServerError::Unavailable("Not a directory")))
        }
    }
}

impl FtpStorage {
    /// The entry `path` names, for a change: `553` for a bad path, then
    /// `550` for a read-only identity.
    fn writable_entry(&self, user: &FtpUser, path: &std::path::Path) -> unftp::Result<Path> {
        let target = resolve_entry(&user.identity, path).map_err(ftp_error)?;
        user.identity.check_writable().map_err(ftp_error)?;
        Ok(target)
    }

    /// The regular file `path` names, opened (or, on the store, looked
    /// at), and where to start: `start_pos`, at most its end.
    async fn open(
        &self,
        user: &FtpUser,
        path: &std::path::Path,
        start_pos: u64,
    ) -> unftp::Result<(Opened, u64)> {
        let target = resolve_entry(&user.identity, path).map_err(ftp_error)?;
        let opened = self.store().open_file(target).await.map_err(ftp_error)?;
        let offset = start_pos.min(opened.len());
        Ok((opened, offset))
    }
}

/// Sends `len` bytes of `file` from `offset` with `sendfile(2)` to `socket`,
/// the plain data connection libunftp offers (vendor patch 9); `None` when
/// the file cannot be sent that way (nothing was sent: the caller copies).
/// Stops, as [`send`] does, when the client takes nothing for the idle
/// timeout; a dropped transfer (`ABOR`) closes this duplicate of the socket
/// and libunftp the connection.
#[cfg(any(target_os = "linux", target_os = "android"))]
async fn send_plain(
    socket: std::os::fd::OwnedFd,
    file: &std::fs::File,
    offset: u64,
    len: u64,
    idle: Duration,
) -> Result<Option<u64>, ServerError> {
    let socket = tokio::net::TcpStream::from_std(std::net::TcpStream::from(socket))
        .map_err(ServerError::Peer)?;
    crate::sendfile::read_ahead(file, offset);
    let idle = (!idle.is_zero()).then_some(idle);
    let mut sent = 0;
    match crate::sendfile::send(&socket, file, offset, len, idle, &mut sent).await? {
        crate::sendfile::Outcome::Done => Ok(Some(sent)),
        crate::sendfile::Outcome::Unsupported => Ok(None),
    }
}

/// Copies `file` from `offset` to `output`: a blocking thread reads
/// chunks ahead while the last one is written, through buffers that go
/// back and forth (never more than [`CHUNKS_AHEAD`] of them). A client
/// that takes nothing for the idle timeout ends the transfer.
async fn send<W>(
    mut file: std::fs::File,
    offset: u64,
    output: &mut W,
    idle: Duration,
) -> Result<u64, ServerError>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    let (full_tx, mut full_rx) =
        tokio::sync::mpsc::channel::<std::io::Result<(Vec<u8>, usize)>>(CHUNKS_AHEAD);
    let (empty_tx, mut empty_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(CHUNKS_AHEAD);
    for _ in 0..CHUNKS_AHEAD {
        let _ = empty_tx.try_send(vec![0; CHUNK_LEN]);
    }
    let reader = tokio::task::spawn_blocking(move || {
        if let Err(error) = file.seek(SeekFrom::Start(offset)) {
            let _ = full_tx.blocking_send(Err(error));
            return;
        }
        while let Some(mut buffer) = empty_rx.blocking_recv() {
            let read = file.read(&mut buffer);
            let end = matches!(read, Ok(0) | Err(_));
            if full_tx.blocking_send(read.map(|n| (buffer, n))).is_err() || end {
                return;
            }
        }
    });
    let mut sent = 0u64;
    let outcome = loop {
        match full_rx.recv().await {
            None | Some(Ok((_, 0))) => break Ok(()),
            Some(Err(error)) => break Err(ServerError::from_storage(error)),
            Some(Ok((buffer, n))) => {
                match upload::within_idle(idle, output.write_all(&buffer[..n])).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => break Err(ServerError::Peer(error)),
                    Err(stalled) => break Err(stalled),
                }
                sent += n as u64;
                let _ = empty_tx.send(buffer).await;
            }
        }
    };
    drop(full_rx);
    drop(empty_tx);
    let _ = reader.await;
    outcome?;
    output.flush().await.map_err(ServerError::Peer)?;
    Ok(sent)
}

/// Streams `len` bytes of the object from `offset` to `output`; a client
/// that takes nothing for the idle timeout ends it.
async fn send_object_to<W>(
    file: &ObjectFile,
    offset: u64,
    len: u64,
    output: &mut W,
    idle: Duration,
) -> Result<u64, ServerError>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut range = ObjectRange::open(file, offset, len).await?;
    while let Some(chunk) = range.next().await? {
        upload::within_idle(idle, output.write_all(&chunk))
            .await?
            .map_err(ServerError::Peer)?;
    }
    output.flush().await.map_err(ServerError::Peer)?;
    Ok(len)
}
