//! `STORE <size> <path>` (and `RESUME`, which keeps nothing yet): receives
//! an upload and makes it visible at once.
//!
//! Everything that can be refused is refused before `150` (read-only, size
//! limit, free space, a missing parent or a directory in the way), so the client sends no bytes
//! in vain. The bytes go to a temporary file (see [`crate::storage`]) that
//! is flushed to disk and renamed over the path only after the last byte;
//! `226` is sent only after that. If the client goes away first, the
//! temporary file is removed and an older file at that path is untouched.

use crate::connection::Connection;
use crate::quota;
use crate::session::Identity;
use crate::storage::{blocking, TempUpload};
use crate::{ServerError, Shared};
use ferry_proto::{codes, Path, Reply};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Bytes read from the socket and handed to the file at a time.
const CHUNK_LEN: usize = 256 * 1024;

/// How an upload starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// `STORE`: `150 Ready for <size> bytes`.
    Store,
    /// `RESUME` with nothing kept (this server keeps no partial uploads
    /// yet): `150 <size> bytes`, the client sends the whole file.
    ResumeFromZero,
}

/// Receives exactly `size` bytes and returns `226 Stored <size> bytes`.
///
/// Refusals come in the contract's order: read-only (checked by the caller,
/// `cmd::execute`, for the `identity` the upload runs as), then the path
/// (its parent missing, a directory or special file in the way), then the
/// size limit, the quota and the free space.
pub(crate) async fn run(
    conn: &mut Connection,
    shared: &Shared,
    identity: &Identity,
    size: u64,
    path: Path,
    start: Start,
) -> Result<Reply, ServerError> {
    let storage = Arc::clone(&shared.storage);
    let checked = path.clone();
    blocking(move || storage.check_store(&checked)).await?;
    if size > shared.config.max_file_size {
        return Err(ServerError::TooLarge {
            size,
            limit: shared.config.max_file_size,
        });
    }
    quota::check(shared, identity, &path, size).await?;
    let storage = Arc::clone(&shared.storage);
    let mut upload = blocking(move || {
        storage.check_space(size)?;
        storage.create_temp()
    })
    .await?;
    let Some(file) = upload.take_file() else {
        return Err(discard(
            upload,
            ServerError::Storage(std::io::Error::other("no file")),
        )
        .await);
    };
    let ready = match start {
        Start::Store => format!("Ready for {size} bytes"),
        Start::ResumeFromZero => format!("{size} bytes"),
    };
    if let Err(error) = conn
        .write_reply(&Reply::new(codes::DATA_FOLLOWS, ready))
        .await
    {
        return Err(discard(upload, error).await);
    }
    let file = match receive(conn, file, size).await {
        Ok(file) => file,
        Err(error) => return Err(discard(upload, error).await),
    };
    blocking(move || upload.commit(file, &path)).await?;
    Ok(Reply::new(
        codes::TRANSFER_COMPLETE,
        format!("Stored {size} bytes"),
    ))
}

/// Removes the temporary file before the error is reported, so that once
/// the client sees the failure (or the closed connection) no trace is left.
async fn discard(upload: TempUpload, error: ServerError) -> ServerError {
    match tokio::task::spawn_blocking(move || upload.discard()).await {
        Ok(()) => error,
        Err(join) => {
            tracing::warn!(%join, "removing a temporary upload failed");
            error
        }
    }
}

/// Copies `size` bytes from the client into `file` and flushes them to
/// disk. If writing fails midway, the rest of the bytes are still read (and
/// dropped) so the connection stays in step, and the write error is
/// returned afterwards.
async fn receive(
    conn: &mut Connection,
    file: std::fs::File,
    size: u64,
) -> Result<std::fs::File, ServerError> {
    let mut file = tokio::fs::File::from_std(file);
    // The file's own buffer lets one chunk be written on a blocking thread
    // while the next one is read from the socket.
    file.set_max_buf_size(CHUNK_LEN);
    let mut buffer = vec![0; usize::try_from(size).map_or(CHUNK_LEN, |size| size.min(CHUNK_LEN))];
    let mut received = 0u64;
    let mut write_error = None;
    while received < size {
        let want =
            usize::try_from(size - received).map_or(buffer.len(), |left| left.min(buffer.len()));
        let n = conn.read_data(&mut buffer[..want]).await?;
        if n == 0 {
            return Err(ServerError::UploadCut {
                expected: size,
                received,
            });
        }
        received += n as u64;
        if write_error.is_none() {
            if let Err(error) = file.write_all(&buffer[..n]).await {
                write_error = Some(error);
            }
        }
    }
    if write_error.is_none() {
        if let Err(error) = file.flush().await {
            write_error = Some(error);
        }
    }
    if let Some(error) = write_error {
        return Err(ServerError::from_storage(error));
    }
    Ok(file.into_std().await)
}
