//! The client-facing socket: a bounded write-behind for the tail of a partial
//! write, and a way for the relay to write frames to it directly (splice).
//!
//! tungstenite writes its whole output buffer and, when the kernel takes only
//! part of it, moves the rest to the front of the buffer (`Vec::drain`); with
//! large messages and a busy socket that is a memmove per partial write and
//! was a fifth of the bridge's CPU time during downloads. Here the tail of a
//! partial write is copied once into `tail` and written from an offset, and
//! the next write waits until the tail is gone, so backpressure is unchanged
//! and the extra memory is at most `tail_limit` bytes.
//!
//! The socket itself is shared ([`ClientSocket`]) between the stream given to
//! hyper / tungstenite ([`ClientStream`]) and, on plain TCP, the relay, which
//! may write whole WebSocket frames past the library (see `relay/splice.rs`).
//! While it does, the library's writes are held back ([`ClientSocket::hold`]),
//! so the two never interleave inside a frame.

use crate::door::Ticket;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{ready, Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// An accepted client connection, shared by its [`ClientStream`] and the
/// relay that may write to it directly.
#[derive(Debug)]
pub(crate) struct ClientSocket {
    /// The accepted connection.
    tcp: TcpStream,
    /// Who may write, and what is still owed to the kernel.
    writes: Mutex<WriteState>,
}

/// Write-side bookkeeping of a [`ClientSocket`].
#[derive(Debug, Default)]
struct WriteState {
    /// Bytes already reported as written but not yet taken by the kernel.
    tail: Vec<u8>,
    /// How much of `tail` has been written since.
    sent: usize,
    /// Set while the relay writes a frame directly: library writes wait.
    held: bool,
    /// Set when a direct frame was abandoned half-way: what follows would not
    /// be valid WebSocket framing, so library writes fail instead.
    broken: bool,
    /// Library writers waiting for the hold to end.
    waiting: Vec<Waker>,
}

/// A weak handle on a plain-TCP client socket, handed to the request
/// handlers (as a request extension) so a relay can write frames directly.
/// `None` on TLS connections, whose bytes must go through the TLS stream.
#[derive(Debug, Clone)]
pub(crate) struct DirectHandle(pub(crate) Option<Weak<ClientSocket>>);

impl ClientSocket {
    /// The connection, for readiness and direct (non-library) writes.
    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// The write state; a poisoned lock only means a panic elsewhere, the
    /// state itself is always consistent between statements.
    fn state(&self) -> MutexGuard<'_, WriteState> {
        self.writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes out the tail of an earlier partial write, then holds library
    /// writes back until [`release`](Self::release). Ready only once the
    /// hold is taken, so a cancelled call leaves nothing held.
    pub(crate) fn poll_hold(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.state();
        if state.broken {
            return Poll::Ready(Err(broken()));
        }
        ready!(poll_tail(&self.tcp, &mut state, cx))?;
        state.held = true;
        Poll::Ready(Ok(()))
    }

    /// Holds library writes back (after the tail is out); see
    /// [`poll_hold`](Self::poll_hold).
    pub(crate) async fn hold(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_hold(cx)).await
    }

    /// Lets the library write again and wakes writers that waited.
    pub(crate) fn release(&self) {
        let waiting = {
            let mut state = self.state();
            state.held = false;
            std::mem::take(&mut state.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }

    /// Half-closes the connection, then reads and drops what the client
    /// still sends until it closes its side (see `relay::end::send_close`).
    /// Only for a connection the library no longer reads.
    pub(crate) async fn drain_until_closed(&self) -> io::Result<()> {
        shut_down_writes(&self.tcp)?;
        let mut dropped = [0u8; 16 * 1024];
        loop {
            self.tcp.readable().await?;
            match self.tcp.try_read(&mut dropped) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// Records that a direct frame was left unfinished: library writes fail
    /// from now on (the connection can only be dropped).
    pub(crate) fn break_framing(&self) {
        let waiting = {
            let mut state = self.state();
            state.broken = true;
            state.held = false;
            std::mem::take(&mut state.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }

    /// `Ready(Ok)` when library writes may go on now; otherwise registers
    /// the waker (held) or fails (broken).
    fn poll_writable_by_library(
        state: &mut WriteState,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        if state.broken {
            return Poll::Ready(Err(broken()));
        }
        if state.held {
            if !state.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                state.waiting.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }
}

/// The error of library writes after a direct frame was abandoned.
fn broken() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "a frame written directly was left unfinished",
    )
}

/// Half-closes `tcp` (a FIN to the client); a connection the client
/// already reset has nothing left to shut down.
fn shut_down_writes(tcp: &TcpStream) -> io::Result<()> {
    match socket2::SockRef::from(tcp).shutdown(std::net::Shutdown::Write) {
        Err(error) if error.kind() != io::ErrorKind::NotConnected => Err(error),
        _ => Ok(()),
    }
}

/// Writes as much of `buf` as the kernel takes now, waiting for readiness.
fn poll_send(tcp: &TcpStream, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    loop {
        ready!(tcp.poll_write_ready(cx))?;
        match tcp.try_write(buf) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            done => return Poll::Ready(done),
        }
    }
}

/// Writes out the tail of an earlier partial write.
fn poll_tail(
    tcp: &TcpStream,
    state: &mut WriteState,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while state.sent < state.tail.len() {
        let n = ready!(poll_send(tcp, cx, &state.tail[state.sent..]))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        state.sent += n;
    }
    state.tail.clear();
    state.sent = 0;
    Poll::Ready(Ok(()))
}

/// The stream hyper and tungstenite read and write: writes are accepted
/// whole (up to `tail_limit` beyond what the kernel took) or not at all.
#[derive(Debug)]
pub(crate) struct ClientStream {
    /// The shared connection.
    socket: Arc<ClientSocket>,
    /// Most bytes the write-behind may hold.
    tail_limit: usize,
    /// The connection's slots and first-head deadline (see `door.rs`);
    /// dropped with the connection, relay or not.
    ticket: Option<Ticket>,
}

impl ClientStream {
    /// Wraps an accepted connection.
    pub(crate) fn new(tcp: TcpStream, tail_limit: usize) -> ClientStream {
        ClientStream {
            socket: Arc::new(ClientSocket {
                tcp,
                writes: Mutex::new(WriteState::default()),
            }),
            tail_limit,
            ticket: None,
        }
    }

    /// Wraps an admitted connection, which keeps `ticket` while it lives.
    pub(crate) fn admitted(tcp: TcpStream, tail_limit: usize, ticket: Ticket) -> ClientStream {
        ClientStream {
            ticket: Some(ticket),
            ..ClientStream::new(tcp, tail_limit)
        }
    }

    /// A handle for direct frame writes, valid as long as this stream lives.
    pub(crate) fn handle(&self) -> Weak<ClientSocket> {
        Arc::downgrade(&self.socket)
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(ticket) = &mut this.ticket {
            ready!(ticket.poll_in_time(cx))?;
        }
        let tcp = &this.socket.tcp;
        loop {
            ready!(tcp.poll_read_ready(cx))?;
            match tcp.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
    }
}

impl ClientStream {
    /// `result` of a write, flush or shutdown, but an error once writes of
    /// a connection that is not a relay yet made no progress for the
    /// ticket's stall limit (a client that asks for a file and never reads
    /// it would otherwise hold its pending place for good).
    fn bound_stall<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match (&mut self.ticket, result) {
            (Some(ticket), Poll::Pending) => ticket.poll_write_stall(cx).map(Err),
            (Some(ticket), ready) => {
                ticket.write_moved();
                ready
            }
            (None, result) => result,
        }
    }

    fn poll_write_inner(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let socket = &*self.socket;
        let mut state = socket.state();
        ready!(ClientSocket::poll_writable_by_library(&mut state, cx))?;
        ready!(poll_tail(&socket.tcp, &mut state, cx))?;
        let written = ready!(poll_send(&socket.tcp, cx, buf))?;
        if written == 0 || written == buf.len() {
            return Poll::Ready(Ok(written));
        }
        let keep = (buf.len() - written).min(self.tail_limit);
        state.tail.extend_from_slice(&buf[written..written + keep]);
        Poll::Ready(Ok(written + keep))
    }

    fn poll_flush_inner(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.socket.state();
        // A direct frame starts only after the tail is out, so while one is
        // in progress there is nothing of ours left to flush.
        if state.broken {
            return Poll::Ready(Err(broken()));
        }
        poll_tail(&self.socket.tcp, &mut state, cx)
    }

    fn poll_shutdown_inner(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let socket = &*self.socket;
        let mut state = socket.state();
        // Shutting down mid-frame would cut the relay's frame short.
        ready!(ClientSocket::poll_writable_by_library(&mut state, cx))?;
        ready!(poll_tail(&socket.tcp, &mut state, cx))?;
        Poll::Ready(shut_down_writes(&socket.tcp))
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = this.poll_write_inner(cx, buf);
        this.bound_stall(cx, result)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = this.poll_flush_inner(cx);
        this.bound_stall(cx, result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = this.poll_shutdown_inner(cx);
        this.bound_stall(cx, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn bytes_arrive_in_order_through_partial_writes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            // Read slowly at first so the sender's writes come back partial.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let mut all = Vec::new();
            tcp.read_to_end(&mut all).await.unwrap();
            all
        });
        let mut stream = ClientStream::new(TcpStream::connect(addr).await.unwrap(), 300_000);
        let data: Vec<u8> = (0..20_000_000u32).map(|i| (i % 253) as u8).collect();
        for piece in data.chunks(1 << 20) {
            stream.write_all(piece).await.unwrap();
        }
        stream.shutdown().await.unwrap();
        drop(stream);
        assert!(reader.await.unwrap() == data);
    }

    #[tokio::test]
    async fn held_writes_wait_for_the_release_and_keep_their_order() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            tcp.read_to_end(&mut all).await.unwrap();
            all
        });
        let mut stream = ClientStream::new(TcpStream::connect(addr).await.unwrap(), 1024);
        let socket = stream.handle().upgrade().unwrap();
        stream.write_all(b"library-1 ").await.unwrap();
        socket.hold().await.unwrap();
        let held = tokio::spawn(async move {
            stream.write_all(b"library-2").await.unwrap();
            stream.shutdown().await.unwrap();
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!held.is_finished(), "a held write went through");
        socket.tcp().writable().await.unwrap();
        assert_eq!(socket.tcp().try_write(b"direct ").unwrap(), 7);
        socket.release();
        held.await.unwrap();
        drop(socket);
        assert_eq!(reader.await.unwrap(), b"library-1 direct library-2");
    }
}
