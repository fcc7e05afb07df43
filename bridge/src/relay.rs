//! One relay: a WebSocket on one side, a TCP connection on the other, bytes
//! copied both ways without looking at them.
//!
//! Both directions run in one task as futures selected together, each with
//! direct awaits and no queue in between: a read from one side is written to
//! the other before the next read. So a side that stops reading stops the
//! other side's reads too (backpressure reaches the sender through TCP flow
//! control), and the relay never holds more than one chunk per direction plus
//! the WebSocket library's bounded buffers ([`Limits::relay_memory_bound`]).
//!
//! Downloads on plain TCP under Linux switch to splicing once they are bulk
//! (`splice.rs`): the payload then stays in the kernel (one pipe of at most
//! [`Limits::splice_pipe_size`] per relay) and the same one-frame-at-a-time
//! rule keeps backpressure.

use crate::client_io::ClientSocket;
#[cfg(target_os = "linux")]
use crate::splice::DirectFrames;
use crate::target::Refusal;
use crate::Limits;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::BytesMut;
use ferry_proto::HostPort;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};
use tokio_util::sync::CancellationToken;

/// WebSocket close codes the bridge sends (RFC 6455 §7.4).
pub mod close_code {
    /// The upstream server closed the connection (e.g. after `QUIT`).
    pub const NORMAL: u16 = 1000;
    /// The bridge is shutting down, or the relay was idle too long.
    pub const GOING_AWAY: u16 = 1001;
    /// The client sent something that is not a WebSocket data message we relay.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text message was not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// The requested target is not on the allowlist.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A client message was larger than `max_message_size`.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The upstream server could not be reached, or its connection failed.
    pub const BAD_GATEWAY: u16 = 1014;
}

/// Longest close reason a close frame can carry (125 bytes minus the code).
const MAX_REASON_LEN: usize = 123;

/// What a relay needs besides its WebSocket.
pub(crate) struct RelayContext {
    /// The client's socket address, for the log line.
    pub peer: SocketAddr,
    /// What the request asked for (the `target` query, or the upstream).
    pub requested: String,
    /// Limits and timeouts.
    pub limits: Limits,
    /// Cancelled when the bridge shuts down.
    pub shutdown: CancellationToken,
    /// The client's socket for direct (spliced) frames; `None` on TLS.
    pub client: Option<Arc<ClientSocket>>,
}

/// Byte counts and the time of the last byte, shared by both directions.
struct Traffic {
    /// When the relay started moving bytes.
    started: Instant,
    /// Bytes from the client to the server.
    up: AtomicU64,
    /// Bytes from the server to the client.
    down: AtomicU64,
    /// Milliseconds after `started` when bytes last moved.
    last_ms: AtomicU64,
}

impl Traffic {
    /// Zero bytes, starting now.
    fn new() -> Traffic {
        Traffic {
            started: Instant::now(),
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            last_ms: AtomicU64::new(0),
        }
    }

    /// Counts `n` bytes on `counter` and notes the time.
    fn moved(&self, counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
        let now = self.started.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// How long no byte has moved either way.
    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }
}

/// Why a relay ended.
#[derive(Debug)]
enum End {
    /// The client sent a close frame or its connection ended.
    ClientClosed,
    /// The client's WebSocket failed (protocol error, reset, message too big).
    ClientFailed(axum::Error),
    /// Writing a spliced frame to the client failed (the client is gone).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    ClientWriteFailed(io::Error),
    /// The upstream closed its side (end of file).
    UpstreamClosed,
    /// Reading from or writing to the upstream failed.
    UpstreamFailed(io::Error),
    /// No bytes moved for the idle timeout.
    Idle,
    /// The bridge is shutting down.
    Shutdown,
}

impl End {
    /// The close frame to send the client, if one is still due.
    fn close_frame(&self, limits: &Limits) -> Option<(u16, String)> {
        match self {
            End::ClientClosed | End::ClientWriteFailed(_) => None,
            End::ClientFailed(error) if is_client_gone(error) => None,
            End::ClientFailed(error) if is_message_too_big(error) => Some((
                close_code::MESSAGE_TOO_BIG,
                format!("message larger than {} bytes", limits.max_message_size),
            )),
            End::ClientFailed(error) if is_invalid_utf8(error) => Some((
                close_code::INVALID_PAYLOAD,
                "text message is not valid UTF-8".into(),
            )),
            End::ClientFailed(_) => Some((
                close_code::PROTOCOL_ERROR,
                "WebSocket protocol error".into(),
            )),
            End::UpstreamClosed => {
                Some((close_code::NORMAL, "upstream closed the connection".into()))
            }
            End::UpstreamFailed(error) => Some((
                close_code::BAD_GATEWAY,
                format!("upstream connection failed: {}", describe_io_error(error)),
            )),
            End::Idle => Some((close_code::GOING_AWAY, "idle timeout".into())),
            End::Shutdown => Some((close_code::GOING_AWAY, "bridge shutting down".into())),
        }
    }

