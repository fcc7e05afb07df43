//! `STORE <size> <path>` and `RESUME <size> <path>`: receive an upload and
//! make it visible at once.
//!
//! Everything that can be refused is refused before `150` (read-only, size
//! limit, free space, a missing parent or a directory in the way, the same
//! upload in progress elsewhere), so the client sends no bytes in vain and
//! a refused command discards nothing. The bytes go to a file out of sight
//! (see [`crate::storage`]) that is flushed to disk and renamed over the
//! path only after the last byte; `226` is sent only after that. If the
//! client goes away first, an older file at that path is untouched, and
//! the bytes that arrived are kept for the resume window, so that a
//! `RESUME` of the same owner, path and size sends only the rest.
//!
//! A disk that fills up during the upload (others wrote meanwhile) fails it
//! after `150`: the client gets `552` as soon as a write fails, not only
//! after its last byte; the rest is read and dropped, and nothing of the
//! upload is kept (the bytes on disk cannot be vouched for).
//!
//! On an object store the same happens with the store's writer in place of
//! the file (`storage::object::upload`): visible when it is closed after
//! the last byte, aborted (nothing left) otherwise, the bytes kept in the
//! store when the upload is cut off.

use crate::connection::Connection;
use crate::quota;
use crate::session::Identity;
use crate::storage::{blocking, Begin, ObjectUpload, Started, Upload, UploadKey};
use crate::{ServerError, Shared};
use ferry_proto::{codes, Path, Reply};
use tokio::io::AsyncWriteExt;

/// Bytes read from the socket and handed to the file at a time.
const CHUNK_LEN: usize = 256 * 1024;

/// How an upload starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// `STORE`: `150 Ready for <size> bytes`, the whole file; what was kept
    /// of the path is discarded.
    Store,
    /// `RESUME`: `150 <r> bytes`, the last r bytes, after the bytes kept of
    /// this owner's upload of this path and size (none kept: all of them).
    Resume,
}

/// Receives the upload and returns `226 Stored <size> bytes`.
///
/// Refusals come in the contract's order: read-only (checked by the caller,
/// `cmd::execute`, for the `identity` the upload runs as), then the path
/// (its parent missing, a directory or special file in the way), then the
/// size limit, the quota and the free space, then `450`. The upload's
/// kept bytes belong to the identity's owner.
pub(crate) async fn run(
    conn: &mut Connection,
    shared: &Shared,
    identity: &Identity,
    size: u64,
    path: Path,
    start: Start,
) -> Result<Reply, ServerError> {
    shared.storage.check_store(path.clone()).await?;
    if size > shared.config.max_file_size {
        return Err(ServerError::TooLarge {
            size,
            limit: shared.config.max_file_size,
        });
    }
    // Held until the upload ends, so other uploads of the owner count it.
    let _reserved = quota::check(shared, identity, &path, size).await?;
    let key = UploadKey {
        owner: identity.owner().key().to_owned(),
        path: path.clone(),
        size,
    };
    let begin = match start {
        Start::Store => Begin::Afresh,
        Start::Resume => Begin::Continuing,
    };
    match shared.storage.begin_upload(key, begin).await? {
        Started::Local(upload, file) => to_file(conn, upload, file, path, start).await,
        Started::Object(upload) => to_object(conn, upload, path, start).await,
    }
}

/// `150` for an upload of `size` bytes of which the server holds `held`.
fn ready(start: Start, size: u64, held: u64) -> Reply {
    let text = match start {
        Start::Store => format!("Ready for {size} bytes"),
        Start::Resume => format!("{} bytes", size.saturating_sub(held)),
    };
    Reply::new(codes::DATA_FOLLOWS, text)
}

fn stored(size: u64) -> Reply {
    Reply::new(codes::TRANSFER_COMPLETE, format!("Stored {size} bytes"))
}

/// The upload into a local file, renamed over `path` after the last byte.
async fn to_file(
    conn: &mut Connection,
    upload: Upload,
    file: std::fs::File,
    path: Path,
    start: Start,
) -> Result<Reply, ServerError> {
    let size = upload.size();
    let rest = size.saturating_sub(upload.offset());
    if let Err(error) = conn.write_reply(&ready(start, size, upload.offset())).await {
        return Err(cut(upload, Some(file), error).await);
    }
    let mut file = tokio::fs::File::from_std(file);
    // The file's own buffer lets one chunk be written on a blocking thread
    // while the next one is read from the socket.
    file.set_max_buf_size(CHUNK_LEN);
    let received = receive(conn, Sink::File(&mut file), rest).await;
    let file = file.into_std().await;
    match received.outcome {
        Ok(()) => {
            blocking(move || upload.commit(file, &path)).await?;
            Ok(stored(size))
        }
        Err(error) if received.intact => Err(cut(upload, Some(file), error).await),
        Err(error) => Err(cut(upload, None, error).await),
    }
}

