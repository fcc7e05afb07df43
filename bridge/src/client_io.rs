//! The client-facing socket, with a bounded write-behind for the tail of a
//! partial write.
//!
//! tungstenite writes its whole output buffer and, when the kernel takes only
//! part of it, moves the rest to the front of the buffer (`Vec::drain`); with
//! large messages and a busy socket that is a memmove per partial write and
//! was a fifth of the bridge's CPU time during downloads. Here the tail of a
//! partial write is copied once into `tail` and written from an offset, and
//! the next write waits until the tail is gone, so backpressure is unchanged
//! and the extra memory is at most `tail_limit` bytes.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream whose writes are accepted whole (up to `tail_limit` beyond
/// what the kernel took) or not at all.
#[derive(Debug)]
pub(crate) struct ClientStream {
    /// The accepted connection.
    tcp: TcpStream,
    /// Bytes already reported as written but not yet taken by the kernel.
    tail: Vec<u8>,
    /// How much of `tail` has been written since.
    sent: usize,
    /// Most bytes `tail` may hold.
    tail_limit: usize,
}

impl ClientStream {
    /// Wraps an accepted connection.
    pub(crate) fn new(tcp: TcpStream, tail_limit: usize) -> ClientStream {
        ClientStream {
            tcp,
            tail: Vec::new(),
            sent: 0,
            tail_limit,
        }
    }

    /// Writes out the tail of an earlier partial write.
    fn poll_tail(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.tail.len() {
            let n = ready!(Pin::new(&mut self.tcp).poll_write(cx, &self.tail[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.tail.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_tail(cx))?;
        let written = ready!(Pin::new(&mut this.tcp).poll_write(cx, buf))?;
        if written == 0 || written == buf.len() {
            return Poll::Ready(Ok(written));
        }
        let keep = (buf.len() - written).min(this.tail_limit);
        this.tail.extend_from_slice(&buf[written..written + keep]);
        Poll::Ready(Ok(written + keep))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_tail(cx))?;
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_tail(cx))?;
        Pin::new(&mut self.tcp).poll_shutdown(cx)
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
}