    /// How the relay ended, for the log line.
    fn describe(&self) -> String {
        match self {
            End::ClientClosed => "client closed".into(),
            End::ClientFailed(error) if is_client_gone(error) => {
                "client left without a close frame".into()
            }
            End::ClientFailed(error) => format!("client failed: {error}"),
            End::ClientWriteFailed(error) => {
                format!("client failed: {}", describe_io_error(error))
            }
            End::UpstreamClosed => "upstream closed".into(),
            End::UpstreamFailed(error) => format!("upstream failed: {}", describe_io_error(error)),
            End::Idle => "idle timeout".into(),
            End::Shutdown => "shutdown".into(),
        }
    }
}

/// Runs one relay to its end: refuses, or connects and copies, then closes
/// both sides and logs one line.
pub(crate) async fn run(ws: WebSocket, target: Result<HostPort, Refusal>, ctx: RelayContext) {
    let started = Instant::now();
    let peer = ctx.peer;
    let requested = ctx.requested.as_str();
    let target = match target {
        Ok(target) => target,
        Err(refusal) => {
            close(
                ws,
                close_code::POLICY_VIOLATION,
                &refusal.0,
                ctx.limits.close_timeout,
            )
            .await;
            tracing::info!(%peer, target = requested, "relay refused: {refusal}");
            return;
        }
    };
    let connected = tokio::select! {
        connected = timeout(ctx.limits.connect_timeout, TcpStream::connect((target.host(), target.port()))) => connected,
        () = ctx.shutdown.cancelled() => {
            close(ws, close_code::GOING_AWAY, "bridge shutting down", ctx.limits.close_timeout).await;
            return;
        }
    };
    let mut tcp = match connected {
        Ok(Ok(tcp)) => tcp,
        failed => {
            let why = match failed {
                Ok(Err(error)) => describe_io_error(&error),
                _ => "connection timed out".to_owned(),
            };
            let reason = format!("upstream {target} unreachable: {why}");
            close(
                ws,
                close_code::BAD_GATEWAY,
                &reason,
                ctx.limits.close_timeout,
            )
            .await;
            tracing::info!(%peer, %target, "relay failed: {reason}");
            return;
        }
    };
    // Commands and replies are small and latency-bound.
    let _ = tcp.set_nodelay(true);

    let traffic = Traffic::new();
    let (mut ws_tx, mut ws_rx) = ws.split();
    let mut direct = Direct {
        client: ctx.client.clone(),
        frames: None,
    };
    let end = {
        let (mut tcp_rx, mut tcp_tx) = tcp.split();
        tokio::select! {
            end = client_to_upstream(&mut ws_rx, &mut tcp_tx, &traffic) => end,
            end = upstream_to_client(&mut tcp_rx, &mut ws_tx, &traffic, &ctx.limits, &mut direct) => end,
            end = watch(&traffic, &ctx.limits, &ctx.shutdown) => end,
        }
    };
    direct.settle(&end, ctx.limits.close_timeout).await;
    // Closing the TCP side first: a client that left must not keep the
    // server's connection (and its slot) open while we finish up.
    drop(tcp);
    let ws = ws_tx.reunite(ws_rx).expect("halves of the same WebSocket");
    match end.close_frame(&ctx.limits) {
        Some((code, reason)) => close(ws, code, &reason, ctx.limits.close_timeout).await,
        None => {
            // The peer's close frame was answered by the library; flush it.
            let mut ws = ws;
            let _ = timeout(ctx.limits.close_timeout, ws.close()).await;
        }
    }
    tracing::info!(
        %peer,
        %target,
        duration_ms = started.elapsed().as_millis() as u64,
        bytes_up = traffic.up.load(Ordering::Relaxed),
        bytes_down = traffic.down.load(Ordering::Relaxed),
        end = %end.describe(),
        "relay closed"
    );
}

