//! Zero-copy downloads on plain TCP (Linux): upstream bytes go
//! socket → pipe → client socket with splice(2), and only the WebSocket frame
//! header is written from user space.
//!
//! Frames from a server to a client are not masked (RFC 6455 §5.1), so a
//! binary frame is a 2–10 byte header followed by the payload as it is; no
//! extension is ever negotiated, so the RSV bits stay 0. Copying each chunk
//! into user space and out again was most of the bridge's CPU time during
//! downloads; splicing leaves the payload in the kernel's pages.
//!
//! tungstenite still writes everything else (pings, pongs, close frames) to
//! the same socket. A frame written here first takes the socket's hold
//! ([`ClientSocket::hold`]: the library's pending tail is written out, and
//! library writes wait), so frames never interleave. The progress of the
//! current frame lives in [`DirectFrames`], not in a future, so a relay that
//! is interrupted mid-frame can still finish it before its close frame.
//!
//! This is the download's splice path ([`Download::Splice`]); the system
//! calls it makes are in [`pipe`](super::pipe), the one Linux-only file.
//!
//! [`Download::Splice`]: super::download::Download::Splice

use super::download::{upstream_bytes, ClientSink, Pings};
use super::end::End;
use super::pipe::Pipe;
use super::traffic::Traffic;
use crate::client_io::ClientSocket;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::tcp::ReadHalf;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Longest WebSocket frame header: 2 bytes, then a 64-bit length.
const MAX_HEADER: usize = 10;

/// Writes upstream bytes to one client as binary frames by splicing.
pub(super) struct DirectFrames {
    /// The client's socket.
    client: Arc<ClientSocket>,
    /// The pipe the payload passes through; what it holds at most is the
    /// largest frame payload.
    pipe: Pipe,
    /// Bytes in the pipe not yet part of a frame.
    filled: usize,
    /// Whether the upstream reached end of file.
    eof: bool,
    /// An upstream error met after bytes were already in the pipe: those go
    /// out first, the error is reported by the next [`fill`](Self::fill).
    error: Option<io::Error>,
    /// Header of the frame in progress.
    header: [u8; MAX_HEADER],
    /// Its length.
    header_len: usize,
    /// How much of it has been written.
    header_sent: usize,
    /// Payload bytes of the frame in progress still in the pipe.
    payload_left: usize,
    /// Whether a frame is in progress (the socket's hold is taken).
    in_frame: bool,
}

impl DirectFrames {
    /// A pipe of (about) `pipe_size` bytes for `client`. Fails when no pipe
    /// can be made (file descriptor limits, or no splicing on this system);
    /// the caller keeps copying then.
    pub(super) fn new(client: Arc<ClientSocket>, pipe_size: usize) -> io::Result<DirectFrames> {
        let pipe = Pipe::new(pipe_size)?;
        Ok(DirectFrames {
            client,
            pipe,
            filled: 0,
            eof: false,
            error: None,
            header: [0; MAX_HEADER],
            header_len: 0,
            header_sent: 0,
            payload_left: 0,
            in_frame: false,
        })
    }

    /// Waits for upstream bytes and sends them as one frame, or sends one
    /// ping. Only the wait for upstream bytes races the pings: a frame, once
    /// started, is finished before anything else is written.
    pub(super) async fn step(
        &mut self,
        tcp: &ReadHalf<'_>,
        ws: &mut ClientSink,
        traffic: &Traffic,
        pings: &mut Pings,
    ) -> Result<(), End> {
        tokio::select! {
            biased;
            filled = self.fill(tcp.as_ref()) => {
                let n = upstream_bytes(filled)?;
                self.flush().await.map_err(End::ClientWriteFailed)?;
                traffic.count_down(n);
                Ok(())
            }
            () = pings.tick() => pings.send(ws).await,
        }
    }

    /// After the relay's directions stopped: finishes a frame that was
    /// interrupted (and, unless the client is leaving, sends what the pipe
    /// still holds), so the close frame that follows is well framed. What
    /// is not sent within `wait` is abandoned: the connection then cannot
    /// carry a close frame any more and later library writes fail.
    pub(super) async fn settle(&mut self, end: &End, wait: Duration) {
        let owed = if end.client_leaving() {
            self.in_frame
        } else {
            self.in_frame || self.filled > 0
        };
        if owed {
            let _ = timeout(wait, self.flush()).await;
        }
        self.abandon();
    }

