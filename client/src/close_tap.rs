//! A read-only tap under the WebSocket that keeps the code and reason of a
//! bridge's first close frame.
//!
//! Why: tungstenite (up to at least 0.30, tungstenite-rs issue 502) treats
//! close code 1014, which the bridge sends when it cannot reach the server,
//! as invalid and hands the application `1002 "Protocol violation"` instead,
//! dropping the bridge's reason. The bridge sends 1008 and 1014 as the first
//! frame after the upgrade, so watching the bytes up to the end of that frame
//! recovers both. Frame headers are read with tungstenite's own
//! [`FrameHeader::parse`]; the tap never changes a byte, and it stops
//! looking after the first frame.

use std::io::Cursor;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

/// Most bytes kept while looking for the end of the HTTP response head.
const MAX_HEAD: usize = 16 * 1024;
/// A close frame's payload is at most 125 bytes (control frame limit).
const MAX_CONTROL_PAYLOAD: u64 = 125;

/// The close code and reason seen on the wire, shared with the transport.
pub(crate) type TappedClose = Arc<Mutex<Option<(u16, String)>>>;

#[derive(Debug)]
enum Watch {
    /// Reading the HTTP response head, up to its empty line.
    Head,
    /// Reading the first WebSocket frame.
    FirstFrame,
    /// Done: nothing more is looked at.
    Done,
}

/// Wraps a stream; see the module documentation.
#[derive(Debug)]
pub(crate) struct CloseTap<S> {
    inner: S,
    watch: Watch,
    seen: Vec<u8>,
    found: TappedClose,
}

impl<S> CloseTap<S> {
    /// Taps `inner`; a first close frame is stored in `found`.
    pub(crate) fn new(inner: S, found: TappedClose) -> CloseTap<S> {
        CloseTap {
            inner,
            watch: Watch::Head,
            seen: Vec::new(),
            found,
        }
    }

    /// Looks at bytes just read from the inner stream.
    fn observe(&mut self, bytes: &[u8]) {
        if matches!(self.watch, Watch::Done) || bytes.is_empty() {
            return;
        }
        self.seen.extend_from_slice(bytes);
        if matches!(self.watch, Watch::Head) {
            match self.seen.windows(4).position(|w| w == b"\r\n\r\n") {
                Some(end) => {
                    self.seen.drain(..end + 4);
                    self.watch = Watch::FirstFrame;
                }
                None if self.seen.len() > MAX_HEAD => return self.stop(),
                None => return,
            }
        }
        let mut cursor = Cursor::new(&self.seen[..]);
        match FrameHeader::parse(&mut cursor) {
            Ok(None) => {}
            Ok(Some((header, len))) => {
                if header.opcode != OpCode::Control(Control::Close) || len > MAX_CONTROL_PAYLOAD {
                    return self.stop();
                }
                let start = cursor.position() as usize;
                let Some(payload) = self.seen.get(start..start + len as usize) else {
                    return; // the payload is still on its way
                };
                if let [high, low, reason @ ..] = payload {
                    let code = u16::from_be_bytes([*high, *low]);
                    let reason = String::from_utf8_lossy(reason).into_owned();
                    if let Ok(mut found) = self.found.lock() {
                        *found = Some((code, reason));
                    }
                }
                self.stop();
            }
            Err(_) => self.stop(),
        }
    }

    fn stop(&mut self) {
        self.watch = Watch::Done;
        self.seen = Vec::new();
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for CloseTap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        // Once the first frame is seen, reads pass untouched (no copy).
        if matches!(self.watch, Watch::Done) {
            return poll;
        }
        if let Poll::Ready(Ok(())) = poll {
            let fresh = buf.filled()[before..].to_vec();
            self.observe(&fresh);
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CloseTap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_proto::close;

    const HEAD: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";

    fn tapped(chunks: &[&[u8]]) -> Option<(u16, String)> {
        let found = TappedClose::default();
        let mut tap = CloseTap::new((), found.clone());
        for chunk in chunks {
            tap.observe(chunk);
        }
        let result = found.lock().unwrap().clone();
        result
    }

    fn close_frame(code: u16, reason: &str) -> Vec<u8> {
        let mut frame = vec![0x88, 2 + reason.len() as u8];
        frame.extend_from_slice(&code.to_be_bytes());
        frame.extend_from_slice(reason.as_bytes());
        frame
    }

    #[test]
    fn finds_a_first_close_frame_however_it_is_split() {
        let mut wire = HEAD.to_vec();
        wire.extend(close_frame(
            close::BAD_GATEWAY,
            "upstream 127.0.0.1:9 unreachable",
        ));
        let expected = Some((
            close::BAD_GATEWAY,
            "upstream 127.0.0.1:9 unreachable".to_owned(),
        ));
        assert_eq!(tapped(&[&wire]), expected);
        for at in 1..wire.len() {
            assert_eq!(
                tapped(&[&wire[..at], &wire[at..]]),
                expected,
                "split at {at}"
            );
        }
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        assert_eq!(tapped(&bytes), expected);
    }

    #[test]
    fn ignores_everything_after_a_first_data_frame() {
        let mut wire = HEAD.to_vec();
        wire.extend_from_slice(&[0x82, 3, b'2', b'2', b'0']);
        wire.extend(close_frame(close::BAD_GATEWAY, "late"));
        assert_eq!(tapped(&[&wire]), None);
        assert_eq!(tapped(&[b"HTTP/1.1 101 no end of head"]), None);
    }
}
