//! An upload on its own connection, always with `RESUME` (§3.3): with
//! nothing kept the server answers `150 <size> bytes` and it is a plain
//! upload; after a dropped connection, or a reload and the same file picked
//! again for the same path, the server answers with what it still lacks and
//! only those last bytes go out. Size limits and quotas apply to RESUME as
//! to STORE. A server without RESUME (`502`) gets `STORE`.
//!
//! The file is read in slices straight into JS `ArrayBuffer`s (never into
//! WASM memory), with backpressure on the browser's send buffer.

use super::link::{self, Socket, Stop};
use crate::browser;
use crate::model::Transfer;
use crate::transport::{Conn, ConnError};
use ferry_proto::{close, Event, Exchange, Path, RefusalKind, Resume, Store};
use js_sys::{ArrayBuffer, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

/// Bytes read from a file and sent per WebSocket message.
const UPLOAD_SLICE: u64 = 256 * 1024;
/// Backpressure: no new slice while the browser still buffers more than this.
const UPLOAD_HIGH_WATER: u32 = 1024 * 1024;
/// How often the upload loop re-checks `bufferedAmount` while waiting.
const BACKPRESSURE_POLL_MS: i32 = 4;

/// The verb of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// `RESUME`: continue what the server kept, or start from zero.
    Resume,
    /// `STORE`: from zero, discarding what the server kept.
    Store,
}

/// What one attempt achieved.
pub struct Sent {
    /// Bytes this attempt sent (the server held the rest already).
    pub bytes: u64,
}

/// One attempt: connect, `RESUME` (or `STORE`), send what the server lacks.
pub async fn attempt(
    endpoint: &crate::endpoint::Endpoint,
    socket: &Socket,
    file: &File,
    path: &Path,
    transfer: Transfer,
    start: Start,
    first: &mut Option<u64>,
) -> Result<Sent, Stop> {
    let size = file.size() as u64;
    let mut conn = link::open(endpoint, socket).await?;
    let store = Store {
        path: path.clone(),
        size,
    };
    if start == Start::Store {
        return exchange(&mut conn, &store, file, transfer, first).await;
    }
    let resume = Resume {
        path: path.clone(),
        size,
    };
    match exchange(&mut conn, &resume, file, transfer, first).await {
        Err(Stop::Refused(refusal)) if refusal.kind() == RefusalKind::UnknownCommand => {
            exchange(&mut conn, &store, file, transfer, first).await
        }
        other => other,
    }
}

/// Runs `exchange` (RESUME or STORE: `dyn`, so this is compiled once).
async fn exchange(
    conn: &mut Conn,
    exchange: &dyn Exchange<Success = ()>,
    file: &File,
    transfer: Transfer,
    first: &mut Option<u64>,
) -> Result<Sent, Stop> {
    let size = file.size() as u64;
    conn.start(&exchange.command()).await?;
    let mut sent = 0;
    loop {
        match conn.next_event().await? {
            Event::Send { len, .. } => {
                transfer.start();
                first.get_or_insert(len);
                sent = len;
                send(conn, file, size - len, size, transfer).await?;
            }
            Event::Done(done) => {
                link::finish(exchange, done)?;
                conn.close(close::NORMAL, "upload complete");
                return Ok(Sent { bytes: sent });
            }
            // The driver yields data or a greeting only to other commands.
            _ => {
                return Err(Stop::Lost(conn.broken(
                    ferry_proto::ProtoError::UnexpectedReply("data in answer to RESUME".into()),
                )))
            }
        }
    }
}

/// Streams bytes `from..size` of the file in slices, never letting the
/// browser buffer more than [`UPLOAD_HIGH_WATER`] bytes. The next slice is
/// read while the socket drains, so reading the file and sending overlap.
async fn send(
    conn: &mut Conn,
    file: &File,
    from: u64,
    size: u64,
    transfer: Transfer,
) -> Result<(), ConnError> {
    let mut at = from;
    transfer.progress(at);
    let mut next = (at < size).then(|| read(file, at, size));
    while let Some(reading) = next.take() {
        let end = (at + UPLOAD_SLICE).min(size);
        let slice = match reading {
            Ok(promise) => JsFuture::from(promise)
                .await
                .map_err(|e| browser::js_error_text(&e))
                .and_then(|b| {
                    b.dyn_into::<ArrayBuffer>()
                        .map_err(|_| "the browser returned something other than bytes".into())
                }),
            Err(e) => Err(e),
        };
        let slice = match slice {
            Ok(buffer) if buffer.byte_length() as u64 == end - at => buffer,
            Ok(_) => return Err(abort(conn, "the file changed size while uploading")),
            Err(e) => return Err(abort(conn, &e)),
        };
        if end < size {
            next = Some(read(file, end, size));
        }
        while conn.buffered_amount() > UPLOAD_HIGH_WATER {
            // bufferedAmount never drains on a closed socket: stop waiting then.
            if !conn.is_open() {
                return Err(conn.wait_closed().await);
            }
            browser::sleep(BACKPRESSURE_POLL_MS).await;
        }
        conn.send_data(&slice).await?;
        at = end;
        transfer.progress(at.saturating_sub(u64::from(conn.buffered_amount())));
    }
    Ok(())
}

/// Starts reading the slice at `at` (the browser reads it into a JS
/// `ArrayBuffer`, never into WASM memory).
fn read(file: &File, at: u64, size: u64) -> Result<Promise, String> {
    let end = (at + UPLOAD_SLICE).min(size);
    file.slice_with_f64_and_f64(at as f64, end as f64)
        .map(|blob| blob.array_buffer())
        .map_err(|e| browser::js_error_text(&e))
}

/// Closes the connection to abandon the upload: the protocol cannot cancel
/// a STORE, and the server shows nothing of an upload cut short.
fn abort(conn: &Conn, why: &str) -> ConnError {
    conn.close(close::CLIENT_ABORTED, "upload aborted");
    ConnError::FileRead(why.to_string())
}
