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
//! ([`download`], [`splice`]): the payload then stays in the kernel (one pipe
//! of at most [`Limits::splice_pipe_size`] per relay) and the same
//! one-frame-at-a-time rule keeps backpressure.
//!
//! The files: this one runs a relay from connect to close; [`connect`]
//! opens the TCP side (with `--proxy-protocol`, a PROXY header first); [`upload`] and
//! [`download`] are the two directions, [`splice`] (with the Linux system
//! calls in [`pipe`]) the zero-copy download path, [`watch`] the idle and
//! shutdown timers over the [`traffic`] counters, and [`end`] turns why a
//! relay ended into its close frame, with [`classify`] reading the errors.

mod classify;
mod connect;
mod download;
mod end;
mod pipe;
mod splice;
mod traffic;
mod upload;
mod watch;

use crate::client_io::ClientSocket;
use crate::target::Refusal;
use crate::Limits;
use axum::extract::ws::WebSocket;
pub(crate) use connect::Announce;
use download::Download;
use end::send_close;
use ferry_proto::close;
use ferry_proto::HostPort;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::{timeout, Instant};
use tokio_util::sync::CancellationToken;
use traffic::Traffic;

/// What a relay needs besides its WebSocket.
pub(crate) struct RelayContext {
    /// The client's socket address, for the log line and the PROXY header.
    pub peer: SocketAddr,
    /// Whether the TCP side begins with a PROXY header naming `peer`.
    pub announce: Announce,
    /// What the request asked for (the `target` query, or the upstream).
    pub requested: String,
    /// Limits and timeouts.
    pub limits: Limits,
    /// Cancelled when the bridge shuts down.
    pub shutdown: CancellationToken,
    /// The client's socket for direct (spliced) frames; `None` on TLS.
    pub client: Option<Arc<ClientSocket>>,
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
            send_close(ws, close::POLICY_VIOLATION, &refusal.0, &ctx).await;
            tracing::info!(%peer, target = requested, "relay refused: {refusal}");
            return;
        }
    };
    let connected = tokio::select! {
        connected = connect::connect(&target, peer, ctx.announce, &ctx.limits) => connected,
        () = ctx.shutdown.cancelled() => {
            send_close(ws, close::GOING_AWAY, "bridge shutting down", &ctx).await;
            return;
        }
    };
    let mut tcp = match connected {
        Ok(tcp) => tcp,
        Err(why) => {
            let reason = format!("upstream {target} unreachable: {why}");
            send_close(ws, close::BAD_GATEWAY, &reason, &ctx).await;
            tracing::info!(%peer, %target, "relay failed: {reason}");
            return;
        }
    };

    let traffic = Traffic::new();
    let (mut ws_tx, mut ws_rx) = ws.split();
    let mut download = Download::new(ctx.client.clone(), &ctx.limits);
    let end = {
        let (mut tcp_rx, mut tcp_tx) = tcp.split();
        tokio::select! {
            end = upload::run(&mut ws_rx, &mut tcp_tx, &traffic) => end,
            end = download.run(&mut tcp_rx, &mut ws_tx, &traffic, &ctx.limits) => end,
            end = watch::run(&traffic, &ctx.limits, &ctx.shutdown) => end,
        }
    };
    download.settle(&end, ctx.limits.close_timeout).await;
    // Its read buffer or pipe is not needed for the close.
    drop(download);
    // Closing the TCP side first: a client that left must not keep the
    // server's connection (and its slot) open while we finish up.
    drop(tcp);
    let ws = ws_tx.reunite(ws_rx).expect("halves of the same WebSocket");
    match end.close_frame(&ctx.limits) {
        Some((code, reason)) => send_close(ws, code, &reason, &ctx).await,
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
        bytes_up = traffic.up(),
        bytes_down = traffic.down(),
        end = %end.describe(),
        "relay closed"
    );
}
