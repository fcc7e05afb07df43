//! Sending a file's bytes straight from the page cache to a TCP socket with
//! `sendfile(2)`: the Ferry protocol's `RETRIEVE`/`READ` (cmd/retrieve.rs)
//! and the FTP door's plain `RETR` (ftp/storage.rs) both send this way, so
//! a download costs no copy through user space.

use crate::ServerError;
use rustix::io::Errno;
use std::io;
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Most bytes asked of one `sendfile` call; the socket's send buffer
/// limits what a non-blocking call really moves anyway.
const MAX_PER_CALL: usize = 16 * 1024 * 1024;

/// How [`send`] ended when it did not fail.
pub(crate) enum Outcome {
    /// All bytes were sent.
    Done,
    /// The file cannot be sent this way; nothing was sent.
    Unsupported,
}

/// Asks for generous read-ahead of `file` from `offset`: it is read front
/// to back, and a file that is not in the page cache then stalls the sender
/// less. Only a hint.
pub(crate) fn read_ahead(file: &std::fs::File, offset: u64) {
    let _ = rustix::fs::fadvise(file, offset, None, rustix::fs::Advice::Sequential);
}

/// Sends `len` bytes of `file` from `start` to the non-blocking `socket`,
/// waiting for it to become writable between calls, at most `idle` each
/// time (`None`: no limit). `sent` counts the bytes sent, also when it
/// fails part way.
pub(crate) async fn send(
    socket: &TcpStream,
    file: &std::fs::File,
    start: u64,
    len: u64,
    idle: Option<Duration>,
    sent: &mut u64,
) -> Result<Outcome, ServerError> {
    let mut offset = start;
    let end = start + len;
    while offset < end {
        let count =
            usize::try_from(end - offset).map_or(MAX_PER_CALL, |left| left.min(MAX_PER_CALL));
        within(idle, socket.writable()).await?;
        let before = offset;
        let result = socket.try_io(Interest::WRITABLE, || {
            rustix::fs::sendfile(socket, file, Some(&mut offset), count).map_err(io::Error::from)
        });
        match result {
            Ok(0) => {
                return Err(ServerError::TransferAborted(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while being sent",
                )))
            }
            Ok(n) => {
                debug_assert_eq!(offset, before + n as u64);
                *sent += n as u64;
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error)
                if offset == start
                    && matches!(
                        error.raw_os_error().map(Errno::from_raw_os_error),
                        Some(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP)
                    ) =>
            {
                return Ok(Outcome::Unsupported)
            }
            Err(error) => return Err(ServerError::TransferAborted(error)),
        }
    }
    Ok(Outcome::Done)
}

/// Runs `io` but gives up with [`ServerError::IdleTimeout`] if it makes no
/// progress for `idle`.
async fn within<T>(
    idle: Option<Duration>,
    io: impl std::future::Future<Output = io::Result<T>>,
) -> Result<T, ServerError> {
    match idle {
        None => io.await.map_err(ServerError::Peer),
        Some(limit) => match tokio::time::timeout(limit, io).await {
            Ok(result) => result.map_err(ServerError::Peer),
            Err(_) => Err(ServerError::IdleTimeout),
        },
    }
}
