//! The measuring client over TCP: ferry-client's own [`Session`] (the one
//! driving loop every client uses), discarding downloaded bytes instead of
//! storing them so the figures are the server's and the network's, not a
//! client disk's.

use anyhow::{Context, Result};
use bytes::Bytes;
use ferry_client::{Session, SessionOptions, TcpTransport, Transfer, TransferProgress, Transport};
use ferry_proto::{Path, Read, Retrieve};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::TcpStream;

/// Receive buffer size; large, as any bulk-transfer client would use.
const RECV_BUF: usize = 256 * 1024;

/// Size of one upload write over TCP: the whole data block.
const UPLOAD_WRITE: usize = crate::fixture::BLOCK;

/// One connected, greeted session.
pub struct BenchClient {
    session: Session<TcpTransport>,
}

impl BenchClient {
    /// Connects and waits for the `220` greeting.
    pub async fn connect(addr: SocketAddr) -> Result<BenchClient> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect {addr}"))?;
        let transport = TcpTransport::with_read_size(stream, RECV_BUF);
        let options = bench_options(UPLOAD_WRITE);
        Ok(BenchClient {
            session: greet(transport, addr.to_string(), options).await?,
        })
    }

    /// `RETRIEVE name`, data discarded; returns the byte count.
    pub async fn retrieve(&mut self, name: &str) -> Result<u64> {
        retrieve_discarding(&mut self.session, name).await
    }

    /// `RETRIEVE path` (a path in a directory, version 2), data discarded;
    /// returns the byte count.
    pub async fn retrieve_path(&mut self, path: &str) -> Result<u64> {
        let exchange = Retrieve(Path::new(path)?);
        self.fetch_discarding(&exchange).await
    }

    /// `READ offset length path`, data discarded; returns the byte count.
    pub async fn read(&mut self, path: &str, offset: u64, length: u64) -> Result<u64> {
        let exchange = Read {
            path: Path::new(path)?,
            offset,
            length,
        };
        self.fetch_discarding(&exchange).await
    }

    async fn fetch_discarding<E: ferry_proto::Exchange<Success = ()>>(
        &mut self,
        exchange: &E,
    ) -> Result<u64> {
        let mut counted = Counted(0);
        let mut sink = tokio::io::sink();
        self.session
            .run(exchange, Transfer::Sink(&mut sink), &mut counted)
            .await
            .with_context(|| exchange.command().to_string())?;
        Ok(counted.0)
    }

    /// `STORE size name`, sending `block` repeatedly.
    pub async fn store(&mut self, name: &str, size: u64, block: &[u8]) -> Result<()> {
        store_repeating(&mut self.session, name, size, Bytes::copy_from_slice(block)).await
    }

    /// `LIST`; returns the number of files listed.
    pub async fn list(&mut self) -> Result<usize> {
        Ok(self.session.list(None).await?.len())
    }

    /// `LIST <dir>`; returns the number of entries listed.
    pub async fn list_dir(&mut self, dir: &str) -> Result<usize> {
        let dir = Path::new(dir)?;
        Ok(self.session.list(Some(&dir)).await?.len())
    }
}

/// Session options for measuring: the defaults, with uploads written
/// `upload_chunk` bytes at a time.
pub(crate) fn bench_options(upload_chunk: usize) -> SessionOptions {
    SessionOptions {
        upload_chunk,
        ..SessionOptions::default()
    }
}

/// Waits for the greeting on `transport`.
pub(crate) async fn greet<T: Transport>(
    transport: T,
    peer: String,
    options: SessionOptions,
) -> Result<Session<T>> {
    let shown = peer.clone();
    Session::start(transport, peer, options)
        .await
        .with_context(|| format!("greeting from {shown}"))
}

/// `RETRIEVE name` into [`tokio::io::sink`]; returns the byte count.
pub(crate) async fn retrieve_discarding<T: Transport>(
    session: &mut Session<T>,
    name: &str,
) -> Result<u64> {
    let name = Path::new(name)?;
    let received = session
        .retrieve(&name, &mut tokio::io::sink(), &mut ())
        .await
        .with_context(|| format!("RETRIEVE {name}"))?;
    Ok(received)
}

/// `STORE size name` with `block` repeated as the file's bytes.
pub(crate) async fn store_repeating<T: Transport>(
    session: &mut Session<T>,
    name: &str,
    size: u64,
    block: Bytes,
) -> Result<()> {
    let name = Path::new(name)?;
    let mut source = Repeating { block, at: 0 };
    session
        .store(&name, size, &mut source, &mut ())
        .await
        .with_context(|| format!("STORE {size} {name}"))
}

/// Counts the bytes a transfer moved.
struct Counted(u64);

impl TransferProgress for Counted {
    fn advance(&mut self, bytes: u64) {
        self.0 += bytes;
    }
}

/// An endless reader of one block, over and over.
struct Repeating {
    block: Bytes,
    at: usize,
}

impl AsyncRead for Repeating {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.block.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let at = self.at;
        let n = buf.remaining().min(self.block.len() - at);
        buf.put_slice(&self.block[at..at + n]);
        self.at = (at + n) % self.block.len();
        Poll::Ready(Ok(()))
    }
}