/// Copies client messages to the upstream: binary as they are, text as its
/// UTF-8 bytes. Each message is written completely before the next is read.
async fn client_to_upstream(
    ws: &mut SplitStream<WebSocket>,
    tcp: &mut WriteHalf<'_>,
    traffic: &Traffic,
) -> End {
    while let Some(message) = ws.next().await {
        let data = match message {
            Ok(Message::Binary(data)) => data,
            Ok(Message::Text(text)) => text.into(),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) => return End::ClientClosed,
            Err(error) => return End::ClientFailed(error),
        };
        if let Err(error) = tcp.write_all(&data).await {
            return End::UpstreamFailed(error);
        }
        traffic.moved(&traffic.up, data.len());
    }
    End::ClientClosed
}

/// First read size of a relay: small, so idle relays stay small.
const FIRST_READ: usize = 16 << 10;

/// A read that fills this much marks a bulk download: from then on the relay
/// splices (where it can). Replies and listings stay on the copy path, which
/// needs fewer system calls for small messages and no pipe.
#[cfg(target_os = "linux")]
const SPLICE_AFTER: usize = 64 << 10;

/// Downloads written directly to the client socket (Linux, plain TCP).
struct Direct {
    /// The client's socket, when frames may be written to it directly.
    client: Option<Arc<ClientSocket>>,
    /// The splicer, once a bulk download started.
    #[cfg(target_os = "linux")]
    frames: Option<DirectFrames>,
    /// Never set where splicing does not exist.
    #[cfg(not(target_os = "linux"))]
    frames: Option<std::convert::Infallible>,
}

impl Direct {
    /// Switches to splicing after a full read of `read_size` bytes, when
    /// the connection allows it. A failure to make the pipe (descriptor
    /// limits) only means the relay keeps copying.
    #[cfg(target_os = "linux")]
    fn maybe_start(&mut self, read_size: usize, limits: &Limits) {
        if read_size < SPLICE_AFTER || self.frames.is_some() {
            return;
        }
        let Some(client) = self.client.take() else {
            return;
        };
        match DirectFrames::new(client, limits.splice_pipe_size()) {
            Ok(frames) => self.frames = Some(frames),
            Err(error) => tracing::debug!("no pipe for splicing, copying instead: {error}"),
        }
    }

    /// Splicing does not exist here: the relay always copies.
    #[cfg(not(target_os = "linux"))]
    fn maybe_start(&mut self, _read_size: usize, _limits: &Limits) {
        let _ = &self.client;
    }

