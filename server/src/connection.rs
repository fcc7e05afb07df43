//! One client connection: framing of command lines, raw data after them,
//! and writing replies, each read and write bounded by the idle timeout.
//!
//! The idle timeout alone does not bound a client that trickles: every
//! byte resets it, so a byte every 10 s held a connection slot for good
//! (an 8 KiB line took 22 hours), and 5,000 such clients held 5,000 slots.
//! So a command line must also be complete within the line timeout of its
//! first byte.

use crate::ServerError;
use ferry_proto::{LineDecoder, LineEvent, Reply};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Size of the per-connection read buffer. Command lines are at most 8 KiB
/// and the line decoder keeps partial lines itself; upload data is read
/// into the STORE command's own buffer, so this one stays small.
const READ_BUFFER_LEN: usize = 8 * 1024;

/// A client connection and its read state.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    /// The proxy the connection came through (the proxy listener's socket
    /// peer), if it did.
    proxy: Option<SocketAddr>,
    buffer: Box<[u8]>,
    /// Unconsumed bytes are `buffer[start..end]`.
    start: usize,
    end: usize,
    lines: LineDecoder,
    idle_timeout: Option<Duration>,
    /// Most time from a line's first byte to its end; `None`: unbounded.
    line_timeout: Option<Duration>,
    /// When the first byte of the partial line now pending arrived.
    line_started: Option<Instant>,
    bytes_in: u64,
    bytes_out: u64,
}

impl Connection {
    /// Wraps an accepted stream. A zero `idle_timeout` disables it.
    pub(crate) fn new(stream: TcpStream, peer: SocketAddr, idle_timeout: Duration) -> Connection {
        Connection {
            stream,
            peer,
            proxy: None,
            buffer: vec![0; READ_BUFFER_LEN].into_boxed_slice(),
            start: 0,
            end: 0,
            lines: LineDecoder::default(),
            idle_timeout: (!idle_timeout.is_zero()).then_some(idle_timeout),
            line_timeout: None,
            line_started: None,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// The client's address: the socket's peer, or on the proxy listener
    /// the one its PROXY header announced. Logs, limits and lockouts use
    /// this one.
    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Marks the connection as one that came through the proxy listener
    /// from `proxy` (`None`: the main listener).
    pub(crate) fn through_proxy(mut self, proxy: Option<SocketAddr>) -> Connection {
        self.proxy = proxy;
        self
    }

    /// Bounds the time from a command line's first byte to its end (a zero
    /// `limit` leaves it unbounded).
    pub(crate) fn with_line_timeout(mut self, limit: Duration) -> Connection {
        self.line_timeout = (!limit.is_zero()).then_some(limit);
        self
    }

    /// The proxy this connection came through, if it came through the
    /// proxy listener (rules about the socket itself, such as clear-text
    /// logins from non-loopback peers on the main listener, look here).
    pub(crate) fn proxy(&self) -> Option<SocketAddr> {
        self.proxy
    }

    /// Bytes received from the client so far.
    pub(crate) fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Bytes sent to the client so far.
    pub(crate) fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// Reads the next command line. `Ok(None)` means the client closed the
    /// connection (a partial line at that point is dropped). A line not
    /// complete within the line timeout of its first byte is
    /// [`ServerError::LineTimeout`].
    ///
    /// Cancel-safe: bytes read but not yet framed stay in the buffer, and
    /// the pending line keeps its start.
    pub(crate) async fn read_line(&mut self) -> Result<Option<LineEvent>, ServerError> {
        loop {
            while self.start < self.end {
                let (consumed, event) = self.lines.decode(&self.buffer[self.start..self.end]);
                self.start += consumed;
                if let Some(event) = event {
                    self.line_started = None;
                    return Ok(Some(event));
                }
            }
            if self.lines.has_partial() {
                self.line_started.get_or_insert_with(Instant::now);
            }
            let line_deadline = self.line_started.zip(self.line_timeout);
            if !self
                .fill(line_deadline.map(|(at, limit)| at + limit))
                .await?
            {
                return Ok(None);
            }
        }
    }

    /// Reads more bytes into the empty buffer, by the idle timeout and the
    /// pending line's `line_deadline`; `false` at end of stream.
    async fn fill(&mut self, line_deadline: Option<Instant>) -> Result<bool, ServerError> {
        debug_assert!(self.start == self.end);
        self.start = 0;
        self.end = 0;
        let idle = self
            .idle_timeout
            .map(|limit| (Instant::now() + limit, ServerError::IdleTimeout));
        let line = line_deadline.map(|at| (at, ServerError::LineTimeout));
        let limit = match (idle, line) {
            (Some(idle), Some(line)) => Some(if line.0 < idle.0 { line } else { idle }),
            (idle, line) => idle.or(line),
        };
        let read = self.stream.read(&mut self.buffer);
        let n = match limit {
            None => read.await.map_err(ServerError::Peer)?,
            Some((at, late)) => tokio::time::timeout_at(at, read)
                .await
                .map_err(|_| late)?
                .map_err(ServerError::Peer)?,
        };
        self.end = n;
        self.bytes_in += n as u64;
        Ok(n > 0)
    }

    /// Reads raw data bytes (after a STORE's `150`) into `out`: first what
    /// is left in the buffer after the command line, then straight from the
    /// socket. Returns how many bytes were read; `Ok(0)` means the client
    /// closed the connection.
    pub(crate) async fn read_data(&mut self, out: &mut [u8]) -> Result<usize, ServerError> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.start < self.end {
            let n = out.len().min(self.end - self.start);
            out[..n].copy_from_slice(&self.buffer[self.start..self.start + n]);
            self.start += n;
            return Ok(n);
        }
        let limit = self.idle_timeout;
        let read = self.stream.read(out);
        let n = match limit {
            None => read.await.map_err(ServerError::Peer)?,
            Some(limit) => tokio::time::timeout(limit, read)
                .await
                .map_err(|_| ServerError::IdleTimeout)?
                .map_err(ServerError::Peer)?,
        };
        self.bytes_in += n as u64;
        Ok(n)
    }

    /// Sends a reply line.
    pub(crate) async fn write_reply(&mut self, reply: &Reply) -> Result<(), ServerError> {
        self.write_all(&reply.encode()).await
    }

    /// Sends raw bytes.
    pub(crate) async fn write_all(&mut self, data: &[u8]) -> Result<(), ServerError> {
        let limit = self.idle_timeout;
        let write = self.stream.write_all(data);
        match limit {
            None => write.await.map_err(ServerError::Peer)?,
            Some(limit) => tokio::time::timeout(limit, write)
                .await
                .map_err(|_| ServerError::IdleTimeout)?
                .map_err(ServerError::Peer)?,
        }
        self.bytes_out += data.len() as u64;
        Ok(())
    }

    /// The idle timeout, for sends through [`Connection::stream`].
    pub(crate) fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// The socket, for zero-copy sends that bypass [`Connection::write_all`].
    pub(crate) fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Accounts bytes sent through [`Connection::stream`] directly.
    pub(crate) fn add_bytes_out(&mut self, n: u64) {
        self.bytes_out += n;
    }

    /// Ends the connection politely: sends FIN, then reads (and drops) what
    /// the client still sends for a moment, so that unread input does not
    /// turn the close into a reset that could destroy our last reply.
    pub(crate) async fn close(mut self) {
        let linger = async {
            self.stream.shutdown().await?;
            loop {
                if self.stream.read(&mut self.buffer).await? == 0 {
                    return Ok::<(), io::Error>(());
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), linger).await;
    }
}
