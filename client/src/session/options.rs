//! What a session is given: its timeouts and limits, where a transfer's
//! bytes go or come from, and who hears of its progress.

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Timeouts and limits of a session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// How long opening the connection (and the WebSocket handshake) may take.
    pub connect_timeout: Duration,
    /// How long the server may stay silent while an answer or data is awaited.
    pub io_timeout: Duration,
    /// Largest `LIST` body accepted, in bytes: a listing is held in memory.
    pub max_listing_len: u64,
    /// Size of one upload write (one WebSocket message through a bridge).
    pub upload_chunk: usize,
    /// TLS settings for `wss://`; `None` trusts the webpki roots.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(60),
            max_listing_len: ferry_proto::DEFAULT_MAX_LISTING_LEN,
            upload_chunk: 64 * 1024,
            tls: None,
        }
    }
}

/// Receives progress reports of a transfer (e.g. to draw a progress bar).
/// `Send`, so a session's commands can run on any tokio task.
pub trait TransferProgress: Send {
    /// The transfer of `total` bytes begins.
    fn start(&mut self, total: u64) {
        let _ = total;
    }
    /// `bytes` more bytes were moved.
    fn advance(&mut self, bytes: u64) {
        let _ = bytes;
    }
    /// The first `kept` bytes of the transfer were already there (a RESUME
    /// the server had kept bytes for): counted as done without moving.
    fn resumed(&mut self, kept: u64) {
        self.advance(kept);
    }
}

/// No progress reporting.
impl TransferProgress for () {}

/// Where the file bytes of an exchange go or come from.
pub enum Transfer<'a> {
    /// The command moves no file bytes (a LIST body is collected by the driver).
    None,
    /// RETRIEVE and READ: the bytes are written here as they arrive.
    Sink(&'a mut (dyn AsyncWrite + Unpin + Send)),
    /// STORE and RESUME: the bytes to send are read from here (for RESUME,
    /// the ones the server kept are read and passed over first).
    Source(&'a mut (dyn AsyncRead + Unpin + Send)),
}