/// The upload into the object store's writer, closed after the last byte.
async fn to_object(
    conn: &mut Connection,
    mut upload: ObjectUpload,
    path: Path,
    start: Start,
) -> Result<Reply, ServerError> {
    let size = upload.size();
    let rest = size.saturating_sub(upload.offset());
    if let Err(error) = conn.write_reply(&ready(start, size, upload.offset())).await {
        upload.cut(true).await;
        return Err(error);
    }
    let received = receive(conn, Sink::Object(&mut upload), rest).await;
    match received.outcome {
        Ok(()) => {
            upload.commit(&path).await?;
            Ok(stored(size))
        }
        Err(error) => {
            upload.cut(received.intact).await;
            Err(error)
        }
    }
}

/// Where received bytes go.
enum Sink<'a> {
    File(&'a mut tokio::fs::File),
    Object(&'a mut ObjectUpload),
}

impl Sink<'_> {
    async fn put(&mut self, bytes: &[u8]) -> Result<(), ServerError> {
        match self {
            Sink::File(file) => file
                .write_all(bytes)
                .await
                .map_err(ServerError::from_storage),
            Sink::Object(upload) => upload.write(bytes).await,
        }
    }

    /// Hands every byte written so far on (to the file; the store's writer
    /// holds them until it is closed or aborted).
    async fn flush(&mut self) -> Result<(), ServerError> {
        match self {
            Sink::File(file) => file.flush().await.map_err(ServerError::from_storage),
            Sink::Object(_) => Ok(()),
        }
    }
}

/// Ends an upload that did not complete before `error` is reported: keeps
/// what arrived (a `None` file: nothing can be vouched for, keep nothing),
/// so that once the client sees the failure (or the closed connection) the
/// kept bytes are durable and no other trace is left.
async fn cut(upload: Upload, file: Option<std::fs::File>, error: ServerError) -> ServerError {
    let intact = file.is_some();
    match tokio::task::spawn_blocking(move || upload.cut(file, intact)).await {
        Ok(()) => error,
        Err(join) => {
            tracing::warn!(%join, "ending a cut-off upload failed");
            error
        }
    }
}

/// How receiving ended (every byte written so far handed to the sink),
/// and whether all those bytes are the client's first ones in order.
struct Received {
    outcome: Result<(), ServerError>,
    /// False when a write failed: what the file holds cannot be vouched for.
    intact: bool,
}

/// Copies `len` bytes from the client into `sink`. If writing fails
/// midway (a full disk), the failure is answered at once, so the client
/// learns of it while it is still sending (a client that reads replies
/// only after its last byte finds it waiting), and the rest of the bytes
/// are still read and dropped so the connection stays in step; the error
/// then comes back as [`ServerError::AnsweredEarly`]. Whether it completes
/// or is cut off, every byte written is flushed to the file before it
/// returns.
async fn receive(conn: &mut Connection, mut sink: Sink<'_>, len: u64) -> Received {
    let mut buffer = vec![0; usize::try_from(len).map_or(CHUNK_LEN, |len| len.min(CHUNK_LEN))];
    let mut received = 0u64;
    // A write failure, already answered.
    let mut answered = None;
    let mut cut_off = None;
    while received < len {
        let want =
            usize::try_from(len - received).map_or(buffer.len(), |left| left.min(buffer.len()));
        let n = match conn.read_data(&mut buffer[..want]).await {
            Ok(0) => {
                cut_off = Some(ServerError::UploadCut {
                    expected: len,
                    received,
                });
                break;
            }
            Ok(n) => n,
            Err(error) => {
                cut_off = Some(error);
                break;
            }
        };
        received += n as u64;
        if answered.is_none() {
            if let Err(error) = sink.put(&buffer[..n]).await {
                if let Some(reply) = error.reply() {
                    if let Err(broken) = conn.write_reply(&reply).await {
                        cut_off = Some(broken);
                    }
                }
                answered = Some(error);
                if cut_off.is_some() {
                    break;
                }
            }
        }
    }
    let mut flush_error = None;
    if answered.is_none() {
        if let Err(error) = sink.flush().await {
            flush_error = Some(error);
        }
    }
    let intact = answered.is_none() && flush_error.is_none();
    let outcome = match (cut_off, answered, flush_error) {
        (Some(cut), _, _) => Err(cut),
        (None, Some(error), _) => Err(ServerError::AnsweredEarly(Box::new(error))),
        (None, None, Some(error)) => Err(error),
        (None, None, None) => Ok(()),
    };
    Received { outcome, intact }
}
