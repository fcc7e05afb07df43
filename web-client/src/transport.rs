//! One WebSocket connection to the bridge, driven through the shared
//! [`ClientCodec`]: commands out, protocol events in.
//!
//! The socket is a `gloo_net` [`WebSocket`] (message stream, command sink,
//! close events). It is built from a `web_sys::WebSocket` we keep a handle to,
//! because gloo-net exposes neither `bufferedAmount` (needed for upload
//! backpressure) nor closing with a code on a socket it still owns.

use ferry_proto::{ClientCodec, Command, Event, ProtoError, Reply};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
use js_sys::ArrayBuffer;

/// `WebSocket.readyState` of an open socket.
const OPEN: u16 = 1;

/// A protocol event with any data bytes already handed to the caller.
#[derive(Debug)]
pub enum Step {
    /// The `220` greeting.
    Greeting(Reply),
    /// `150` for LIST / RETRIEVE: this many data bytes follow.
    DataStart(Reply, u64),
    /// A slice of data bytes was passed to the `on_data` callback.
    Data,
    /// `150` for STORE: send exactly this many bytes now.
    SendData(Reply, u64),
    /// A final reply.
    Reply(Reply),
}

/// Why a connection can no longer be used.
#[derive(Debug, Clone)]
pub enum ConnError {
    /// The WebSocket closed.
    Closed {
        /// The close code (1006 when the connection dropped without a close frame).
        code: u16,
        /// The close reason sent by the bridge, if any.
        reason: String,
        /// Whether any byte ever arrived (tells "bridge unreachable" from "connection lost").
        opened: bool,
        /// What the protocol state machine says about the cut ([`ProtoError::Truncated`] etc.).
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

/// One connection: the socket, the codec and the bytes received but not yet decoded.
pub struct Conn {
    socket: WebSocket,
    raw: web_sys::WebSocket,
    codec: ClientCodec,
    inbox: Vec<u8>,
    pos: usize,
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
            codec: ClientCodec::new(),
            inbox: Vec::new(),
            pos: 0,
            opened: false,
            close: None,
        })
    }

    /// A second handle to the browser socket (for closing it from elsewhere).
    pub fn raw(&self) -> web_sys::WebSocket {
        self.raw.clone()
    }

    /// Sends `command` (the codec checks that no other command is in flight).
    pub async fn send_command(&mut self, command: &Command) -> Result<(), ConnError> {
        let bytes = self.codec.send(command).map_err(ConnError::Protocol)?;
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
        self.raw.ready_state() == OPEN
    }

    /// Bytes handed to `send` that the browser has not put on the network yet.
    pub fn buffered_amount(&self) -> u32 {
        self.raw.buffered_amount()
    }

    /// Whether the protocol session is over (after `221` or `421`).
    pub fn is_closed(&self) -> bool {
        self.codec.is_closed()
    }

    /// Closes the socket with a code (1000 or 3000-4999) and a reason.
    pub fn close(&self, code: u16, reason: &str) {
        // Fails only for codes outside those ranges, which we never pass.
        let _ = self.raw.close_with_code_and_reason(code, reason);
    }

    /// Waits for the next protocol event. Data bytes are passed to `on_data`
    /// (borrowed from the received message, so the caller copies only what it keeps).
    pub async fn next_step(&mut self, on_data: &mut dyn FnMut(&[u8])) -> Result<Step, ConnError> {
        loop {
            if self.pos < self.inbox.len() {
                let (consumed, event) = match self.codec.decode(&self.inbox[self.pos..]) {
                    Ok(decoded) => decoded,
                    Err(e) => {
                        self.close(4002, "protocol error");
                        return Err(ConnError::Protocol(e));
                    }
                };
                self.pos += consumed;
                let step = match event {
                    None => continue,
                    Some(Event::Greeting(reply)) => Step::Greeting(reply),
                    Some(Event::DataStart { reply, len }) => Step::DataStart(reply, len),
                    Some(Event::Data(bytes)) => {
                        on_data(bytes);
                        Step::Data
                    }
                    Some(Event::SendData { reply, size }) => Step::SendData(reply, size),
                    Some(Event::Reply(reply)) => Step::Reply(reply),
                };
                return Ok(step);
            }
            match self.socket.next().await {
                Some(Ok(Message::Bytes(bytes))) => {
                    self.opened = true;
                    self.inbox = bytes;
                    self.pos = 0;
                }
                // The bridge only sends binary messages; take text as its UTF-8 bytes anyway.
                Some(Ok(Message::Text(text))) => {
                    self.opened = true;
                    self.inbox = text.into_bytes();
                    self.pos = 0;
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

    /// Waits until the socket has closed, discarding anything still arriving.
    pub async fn wait_closed(&mut self) -> ConnError {
        loop {
            match self.next_step(&mut |_| {}).await {
                Ok(_) => continue,
                Err(e) => return e,
            }
        }
    }

    fn closed(&mut self) -> ConnError {
        let cut = self.codec.finish().err();
        let (code, reason) = self.close.clone().unwrap_or((1006, String::new()));
        ConnError::Closed {
            code,
            reason,
            opened: self.opened,
            cut,
        }
    }
}
