//! STOR (docs/PROTOCOL.md §6): the bytes go out of sight (a staged file
//! in the staging area, or the object store's writer of the final object:
//! `Store::begin_unsized`), and are made visible at the path only when
//! the data connection ended cleanly (an end of stream, not a reset or an
//! error) **and** the control connection is still open after that.
//!
//! Every other ending leaves nothing and the old file intact: an error or
//! a reset of the data connection fails the read; a client that died
//! ended its data connection with an ordinary FIN, but its control
//! connection too, which [`Control::is_open`] sees; `ABOR` (and the end of
//! the session, and a forced shutdown) drops this future, and with it the
//! upload, whose guard removes the staged file or aborts the writer. STOR
//! names no size, so the size limit and the quota are checked as the bytes
//! arrive: past either, `552` and nothing kept. Nothing of a cut-off FTP
//! upload is kept for a resume.

use super::control::Control;
use crate::quota;
use crate::session::Identity;
use crate::{ServerError, Shared};
use ferry_proto::Path;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Bytes read from the data connection and handed on at a time.
const CHUNK_LEN: usize = 256 * 1024;

/// Receives `input` into `path` (from the root) for `identity`, which may
/// write there (checked by the caller), and returns the bytes stored.
pub(crate) async fn store<R>(
    shared: &Shared,
    control: &Control,
    identity: &Identity,
    path: Path,
    mut input: R,
) -> Result<u64, ServerError>
where
    R: AsyncRead + Unpin,
{
    let owner = identity.owner().key().to_owned();
    let mut upload = shared.storage.begin_unsized(owner, path.clone()).await?;
    let received = async {
        let room = quota::room(shared, identity, &path).await?;
        let limit = shared.config.max_file_size;
        let mut buffer = vec![0; CHUNK_LEN];
        let mut received = 0u64;
        let idle = shared.config.idle_timeout;
        loop {
            let n = within_idle(idle, input.read(&mut buffer))
                .await?
                .map_err(ServerError::Peer)?;
            if n == 0 {
                break;
            }
            received = received.saturating_add(n as u64);
            if received > limit {
                return Err(ServerError::TooLarge {
                    size: received,
                    limit,
                });
            }
            if let Some(room) = room.filter(|room| received > *room) {
                let quota = identity.quota().unwrap_or_default();
                return Err(ServerError::OverQuota {
                    size: received,
                    usage: quota.saturating_sub(room),
                    quota,
                });
            }
            upload.write(&buffer[..n]).await?;
        }
        if !control.is_open().await {
            return Err(ServerError::Peer(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "the control connection ended with the upload",
            )));
        }
        Ok(received)
    }
    .await;
    match received {
        Ok(received) => {
            upload.commit(path).await?;
            Ok(received)
        }
        Err(error) => {
            upload.abort().await;
            Err(error)
        }
    }
}

/// `io`, unless the data connection stays silent for the idle timeout
/// (zero: no limit), which ends the transfer as for the Ferry protocol.
pub(crate) async fn within_idle<T>(
    idle: std::time::Duration,
    io: impl std::future::Future<Output = T>,
) -> Result<T, ServerError> {
    if idle.is_zero() {
        return Ok(io.await);
    }
    tokio::time::timeout(idle, io)
        .await
        .map_err(|_| ServerError::IdleTimeout)
}
