//! Why a relay ended, and the close frame that tells the client: the code
//! (from [`ferry_proto::close`], the table the clients read too) and a reason
//! in plain words, cut to fit the frame.

use super::classify::{describe_io_error, is_client_gone, is_invalid_utf8, is_message_too_big};
use super::RelayContext;
use crate::Limits;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use ferry_proto::close;
use futures_util::StreamExt;
use std::io;
use tokio::time::{timeout_at, Instant};

/// Longest close reason a close frame can carry (125 bytes minus the code).
const MAX_REASON_LEN: usize = 123;

/// Why a relay ended.
#[derive(Debug)]
pub(super) enum End {
    /// The client sent a close frame or its connection ended.
    ClientClosed,
    /// The client's WebSocket failed (protocol error, reset, message too big).
    ClientFailed(axum::Error),
    /// Writing a spliced frame to the client failed (the client is gone).
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
    pub(super) fn close_frame(&self, limits: &Limits) -> Option<(u16, String)> {
        match self {
            End::ClientClosed | End::ClientWriteFailed(_) => None,
            End::ClientFailed(error) if is_client_gone(error) => None,
            End::ClientFailed(error) if is_message_too_big(error) => Some((
                close::MESSAGE_TOO_BIG,
                format!("message larger than {} bytes", limits.max_message_size),
            )),
            End::ClientFailed(error) if is_invalid_utf8(error) => Some((
                close::INVALID_PAYLOAD,
                "text message is not valid UTF-8".into(),
            )),
            End::ClientFailed(_) => {
                Some((close::PROTOCOL_ERROR, "WebSocket protocol error".into()))
            }
            End::UpstreamClosed => Some((close::NORMAL, "upstream closed the connection".into())),
            End::UpstreamFailed(error) => Some((
                close::BAD_GATEWAY,
                format!("upstream connection failed: {}", describe_io_error(error)),
            )),
            End::Idle => Some((close::GOING_AWAY, "idle timeout".into())),
            End::Shutdown => Some((close::GOING_AWAY, "bridge shutting down".into())),
        }
    }

    /// Whether the client is leaving anyway: what the relay still owes it
    /// need not be sent, only a frame in progress finished.
    pub(super) fn client_leaving(&self) -> bool {
        matches!(
            self,
            End::ClientClosed | End::ClientFailed(_) | End::ClientWriteFailed(_)
        )
    }

    /// How the relay ended, for the log line.
    pub(super) fn describe(&self) -> String {
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

/// Sends a close frame and waits (bounded by the close timeout) for the
/// client's answer, so the client sees a clean close with our code rather
/// than a reset.
///
/// When no answer can come through the library (a frame over the limit
/// stops it mid-frame, and what follows cannot be parsed), the client may
/// still be sending: a browser finishes the message it is writing before it
/// answers. Dropping the socket then would reset it with unread bytes, and a
/// browser whose write meets the reset reports 1006 without reading our
/// code. So on plain TCP (`ctx.client`) the bridge half-closes and reads
/// and drops what still comes until the client closes its side, within the
/// same close timeout.
pub(super) async fn send_close(mut ws: WebSocket, code: u16, reason: &str, ctx: &RelayContext) {
    let deadline = Instant::now() + ctx.limits.close_timeout;
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(truncate(reason, MAX_REASON_LEN)),
    };
    let answered = timeout_at(deadline, async {
        if ws.send(Message::Close(Some(frame))).await.is_err() {
            return false;
        }
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return false,
            }
        }
    })
    .await
    .unwrap_or(false);
    if let (false, Some(client)) = (answered, &ctx.client) {
        let _ = timeout_at(deadline, client.drain_until_closed()).await;
    }
    // Only now: the connection closes with the WebSocket, so not before the drain.
    drop(ws);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_fit_a_close_frame() {
        let long = "ü".repeat(100);
        let cut = truncate(&long, MAX_REASON_LEN);
        assert!(cut.len() <= MAX_REASON_LEN && cut.chars().all(|c| c == 'ü'));
        assert_eq!(truncate("short", MAX_REASON_LEN), "short");
    }
}