    /// Waits for upstream bytes and moves what is there (up to the pipe's
    /// free space) into the pipe. Returns the bytes moved; 0 means end of
    /// file. Call it only with an empty pipe ([`flush`](Self::flush) first).
    /// Cancel-safe: the only await comes before anything is moved.
    async fn fill(&mut self, upstream: &TcpStream) -> io::Result<usize> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        if self.eof {
            return Ok(0);
        }
        debug_assert_eq!(self.filled, 0, "fill starts with an empty pipe");
        let capacity = self.pipe.capacity();
        let first = loop {
            upstream.readable().await?;
            // The pipe is empty, so "would block" here can only mean the
            // socket has nothing: tokio may forget its readiness.
            let spliced = upstream.try_io(Interest::READABLE, || {
                self.pipe.fill_from(upstream, capacity)
            });
            match spliced {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                other => break other?,
            }
        };
        if first == 0 {
            self.eof = true;
            return Ok(0);
        }
        self.filled = first;
        // Take what else is there without waiting. "Would block" may now
        // also mean a full pipe, so it must not clear the socket's
        // readiness: a stale readiness only costs one empty splice later.
        while self.filled < capacity {
            match self.pipe.fill_from(upstream, capacity - self.filled) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) => {
                    self.error = Some(error);
                    break;
                }
            }
        }
        Ok(self.filled)
    }

    /// Writes what the pipe holds as one binary frame, or finishes the frame
    /// in progress. Cancel-safe: progress is kept in `self`, and a later call
    /// goes on where this one stopped.
    async fn flush(&mut self) -> io::Result<()> {
        if !self.in_frame {
            if self.filled == 0 {
                return Ok(());
            }
            self.client.hold().await?;
            self.header_len = encode_header(self.filled as u64, &mut self.header);
            self.header_sent = 0;
            self.payload_left = self.filled;
            self.filled = 0;
            self.in_frame = true;
        }
        let tcp = self.client.tcp();
        while self.header_sent < self.header_len {
            let rest = &self.header[self.header_sent..self.header_len];
            let n = tcp
                .async_io(Interest::WRITABLE, || self.pipe.send_ahead(tcp, rest))
                .await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.header_sent += n;
        }
        while self.payload_left > 0 {
            let left = self.payload_left;
            let n = tcp
                .async_io(Interest::WRITABLE, || self.pipe.drain_into(tcp, left))
                .await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.payload_left -= n;
        }
        self.in_frame = false;
        self.client.release();
        Ok(())
    }

    /// Gives up on what is owed: if a frame was started, library writes fail
    /// from now on (its framing cannot be repaired); the connection is
    /// dropped by the caller.
    fn abandon(&mut self) {
        if self.in_frame {
            self.client.break_framing();
            self.in_frame = false;
        }
        self.filled = 0;
    }
}

impl Drop for DirectFrames {
    fn drop(&mut self) {
        // A relay that ends mid-frame without settling (a panic)
        // must not leave library writes waiting forever.
        self.abandon();
    }
}

/// Writes the header of an unmasked, final binary frame of `len` payload
/// bytes into `out`; returns its length.
fn encode_header(len: u64, out: &mut [u8; MAX_HEADER]) -> usize {
    // FIN, no RSV bits, opcode 2 (binary).
    out[0] = 0x82;
    if len < 126 {
        out[1] = len as u8;
        2
    } else if len <= u64::from(u16::MAX) {
        out[1] = 126;
        out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        4
    } else {
        out[1] = 127;
        out[2..10].copy_from_slice(&len.to_be_bytes());
        10
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_use_the_shortest_length_form() {
        let mut out = [0; MAX_HEADER];
        assert_eq!(encode_header(0, &mut out), 2);
        assert_eq!(out[..2], [0x82, 0]);
        assert_eq!(encode_header(125, &mut out), 2);
        assert_eq!(out[..2], [0x82, 125]);
        assert_eq!(encode_header(126, &mut out), 4);
        assert_eq!(out[..4], [0x82, 126, 0, 126]);
        assert_eq!(encode_header(65535, &mut out), 4);
        assert_eq!(out[..4], [0x82, 126, 0xff, 0xff]);
        assert_eq!(encode_header(65536, &mut out), 10);
        assert_eq!(out[..10], [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }
}