    /// After the relay's directions stopped: finishes a spliced frame that
    /// was interrupted (and, unless the client is closing, sends what the
    /// pipe still holds), so the close frame that follows is well framed.
    /// If that does not work within `wait`, the connection cannot carry a
    /// close frame any more and later library writes fail.
    async fn settle(&mut self, end: &End, wait: Duration) {
        #[cfg(target_os = "linux")]
        if let Some(frames) = &mut self.frames {
            let client_leaving = matches!(
                end,
                End::ClientClosed | End::ClientFailed(_) | End::ClientWriteFailed(_)
            );
            let owed = if client_leaving {
                frames.in_frame()
            } else {
                frames.owes_bytes()
            };
            if owed && !matches!(timeout(wait, frames.flush()).await, Ok(Ok(()))) {
                frames.abandon();
            }
            frames.abandon();
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (end, wait);
    }
}

/// Copies upstream bytes to the client, one binary message per read, and
/// sends the keepalive pings.
///
/// The read size starts at [`FIRST_READ`] and doubles whenever a read fills
/// it, up to `relay_chunk_size`: bulk transfers get large messages (fewer
/// wakeups and syscalls per byte), idle sessions keep small buffers.
async fn upstream_to_client(
    tcp: &mut ReadHalf<'_>,
    ws: &mut SplitSink<WebSocket, Message>,
    traffic: &Traffic,
    limits: &Limits,
    direct: &mut Direct,
) -> End {
    let max_read = limits.relay_chunk_size;
    let mut read_size = FIRST_READ.min(max_read);
    let mut pings = limits.ping_interval.map(|period| {
        let mut interval = tokio::time::interval_at(Instant::now() + period, period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    let mut buf = BytesMut::new();
    loop {
        #[cfg(target_os = "linux")]
        if let Some(frames) = &mut direct.frames {
            // Only the wait for upstream bytes races the pings: a frame,
            // once started, is finished before anything else is written.
            tokio::select! {
                biased;
                filled = frames.fill(tcp.as_ref()) => match filled {
                    Ok(0) => return End::UpstreamClosed,
                    Ok(n) => {
                        if let Err(error) = frames.flush().await {
                            return End::ClientWriteFailed(error);
                        }
                        traffic.moved(&traffic.down, n);
                    }
                    Err(error) => return End::UpstreamFailed(error),
                },
                () = next_tick(&mut pings) => {
                    if let Err(error) = ws.send(Message::Ping(Default::default())).await {
                        return End::ClientFailed(error);
                    }
                }
            }
            continue;
        }
        // Reclaims the previous chunk's allocation once the library let go of it.
        buf.reserve(read_size);
        let mut limited = (&mut *tcp).take(read_size as u64);
        tokio::select! {
            biased;
            read = limited.read_buf(&mut buf) => match read {
                Ok(0) => return End::UpstreamClosed,
                Ok(n) => {
                    let data = buf.split().freeze();
                    if let Err(error) = ws.send(Message::Binary(data)).await {
                        return End::ClientFailed(error);
                    }
                    traffic.moved(&traffic.down, n);
                    if n == read_size {
                        direct.maybe_start(read_size, limits);
                        read_size = (read_size * 2).min(max_read);
                    }
                }
                Err(error) => return End::UpstreamFailed(error),
            },
            () = next_tick(&mut pings) => {
                if let Err(error) = ws.send(Message::Ping(Default::default())).await {
                    return End::ClientFailed(error);
                }
            }
        }
    }
}

/// The next tick of `interval`, or never when there is none.
async fn next_tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Ends the relay when no bytes moved for the idle timeout, or, once the
/// bridge shuts down, as soon as the relay is quiet (or the grace is over).
async fn watch(traffic: &Traffic, limits: &Limits, shutdown: &CancellationToken) -> End {
    let idle = async {
        let Some(idle_timeout) = limits.idle_timeout else {
            return std::future::pending().await;
        };
        loop {
            let quiet = traffic.quiet_for();
            if quiet >= idle_timeout {
                return;
            }
            tokio::time::sleep(idle_timeout - quiet).await;
        }
    };
    let drained = async {
        shutdown.cancelled().await;
        let deadline = Instant::now() + limits.shutdown_grace;
        loop {
            let quiet = traffic.quiet_for();
            let now = Instant::now();
            if quiet >= limits.shutdown_quiet || now >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.min(now + (limits.shutdown_quiet - quiet))).await;
        }
    };
    tokio::select! {
        () = idle => End::Idle,
        () = drained => End::Shutdown,
    }
}

/// Sends a close frame and waits (bounded) for the client's answer, so the
/// client sees a clean close with our code rather than a reset.
async fn close(mut ws: WebSocket, code: u16, reason: &str, wait: Duration) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(truncate(reason, MAX_REASON_LEN)),
    };
    let _ = timeout(wait, async {
        if ws.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Close(_) = message {
                break;
            }
        }
    })
    .await;
}

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// "connection refused" rather than "Connection refused (os error 111)".
fn describe_io_error(error: &io::Error) -> String {
    let text = error.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => error.kind().to_string(),
    }
}

/// The WebSocket library's own error inside axum's.
fn library_error(error: &axum::Error) -> Option<&tungstenite::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if let Some(error) = error.downcast_ref::<tungstenite::Error>() {
            return Some(error);
        }
        source = error.source();
    }
    None
}

/// Whether the WebSocket library refused a message or frame over the limit.
fn is_message_too_big(error: &axum::Error) -> bool {
    matches!(library_error(error), Some(tungstenite::Error::Capacity(_)))
}

/// Whether the client's connection is gone (reset, or closed without a
/// close frame): no close frame can be sent any more.
fn is_client_gone(error: &axum::Error) -> bool {
    use tungstenite::error::ProtocolError;
    matches!(
        library_error(error),
        Some(
            tungstenite::Error::Io(_)
                | tungstenite::Error::ConnectionClosed
                | tungstenite::Error::AlreadyClosed
                | tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)
        )
    )
}

/// Whether the client sent a text message that is not UTF-8.
fn is_invalid_utf8(error: &axum::Error) -> bool {
    matches!(library_error(error), Some(tungstenite::Error::Utf8(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_as_plain_words() {
        let refused = io::Error::from_raw_os_error(111);
        assert_eq!(describe_io_error(&refused), "connection refused");
        let custom = io::Error::other("Failed to lookup address information: x");
        assert_eq!(
            describe_io_error(&custom),
            "failed to lookup address information: x"
        );
    }

    #[test]
    fn reasons_fit_a_close_frame() {
        let long = "ü".repeat(100);
        let cut = truncate(&long, MAX_REASON_LEN);
        assert!(cut.len() <= MAX_REASON_LEN && cut.chars().all(|c| c == 'ü'));
        assert_eq!(truncate("short", MAX_REASON_LEN), "short");
    }
}
