//! Server → client: upstream bytes sent as binary messages, on one of two
//! paths, and the keepalive pings.
//!
//! A download starts on the copy path: each read becomes one message, and the
//! read size starts at [`FIRST_READ`] and doubles whenever a read fills it, up
//! to `relay_chunk_size`, so bulk transfers get large messages (fewer wakeups
//! and system calls per byte) and idle sessions keep small buffers. The first
//! full read of [`SPLICE_AFTER`] bytes marks a bulk download: where the client
//! socket allows it, the download switches to the splice path for good.
//!
//! The state of either path lives in [`Download`], outside the future that
//! runs it, so a relay whose other direction ended can still finish a frame
//! in progress ([`Download::settle`]) before its close frame.

use super::end::End;
use super::pipe;
use super::splice::DirectFrames;
use super::traffic::Traffic;
use crate::client_io::ClientSocket;
use crate::Limits;
use axum::extract::ws::{Message, WebSocket};
use bytes::BytesMut;
use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::ReadHalf;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// The client side of a relay, as the download writes to it.
pub(super) type ClientSink = SplitSink<WebSocket, Message>;

/// First read size of a relay: small, so idle relays stay small.
const FIRST_READ: usize = 16 << 10;

/// A read that fills this much marks a bulk download: from then on the relay
/// splices (where it can). Replies and listings stay on the copy path, which
/// needs fewer system calls for small messages and no pipe.
const SPLICE_AFTER: usize = 64 << 10;

/// The path a download is on.
pub(super) enum Download {
    /// Through user space, one message per read.
    Copy(Copier),
    /// Spliced into the client socket, after a bulk read on plain TCP.
    Splice(DirectFrames),
}

/// The copy path's state.
pub(super) struct Copier {
    /// Receives each read; its allocation is reused once the library let go
    /// of the previous chunk.
    buf: BytesMut,
    /// Size of the next read.
    read_size: usize,
    /// The client's socket, while a switch to splicing is still possible.
    client: Option<Arc<ClientSocket>>,
}

impl Download {
    /// A download on the copy path; `client` is the socket it may splice
    /// into later (`None` on TLS).
    pub(super) fn new(client: Option<Arc<ClientSocket>>, limits: &Limits) -> Download {
        Download::Copy(Copier {
            buf: BytesMut::new(),
            read_size: FIRST_READ.min(limits.relay_chunk_size),
            client,
        })
    }

    /// Copies upstream bytes to the client and sends the pings until either
    /// side ends.
    pub(super) async fn run(
        &mut self,
        tcp: &mut ReadHalf<'_>,
        ws: &mut ClientSink,
        traffic: &Traffic,
        limits: &Limits,
    ) -> End {
        let mut pings = Pings::new(limits.ping_interval);
        loop {
            let step = match self {
                Download::Copy(copier) => copier.step(tcp, ws, traffic, &mut pings, limits).await,
                Download::Splice(frames) => frames
                    .step(tcp, ws, traffic, &mut pings)
                    .await
                    .map(|()| None),
            };
            match step {
                Ok(Some(frames)) => *self = Download::Splice(frames),
                Ok(None) => {}
                Err(end) => return end,
            }
        }
    }

    /// After the relay's directions stopped: lets the splice path finish
    /// what it owes the client (see [`DirectFrames::settle`]); the copy path
    /// owes nothing.
    pub(super) async fn settle(&mut self, end: &End, wait: Duration) {
        if let Download::Splice(frames) = self {
            frames.settle(end, wait).await;
        }
    }
}

impl Copier {
    /// One read sent as one message, or one ping. Returns the splicer to
    /// switch to after a bulk read, when one could be made.
    async fn step(
        &mut self,
        tcp: &mut ReadHalf<'_>,
        ws: &mut ClientSink,
        traffic: &Traffic,
        pings: &mut Pings,
        limits: &Limits,
    ) -> Result<Option<DirectFrames>, End> {
        // Reclaims the previous chunk's allocation once the library let go of it.
        self.buf.reserve(self.read_size);
        let mut limited = (&mut *tcp).take(self.read_size as u64);
        tokio::select! {
            biased;
            read = limited.read_buf(&mut self.buf) => {
                let n = upstream_bytes(read)?;
                let data = self.buf.split().freeze();
                ws.send(Message::Binary(data)).await.map_err(End::ClientFailed)?;
                traffic.count_down(n);
                if n == self.read_size {
                    let splice = self.switch(limits);
                    self.read_size = (self.read_size * 2).min(limits.relay_chunk_size);
                    return Ok(splice);
                }
                Ok(None)
            },
            () = pings.tick() => pings.send(ws).await.map(|()| None),
        }
    }

    /// After a full read: the splicer for this client once reads are bulk,
    /// when the connection allows it. Tried once; a failure to make the pipe
    /// (descriptor limits) only means the relay keeps copying.
    fn switch(&mut self, limits: &Limits) -> Option<DirectFrames> {
        if self.read_size < SPLICE_AFTER || !pipe::SPLICE_EXISTS {
            return None;
        }
        let client = self.client.take()?;
        match DirectFrames::new(client, limits.splice_pipe_size()) {
            Ok(frames) => Some(frames),
            Err(error) => {
                tracing::debug!("no pipe for splicing, copying instead: {error}");
                None
            }
        }
    }
}

/// The bytes an upstream read moved; end of file or a failure ends the relay.
pub(super) fn upstream_bytes(read: io::Result<usize>) -> Result<usize, End> {
    match read {
        Ok(0) => Err(End::UpstreamClosed),
        Ok(n) => Ok(n),
        Err(error) => Err(End::UpstreamFailed(error)),
    }
}

/// The keepalive pings to the client, if any.
pub(super) struct Pings(Option<Interval>);

impl Pings {
    /// Pings every `period` (the first one `period` from now), or never.
    fn new(period: Option<Duration>) -> Pings {
        Pings(period.map(|period| {
            let mut interval = tokio::time::interval_at(Instant::now() + period, period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        }))
    }

    /// The next ping is due; never when there are none.
    pub(super) async fn tick(&mut self) {
        match &mut self.0 {
            Some(interval) => {
                interval.tick().await;
            }
            None => std::future::pending().await,
        }
    }

    /// Sends one ping.
    pub(super) async fn send(&self, ws: &mut ClientSink) -> Result<(), End> {
        ws.send(Message::Ping(Default::default()))
            .await
            .map_err(End::ClientFailed)
    }
}
