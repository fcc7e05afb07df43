//! One WebSocket connection to the bridge, driven through the shared
//! [`ClientDriver`]: commands out, the driver's [`Event`]s in. Nothing here
//! decides what the server's bytes mean; the driver does.
//!
//! The socket is a `gloo_net` [`WebSocket`] (message stream, command sink,
//! close events). It is built from a `web_sys::WebSocket` we keep a handle to,
//! because gloo-net exposes neither `bufferedAmount` (needed for upload
//! backpressure) nor closing with a code on a socket it still owns.

use ferry_proto::{close, ClientDriver, Command, Event, ProtoError, Reply};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
use js_sys::ArrayBuffer;

/// Why a connection can no longer be used.
#[derive(Debug, Clone)]
pub enum ConnError {
    /// The WebSocket closed.
    Closed {
        /// The close code ([`close::ABNORMAL`] when the connection dropped without a close frame).
        code: u16,
        /// The close reason sent by the bridge, if any.
        reason: String,
        /// Whether any byte ever arrived (tells "bridge unreachable" from "connection lost").
        opened: bool,
        /// What the driver says about the cut ([`ProtoError::Truncated`] etc.).
        cut: Option<ProtoError>,
    },
    /// The server broke the protocol; the connection was dropped.
    Protocol(ProtoError),
    /// The browser refused to send (socket not open).
    Send(String),
    /// The server sent `421` (too many connections, idle timeout, shutting down) and closed.
    ServerClosing(Reply),
    /// A local file could not be read during an upload; the connection was
    /// closed to abort it, since the protocol has no way to cancel a STORE.
    FileRead(String),
}

/// One connection: the socket and the protocol driver fed from it.
pub struct Conn {
    socket: WebSocket,
    raw: web_sys::WebSocket,
    driver: ClientDriver,
    opened: bool,
    close: Option<(u16, String)>,
}

impl Conn {
    /// Opens a WebSocket to `url` (the bridge's `/ws`, maybe with `?target=`).
    pub fn open(url: &str) -> Result<Conn, String> {
        let raw = web_sys::WebSocket::new(url).map_err(|e| crate::browser::js_error_text(&e))?;
        let socket = WebSocket::try_from(raw.clone()).map_err(|e| e.to_string())?;
        Ok(Conn {
            socket,
            raw,
            driver: ClientDriver::new(),
            opened: false,
            close: None,
        })
    }

    /// A second handle to the browser socket (for closing it from elsewhere).
    pub fn raw(&self) -> web_sys::WebSocket {
        self.raw.clone()
    }

    /// Starts `command` (the driver checks that no other command is in flight).
    pub async fn start(&mut self, command: &Command) -> Result<(), ConnError> {
        let bytes = self.driver.start(command).map_err(ConnError::Protocol)?;
        self.socket
            .send(Message::Bytes(bytes))
            .await
            .map_err(|e| ConnError::Send(e.to_string()))
    }

    /// Sends one slice of upload data straight from JS memory (no copy into WASM).
    /// If the socket is closing or closed, waits for the close and reports it.
    pub async fn send_data(&mut self, data: &ArrayBuffer) -> Result<(), ConnError> {
        if !self.is_open() {
            return Err(self.wait_closed().await);
        }
        self.raw
            .send_with_array_buffer(data)
            .map_err(|e| ConnError::Send(crate::browser::js_error_text(&e)))
    }

    /// Whether the WebSocket is open (not connecting, closing or closed).
    pub fn is_open(&self) -> bool {
        self.raw.ready_state() == web_sys::WebSocket::OPEN
    }

    /// Bytes handed to `send` that the browser has not put on the network yet.
    pub fn buffered_amount(&self) -> u32 {
        self.raw.buffered_amount()
    }

    /// Whether the protocol session is over (after `221` or `421`).
    pub fn is_closed(&self) -> bool {
        self.driver.is_closed()
    }

    /// Closes the socket with a code ([`close::NORMAL`] or 3000-4999) and a reason.
    pub fn close(&self, code: u16, reason: &str) {
        // Fails only for codes outside those ranges, which we never pass.
        let _ = self.raw.close_with_code_and_reason(code, reason);
    }

    /// Closes the socket because the server broke the protocol.
    pub fn broken(&self, error: ProtoError) -> ConnError {
        self.close(close::CLIENT_PROTOCOL_ERROR, "protocol error");
        ConnError::Protocol(error)
    }

    /// Waits for the driver's next event. A data slice shares the received
    /// message's memory, so the caller copies only what it keeps.
    pub async fn next_event(&mut self) -> Result<Event, ConnError> {
        loop {
            match self.driver.poll() {
                Ok(Some(event)) => return Ok(event),
                Ok(None) => {}
                Err(e) => return Err(self.broken(e)),
            }
            match self.socket.next().await {
                Some(Ok(Message::Bytes(bytes))) => {
                    self.opened = true;
                    self.driver.feed(bytes);
                }
                // The bridge only sends binary messages; take text as its UTF-8 bytes anyway.
                Some(Ok(Message::Text(text))) => {
                    self.opened = true;
                    self.driver.feed(text.into_bytes());
                }
                Some(Err(WebSocketError::ConnectionClose(event))) => {
                    self.close = Some((event.code, event.reason));
                }
                // An `error` event is always followed by `close`, which says more.
                Some(Err(_)) => {}
                None => return Err(self.closed()),
            }
        }
    }

    /// Waits for the server's greeting; a `421` instead of it (too many
    /// connections) ends the connection.
    pub async fn greeting(&mut self) -> Result<Reply, ConnError> {
        match self.next_event().await? {
            Event::Greeting(reply) => Ok(reply),
            Event::Closing(reply) => {
                self.wait_closed().await;
                Err(ConnError::ServerClosing(reply))
            }
            // The driver yields nothing else before the greeting.
            _ => Err(self.broken(ProtoError::UnexpectedReply(
                "an exchange's event before the greeting".into(),
            ))),
        }
    }

    /// Waits until the socket has closed, discarding anything still arriving.
    pub async fn wait_closed(&mut self) -> ConnError {
        loop {
            if let Err(e) = self.next_event().await {
                return e;
            }
        }
    }

    fn closed(&mut self) -> ConnError {
        let cut = self.driver.end().err();
        let (code, reason) = self
            .close
            .clone()
            .unwrap_or((close::ABNORMAL, String::new()));
        ConnError::Closed {
            code,
            reason,
            opened: self.opened,
            cut,
        }
    }
}
