//! An upload's data phase: the file goes out in slices read straight into JS
//! `ArrayBuffer`s (never into WASM memory), with backpressure on the
//! browser's send buffer.

use super::exchange::DataPhase;
use crate::browser;
use crate::model::Transfer;
use crate::transport::{Conn, ConnError};
use ferry_proto::close;
use web_sys::File;

/// Bytes read from a file and sent per WebSocket message during an upload.
const UPLOAD_SLICE: u64 = 256 * 1024;
/// Upload backpressure: no new slice while the browser still buffers more than this.
const UPLOAD_HIGH_WATER: u32 = 1024 * 1024;
/// How often the upload loop re-checks `bufferedAmount` while waiting.
const BACKPRESSURE_POLL_MS: i32 = 4;

/// One file on its way to the server.
pub struct Upload {
    file: File,
    transfer: Transfer,
}

impl Upload {
    /// An upload of `file` shown in `transfer`.
    pub fn new(file: File, transfer: Transfer) -> Upload {
        Upload { file, transfer }
    }
}

impl DataPhase for Upload {
    /// Streams `size` bytes of the file in slices, never letting the
    /// browser buffer more than [`UPLOAD_HIGH_WATER`] bytes.
    async fn send(&mut self, conn: &mut Conn, size: u64) -> Result<(), ConnError> {
        self.transfer.start();
        let mut sent: u64 = 0;
        while sent < size {
            while conn.buffered_amount() > UPLOAD_HIGH_WATER {
                // bufferedAmount never drains on a closed socket: stop waiting then.
                if !conn.is_open() {
                    return Err(conn.wait_closed().await);
                }
                browser::sleep(BACKPRESSURE_POLL_MS).await;
            }
            let end = (sent + UPLOAD_SLICE).min(size);
            let slice = match browser::read_slice(&self.file, sent, end).await {
                Ok(buffer) if buffer.byte_length() as u64 == end - sent => buffer,
                Ok(_) => return Err(abort(conn, "the file changed size while uploading")),
                Err(e) => return Err(abort(conn, &e)),
            };
            conn.send_data(&slice).await?;
            sent = end;
            self.transfer
                .progress(sent.saturating_sub(u64::from(conn.buffered_amount())));
        }
        Ok(())
    }
}

/// Closes the connection to abandon the upload: the protocol cannot cancel a
/// STORE, and the server drops a file cut short.
fn abort(conn: &Conn, why: &str) -> ConnError {
    conn.close(close::CLIENT_ABORTED, "upload aborted");
    ConnError::FileRead(why.to_string())
}
