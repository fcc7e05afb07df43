//! The web client's stand-in: ferry-client's `Session` (the one loop that
//! drives the protocol, as in every client) over the test's
//! tokio-tungstenite WebSocket, with each write cut into the WebSocket
//! messages a test asks for, so no message boundary can mean anything.

#![allow(dead_code)]

use crate::browser::Client;
use bytes::Bytes;
use ferry_client::{ClientError, Session, SessionOptions, Transport};
use ferry_proto::{Command, Done, Exchange, ProtoError};
use ferry_testkit::within;
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio_tungstenite::tungstenite::Message;

/// How each write to the bridge is cut into WebSocket messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Messages {
    /// One message per write.
    Whole,
    /// One message per byte.
    OneByte,
    /// Messages of 1, 4, 13, 40, … bytes, starting again with each write.
    Growing,
}

/// A [`Transport`] over the test's WebSocket to the bridge.
pub struct WebSocket {
    ws: Client,
    messages: Messages,
    received: Received,
}

/// How many data messages a [`WebSocket`] has received so far.
#[derive(Debug, Clone, Default)]
pub struct Received(Arc<AtomicUsize>);

impl Received {
    pub fn messages(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl WebSocket {
    pub fn new(ws: Client, messages: Messages) -> (WebSocket, Received) {
        let received = Received::default();
        let socket = WebSocket {
            ws,
            messages,
            received: received.clone(),
        };
        (socket, received)
    }

    /// Waits for the bridge to close the WebSocket; its code and reason.
    pub async fn closed_by_bridge(mut self) -> Option<(u16, String)> {
        crate::browser::read_until_close(&mut self.ws, &mut Vec::new()).await
    }

    /// Leaves as a closing tab does: a close frame, then the bridge's answer.
    pub async fn leave(mut self) {
        within(self.ws.close(None)).await.unwrap();
        let _ = crate::browser::read_until_close(&mut self.ws, &mut Vec::new()).await;
    }
}

/// Opens a session over `ws`: the greeting has arrived when this returns.
pub async fn open(
    ws: Client,
    messages: Messages,
) -> Result<(Session<WebSocket>, Received), ClientError> {
    let (socket, received) = WebSocket::new(ws, messages);
    let session = Session::start(socket, "bridge".into(), SessionOptions::default()).await?;
    Ok((session, received))
}

/// The sizes `len` bytes are sent in.
fn cuts(messages: Messages, len: usize) -> Vec<usize> {
    match messages {
        Messages::Whole => vec![len],
        Messages::OneByte => vec![1; len],
        Messages::Growing => {
            let (mut sizes, mut left, mut size) = (Vec::new(), len, 1);
            while left > 0 {
                sizes.push(size.min(left));
                left -= size.min(left);
                size = size * 3 + 1;
            }
            sizes
        }
    }
}

fn lost(error: impl std::fmt::Display) -> ClientError {
    ClientError::ConnectionLost {
        source: std::io::Error::other(error.to_string()),
    }
}

impl Transport for WebSocket {
    async fn send(&mut self, mut bytes: Bytes) -> Result<(), ClientError> {
        for size in cuts(self.messages, bytes.len()) {
            let message = Message::Binary(bytes.split_to(size));
            within(self.ws.send(message)).await.map_err(lost)?;
        }
        Ok(())
    }

    async fn recv(&mut self) -> Result<Option<Bytes>, ClientError> {
        loop {
            match within(self.ws.next()).await.transpose().map_err(lost)? {
                None | Some(Message::Close(_)) => return Ok(None),
                Some(Message::Binary(bytes)) => {
                    self.received.0.fetch_add(1, Ordering::SeqCst);
                    return Ok(Some(bytes));
                }
                Some(Message::Ping(_) | Message::Pong(_)) => {}
                Some(other) => panic!("unexpected message {other:?}"),
            }
        }
    }

    async fn close(&mut self) {
        let _ = within(self.ws.close(None)).await;
    }
}

/// Any command, its final reply and data kept as they came: for tests that
/// look at reply codes or at data no typed exchange would accept.
pub struct Raw(pub Command);

impl Exchange for Raw {
    type Success = Done;

    fn command(&self) -> Command {
        self.0.clone()
    }

    fn success(&self, done: Done) -> Result<Done, ProtoError> {
        Ok(done)
    }
}
