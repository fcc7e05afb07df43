//! An upload on its own connection, always with `RESUME` (§3.3): with
//! nothing kept the server answers `150 <size> bytes` and it is a plain
//! upload; after a dropped connection, or a reload and the same file picked
//! again for the same path, the server answers with what it still lacks and
//! only those last bytes go out. Size limits and quotas apply to RESUME as
//! to STORE. A server without RESUME (`502`) gets `STORE`.
//!
//! The file goes out as `Blob` slices handed to the socket: the browser
//! reads each one itself, off the page's thread, so the bytes pass through
//! neither WASM nor JS memory. Reading slices into `ArrayBuffer`s and
//! sending those instead took the page's one thread for every byte, and
//! uploaded at less than half the speed (scripts/bench.sh web). The browser
//! holds at most [`UPLOAD_HIGH_WATER`] bytes of queued slices.
use super::link::{self, Socket, Stop};
use crate::browser;
use crate::model::Transfer;
use crate::transport::{Conn, ConnError};
use ferry_proto::{close, Event, Exchange, Path, RefusalKind, Resume, Store};
use std::cell::Cell;
use web_sys::File;

/// Bytes of the file per WebSocket message: the bridge's default largest
/// message (`--max-message-size`, 1 MiB). A bridge set lower closes the
/// connection with 1009; the slice then halves for the attempts that
/// follow, down to [`SMALLEST_SLICE`].
const UPLOAD_SLICE: u64 = 1024 * 1024;
const SMALLEST_SLICE: u64 = 16 * 1024;

thread_local! {
    /// The slice size in use: [`UPLOAD_SLICE`] until a bridge refused it.
    static SLICE: Cell<u64> = const { Cell::new(UPLOAD_SLICE) };
}

/// Backpressure: no new slice while the browser still buffers more than
/// this. Of slices of 256 KiB to 1 MiB with 1 to 8 MiB queued, 1 MiB
/// slices with 4 MiB queued uploaded fastest here (scripts/bench.sh web).
const UPLOAD_HIGH_WATER: u32 = 4 * 1024 * 1024;
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

/// One file's upload to one path, over as many attempts as it takes.
pub struct Upload<'p> {
    pub file: &'p File,
    pub path: &'p Path,
    pub transfer: Transfer,
    /// The verb of the next attempt.
    pub start: Start,
    /// The byte count of the first `150`: what the server lacked when the upload began.
    pub first: Option<u64>,
}

impl<'p> Upload<'p> {
    /// An upload that starts with `RESUME`.
    pub fn new(file: &'p File, path: &'p Path, transfer: Transfer) -> Upload<'p> {
        Upload {
            file,
            path,
            transfer,
            start: Start::Resume,
            first: None,
        }
    }

    /// One attempt: connect, `RESUME` (or `STORE`), send what the server lacks.
    pub async fn attempt(
        &mut self,
        endpoint: &crate::endpoint::Endpoint,
        socket: &Socket,
    ) -> Result<Sent, Stop> {
        let mut conn = link::open(endpoint, socket).await?;
        let result = self.send_file(&mut conn).await;
        if let Err(Stop::Lost(ConnError::Closed { code, .. })) = result {
            if let Some(why) = unreadable(self.file).await {
                return Err(Stop::Lost(why));
            }
            if code == close::MESSAGE_TOO_BIG {
                SLICE.set((SLICE.get() / 2).max(SMALLEST_SLICE));
            }
        }
        result
    }

    /// The exchange of an attempt, on its open connection.
    async fn send_file(&mut self, conn: &mut Conn) -> Result<Sent, Stop> {
        let size = self.file.size() as u64;
        let store = Store {
            path: self.path.clone(),
            size,
        };
        if self.start == Start::Store {
            return self.exchange(conn, &store).await;
        }
        let resume = Resume {
            path: self.path.clone(),
            size,
        };
        match self.exchange(conn, &resume).await {
            Err(Stop::Refused(refusal)) if refusal.kind() == RefusalKind::UnknownCommand => {
                self.exchange(conn, &store).await
            }
            other => other,
        }
    }

    /// Runs `exchange` (RESUME or STORE: `dyn`, so this is compiled once).
    async fn exchange(
        &mut self,
        conn: &mut Conn,
        exchange: &dyn Exchange<Success = ()>,
    ) -> Result<Sent, Stop> {
        let size = self.file.size() as u64;
        conn.start(&exchange.command()).await?;
        let mut sent = 0;
        loop {
            match conn.next_event().await? {
                Event::Send { len, .. } => {
                    self.transfer.start();
                    self.first.get_or_insert(len);
                    sent = len;
                    send(conn, self.file, size - len, size, self.transfer).await?;
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
}

/// Streams bytes `from..size` of the file in slices, never letting the
/// browser queue more than [`UPLOAD_HIGH_WATER`] bytes. A slice the browser
/// cannot read (the file changed or went away on disk) makes it drop the
/// connection: [`exchange`]'s caller sees a lost connection, so the file is
/// checked then ([`unreadable`]).
async fn send(
    conn: &mut Conn,
    file: &File,
    from: u64,
    size: u64,
    transfer: Transfer,
) -> Result<(), ConnError> {
    let mut at = from;
    transfer.progress(at);
    let slice_size = SLICE.get();
    while at < size {
        let end = (at + slice_size).min(size);
        while conn.buffered_amount() > UPLOAD_HIGH_WATER {
            // bufferedAmount never drains on a closed socket: stop waiting then.
            if !conn.is_open() {
                return Err(conn.wait_closed().await);
            }
            browser::sleep(BACKPRESSURE_POLL_MS).await;
        }
        let slice = file
            .slice_with_f64_and_f64(at as f64, end as f64)
            .map_err(|e| abort(conn, &browser::js_error_text(&e)))?;
        conn.send_blob(&slice).await?;
        at = end;
        transfer.progress(at.saturating_sub(u64::from(conn.buffered_amount())));
    }
    // The last slices may still wait in the browser (a small file may wait
    // whole): the row shows them leaving.
    while conn.buffered_amount() > 0 && conn.is_open() {
        browser::sleep(BACKPRESSURE_POLL_MS).await;
        transfer.progress(size.saturating_sub(u64::from(conn.buffered_amount())));
    }
    Ok(())
}

/// Why the file cannot be uploaded, if reading it fails now: asked after a
/// lost connection, since the browser drops the connection when a slice it
/// was sending could not be read. The browser refuses any read of a picked
/// file that changed on disk since, so one byte tells.
async fn unreadable(file: &File) -> Option<ConnError> {
    if file.size() == 0.0 {
        return None;
    }
    let why = browser::read_slice(file, 0, 1).await.err()?;
    Some(ConnError::FileRead(format!(
        "{why}; it may have changed while uploading"
    )))
}

/// Closes the connection to abandon the upload: the protocol cannot cancel
/// a STORE, and the server shows nothing of an upload cut short.
fn abort(conn: &Conn, why: &str) -> ConnError {
    conn.close(close::CLIENT_ABORTED, "upload aborted");
    ConnError::FileRead(why.to_string())
}
