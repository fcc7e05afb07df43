//! One WebSocket connection to the bridge, driven through the shared
//! [`ClientDriver`]: commands out, the driver's [`Event`]s in. Nothing here
//! decides what the server's bytes mean; the driver does.
//!
//! The socket is a plain `web_sys::WebSocket` (binary type `arraybuffer`)
//! whose messages wait, still in JS memory, in a queue fed by its event
//! handlers. Control lines are copied into WASM for the driver; a
//! download's data bytes need not be: [`Conn::next_piece`] with
//! [`Data::InBrowser`] hands them over as `Uint8Array` views of the
//! received messages, so a 1 GiB file never passes through WASM memory.

use ferry_proto::{close, ClientDriver, Command, Event, ProtoError, Reply};
use js_sys::{ArrayBuffer, Uint8Array};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent};

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

/// Where a RETRIEVE's or READ's data bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// Through the driver, as [`Event::Data`] (copied into WASM memory).
    InWasm,
    /// As [`Piece::Bytes`], JS views of the received messages.
    InBrowser,
}

/// What [`Conn::next_piece`] yields.
pub enum Piece {
    /// An event of the driver.
    Event(Event),
    /// Data bytes of the download in flight, still in JS memory.
    Bytes(Uint8Array),
}

/// What the socket's handlers leave for the connection.
#[derive(Default)]
struct Inbox {
    messages: VecDeque<Uint8Array>,
    /// The close event's code and reason, once closed.
    closed: Option<(u16, String)>,
    waker: Option<Waker>,
}

/// A socket event handler. Both take the plain `Event` (and cast it), the
/// type Leptos's own handlers take: one closure type, compiled once.
type Handler = Closure<dyn FnMut(web_sys::Event)>;

/// One connection: the socket and the protocol driver fed from it.
pub struct Conn {
    raw: web_sys::WebSocket,
    inbox: Rc<RefCell<Inbox>>,
    driver: ClientDriver,
    opened: bool,
    // Kept alive as long as the socket may call them.
    _on_message: Handler,
    _on_close: Handler,
}

impl Conn {
    /// Opens a WebSocket to `url` (the bridge's `/ws`, maybe with `?target=`).
    pub fn open(url: &str) -> Result<Conn, String> {
        let raw = web_sys::WebSocket::new(url).map_err(|e| crate::browser::js_error_text(&e))?;
        raw.set_binary_type(BinaryType::Arraybuffer);
        let inbox = Rc::new(RefCell::new(Inbox::default()));
        let on_message = {
            let inbox = inbox.clone();
            Handler::new(move |event: web_sys::Event| {
                let data = event.unchecked_into::<MessageEvent>().data();
                let bytes = match data.dyn_into::<ArrayBuffer>() {
                    Ok(buffer) => Uint8Array::new(&buffer),
                    // The bridge only sends binary messages; take text as its UTF-8 bytes anyway.
                    Err(data) => match data.as_string() {
                        Some(text) => Uint8Array::from(text.as_bytes()),
                        None => return,
                    },
                };
                let mut inbox = inbox.borrow_mut();
                inbox.messages.push_back(bytes);
                if let Some(waker) = inbox.waker.take() {
                    waker.wake();
                }
            })
        };
        let on_close = {
            let inbox = inbox.clone();
            Handler::new(move |event: web_sys::Event| {
                let event = event.unchecked_into::<CloseEvent>();
                let mut inbox = inbox.borrow_mut();
                inbox.closed = Some((event.code(), event.reason()));
                if let Some(waker) = inbox.waker.take() {
                    waker.wake();
                }
            })
        };
        raw.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        raw.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Conn {
            raw,
            inbox,
            driver: ClientDriver::new(),
            opened: false,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// A second handle to the browser socket (for closing it from elsewhere).
    pub fn raw(&self) -> web_sys::WebSocket {
        self.raw.clone()
    }

    /// Starts `command` (the driver checks that no other command is in flight).
    pub async fn start(&mut self, command: &Command) -> Result<(), ConnError> {
        let bytes = self.driver.start(command).map_err(ConnError::Protocol)?;
        if self.raw.ready_state() == web_sys::WebSocket::CONNECTING {
            // Commands are sent after the greeting, so the socket is open by then;
            // this only guards a caller that starts one earlier.
            return Err(ConnError::Send("the connection is not open yet".into()));
        }
        if !self.is_open() {
            return Err(self.wait_closed().await);
        }
        self.raw
            .send_with_u8_array(&bytes)
            .map_err(|e| ConnError::Send(crate::browser::js_error_text(&e)))
    }

    /// Sends one slice of an upload's file as a message; the browser reads
    /// it (no copy into WASM or JS memory). If the socket is closing or
    /// closed, waits for the close and reports it.
    pub async fn send_blob(&mut self, data: &web_sys::Blob) -> Result<(), ConnError> {
        if !self.is_open() {
            return Err(self.wait_closed().await);
        }
        self.raw
            .send_with_blob(data)
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
        match self.next_piece(Data::InWasm).await? {
            Piece::Event(event) => Ok(event),
            // Only asked for with `Data::InBrowser`.
            Piece::Bytes(_) => Err(self.broken(ProtoError::Busy)),
        }
    }

    /// Waits for the next event, or with [`Data::InBrowser`] for the next
    /// data bytes of a download, left in JS memory.
    pub async fn next_piece(&mut self, data: Data) -> Result<Piece, ConnError> {
        loop {
            match self.driver.poll() {
                Ok(Some(event)) => return Ok(Piece::Event(event)),
                Ok(None) => {}
                Err(e) => return Err(self.broken(e)),
            }
            let Some(bytes) = self.next_message().await else {
                return Err(self.closed());
            };
            self.opened = true;
            let left = self.driver.data_left();
            if data == Data::InBrowser && left > 0 {
                let len = bytes.length();
                let take = u32::try_from(left).map_or(len, |left| left.min(len));
                if take < len {
                    self.inbox
                        .borrow_mut()
                        .messages
                        .push_front(bytes.subarray(take, len));
                }
                if let Err(e) = self.driver.skip_data(u64::from(take)) {
                    return Err(self.broken(e));
                }
                return Ok(Piece::Bytes(if take < len {
                    bytes.subarray(0, take)
                } else {
                    bytes
                }));
            }
            self.driver.feed(bytes.to_vec());
        }
    }

    /// The next received message, or `None` once the socket has closed and
    /// every message before the close was taken.
    async fn next_message(&self) -> Option<Uint8Array> {
        poll_fn(|cx| {
            let mut inbox = self.inbox.borrow_mut();
            if let Some(bytes) = inbox.messages.pop_front() {
                return Poll::Ready(Some(bytes));
            }
            if inbox.closed.is_some() {
                return Poll::Ready(None);
            }
            inbox.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
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
            .inbox
            .borrow()
            .closed
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

impl Drop for Conn {
    /// A connection nobody holds any more is closed, and its handlers go.
    fn drop(&mut self) {
        self.raw.set_onmessage(None);
        self.raw.set_onclose(None);
        if self.raw.ready_state() <= web_sys::WebSocket::OPEN {
            self.close(close::NORMAL, "done");
        }
    }
}
