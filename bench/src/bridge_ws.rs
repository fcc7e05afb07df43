//! The browser stand-in of the bridge scenarios: ferry-client's own
//! [`Session`] over a WebSocket, discarding downloaded bytes (the WebSocket
//! counterpart of [`crate::wire::BenchClient`]).
//!
//! Two client libraries are offered ([`WsLibrary`]) because the client's own
//! cost lands on the same two cores as the server and the relay: the bridge
//! figure is only as good as the reader behind it. tokio-websockets reads
//! into spare buffer capacity (like the direct TCP client's reused buffer);
//! tokio-tungstenite (what the `ferry` CLI uses) zero-fills its read buffer
//! before every read, which costs an extra pass over each downloaded byte.
//! Both are a [`Transport`] here, so the session on top is the same.

use crate::wire::{bench_options, greet, retrieve_discarding, store_repeating};
use anyhow::{Context, Result};
use bytes::Bytes;
use ferry_client::{ClientError, Session, Transport};
use ferry_proto::close;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;

/// Size of the binary messages a STORE sends (what the web client uses).
pub const UPLOAD_MESSAGE: usize = 256 * 1024;

/// Size of each read of the tokio-tungstenite client (the direct TCP
/// client's buffer is the same).
const TUNGSTENITE_READ_BUFFER: usize = 256 * 1024;

/// The WebSocket library behind a [`WsBenchClient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsLibrary {
    /// tokio-websockets: reads into spare capacity, no zero-filling.
    TokioWebsockets,
    /// tokio-tungstenite, as in the `ferry` CLI.
    Tungstenite,
}

/// An open WebSocket of either library.
enum Socket {
    TokioWebsockets(
        Box<tokio_websockets::WebSocketStream<tokio_websockets::MaybeTlsStream<TcpStream>>>,
    ),
    Tungstenite(
        Box<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>>,
    ),
}

impl Socket {
    async fn open(library: WsLibrary, url: &str) -> Result<Socket> {
        Ok(match library {
            WsLibrary::TokioWebsockets => {
                let (ws, _) = tokio_websockets::ClientBuilder::new()
                    .uri(url)
                    .with_context(|| format!("URL {url}"))?
                    .connect()
                    .await
                    .with_context(|| format!("WebSocket {url}"))?;
                Socket::TokioWebsockets(Box::new(ws))
            }
            WsLibrary::Tungstenite => {
                let config = tungstenite::protocol::WebSocketConfig::default()
                    .read_buffer_size(TUNGSTENITE_READ_BUFFER);
                let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
                    .await
                    .with_context(|| format!("WebSocket {url}"))?;
                Socket::Tungstenite(Box::new(ws))
            }
        })
    }
}

/// A lost connection, in the client's terms.
fn lost(error: impl std::fmt::Display) -> ClientError {
    ClientError::ConnectionLost {
        source: std::io::Error::other(error.to_string()),
    }
}

/// The end of the stream a close frame stands for: normal, or an error.
fn closed(code: u16, reason: &str) -> Result<Option<Bytes>, ClientError> {
    match code {
        close::NORMAL => Ok(None),
        code => Err(ClientError::BridgeClosed {
            code,
            reason: reason.to_owned(),
        }),
    }
}

impl Transport for Socket {
    async fn send(&mut self, bytes: Bytes) -> Result<(), ClientError> {
        match self {
            Socket::TokioWebsockets(ws) => ws
                .send(tokio_websockets::Message::binary(bytes))
                .await
                .map_err(lost),
            Socket::Tungstenite(ws) => ws
                .send(tungstenite::Message::Binary(bytes))
                .await
                .map_err(lost),
        }
    }

    async fn recv(&mut self) -> Result<Option<Bytes>, ClientError> {
        loop {
            match self {
                Socket::TokioWebsockets(ws) => match ws.next().await.transpose().map_err(lost)? {
                    None => return Ok(None),
                    Some(message) if message.is_close() => {
                        return match message.as_close() {
                            Some((code, reason)) => closed(u16::from(code), reason),
                            None => Ok(None),
                        }
                    }
                    Some(message) if message.is_binary() || message.is_text() => {
                        return Ok(Some(message.into_payload().into()))
                    }
                    Some(_) => {}
                },
                Socket::Tungstenite(ws) => match ws.next().await.transpose().map_err(lost)? {
                    None => return Ok(None),
                    Some(tungstenite::Message::Close(frame)) => {
                        return match frame {
                            Some(frame) => closed(u16::from(frame.code), &frame.reason),
                            None => Ok(None),
                        }
                    }
                    Some(tungstenite::Message::Binary(data)) => return Ok(Some(data)),
                    Some(tungstenite::Message::Text(text)) => return Ok(Some(Bytes::from(text))),
                    Some(_) => {}
                },
            }
        }
    }

    async fn close(&mut self) {
        match self {
            Socket::TokioWebsockets(ws) => {
                let _ = ws.close().await;
            }
            Socket::Tungstenite(ws) => {
                let _ = SinkExt::close(ws).await;
            }
        }
    }
}

/// One connected, greeted session over WebSocket.
pub struct WsBenchClient {
    session: Session<Socket>,
}

impl WsBenchClient {
    /// Opens `url` (e.g. `ws://127.0.0.1:8080/ws`) with `library` and waits
    /// for `220`.
    pub async fn connect(library: WsLibrary, url: &str) -> Result<WsBenchClient> {
        let socket = Socket::open(library, url).await?;
        let options = bench_options(UPLOAD_MESSAGE);
        Ok(WsBenchClient {
            session: greet(socket, url.to_owned(), options).await?,
        })
    }

    /// `RETRIEVE name`, data discarded; returns the byte count.
    pub async fn retrieve(&mut self, name: &str) -> Result<u64> {
        retrieve_discarding(&mut self.session, name).await
    }

    /// `STORE size name`, sending `block` repeatedly in
    /// [`UPLOAD_MESSAGE`]-sized binary messages.
    pub async fn store(&mut self, name: &str, size: u64, block: &Bytes) -> Result<()> {
        store_repeating(&mut self.session, name, size, block.clone()).await
    }

    /// `NOOP`, for keeping sessions honest.
    pub async fn noop(&mut self) -> Result<()> {
        Ok(self.session.noop().await?)
    }
}
