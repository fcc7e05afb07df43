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

use crate::client_io::ClientSocket;
use rustix::net::SendFlags;
use rustix::pipe::{PipeFlags, SpliceFlags};
use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// The default `/proc/sys/fs/pipe-max-size`: the most an unprivileged
/// process may ask for, tried when a larger size is refused.
const DEFAULT_PIPE_MAX: usize = 1 << 20;

/// Longest WebSocket frame header: 2 bytes, then a 64-bit length.
const MAX_HEADER: usize = 10;

/// Writes upstream bytes to one client as binary frames by splicing.
pub(crate) struct DirectFrames {
    /// The client's socket.
    client: Arc<ClientSocket>,
    /// Read end of the pipe.
    pipe_out: OwnedFd,
    /// Write end of the pipe.
    pipe_in: OwnedFd,
    /// Bytes the pipe holds at most (the largest frame payload).
    capacity: usize,
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
    /// can be made (file descriptor limits); the caller keeps copying then.
    pub(crate) fn new(client: Arc<ClientSocket>, pipe_size: usize) -> io::Result<DirectFrames> {
        let (pipe_out, pipe_in) =
            rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        // The kernel rounds up to a power of two pages and may refuse (above
        // pipe-max-size, or a user past pipe-user-pages-soft): a smaller
        // pipe, even the default one, works too, with smaller frames.
        let capacity = rustix::pipe::fcntl_setpipe_size(&pipe_in, pipe_size)
            .or_else(|_| rustix::pipe::fcntl_setpipe_size(&pipe_in, DEFAULT_PIPE_MAX))
            .or_else(|_| rustix::pipe::fcntl_getpipe_size(&pipe_in))?;
        Ok(DirectFrames {
            client,
            pipe_out,
            pipe_in,
            capacity,
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

    /// Waits for upstream bytes and moves what is there (up to the pipe's
    /// free space) into the pipe. Returns the bytes moved; 0 means end of
    /// file. Call it only with an empty pipe ([`flush`](Self::flush) first).
    /// Cancel-safe: the only await comes before anything is moved.
    pub(crate) async fn fill(&mut self, upstream: &TcpStream) -> io::Result<usize> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        if self.eof {
            return Ok(0);
        }
        debug_assert_eq!(self.filled, 0, "fill starts with an empty pipe");
        let first = loop {
            upstream.readable().await?;
            // The pipe is empty, so "would block" here can only mean the
            // socket has nothing: tokio may forget its readiness.
            let spliced = upstream.try_io(Interest::READABLE, || {
                self.splice_in(upstream, self.capacity)
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
        while self.filled < self.capacity {
            match self.splice_in(upstream, self.capacity - self.filled) {
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

    /// One splice of at most `room` bytes from `upstream` into the pipe.
    fn splice_in(&self, upstream: &TcpStream, room: usize) -> io::Result<usize> {
        rustix::pipe::splice(
            upstream,
            None,
            &self.pipe_in,
            None,
            room,
            SpliceFlags::NONBLOCK,
        )
        .map_err(io::Error::from)
    }

    /// Writes what the pipe holds as one binary frame, or finishes the frame
    /// in progress. Cancel-safe: progress is kept in `self`, and a later call
    /// goes on where this one stopped.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
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
            // MORE: the header waits for the payload instead of leaving in a
            // tiny segment of its own (the socket has TCP_NODELAY).
            let n = tcp
                .async_io(Interest::WRITABLE, || {
                    rustix::net::send(tcp, rest, SendFlags::MORE | SendFlags::NOSIGNAL)
                        .map_err(io::Error::from)
                })
                .await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.header_sent += n;
        }
        while self.payload_left > 0 {
            let left = self.payload_left;
            let n = tcp
                .async_io(Interest::WRITABLE, || {
                    rustix::pipe::splice(
                        &self.pipe_out,
                        None,
                        tcp,
                        None,
                        left,
                        SpliceFlags::NONBLOCK,
                    )
                    .map_err(io::Error::from)
                })
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

    /// Whether bytes are still owed to the client (a frame in progress or
    /// bytes in the pipe).
    pub(crate) fn owes_bytes(&self) -> bool {
        self.in_frame || self.filled > 0
    }

    /// Whether a frame was started and not finished.
    pub(crate) fn in_frame(&self) -> bool {
        self.in_frame
    }

    /// Gives up on what is owed: if a frame was started, library writes fail
    /// from now on (its framing cannot be repaired); the connection is
    /// dropped by the caller.
    pub(crate) fn abandon(&mut self) {
        if self.in_frame {
            self.client.break_framing();
            self.in_frame = false;
        }
        self.filled = 0;
    }
}

impl Drop for DirectFrames {
    fn drop(&mut self) {
        // A relay that ends mid-frame without calling `abandon` (a panic)
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
