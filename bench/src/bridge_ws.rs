//! The browser stand-in of the bridge scenarios: `ferry_proto::ClientCodec`
//! over a WebSocket, discarding downloaded bytes (the WebSocket counterpart
//! of [`crate::wire::BenchClient`]).
//!
//! Two client libraries are offered ([`WsLibrary`]) because the client's own
//! cost lands on the same two cores as the server and the relay: the bridge
//! figure is only as good as the reader behind it. tokio-websockets reads
//! into spare buffer capacity (like the direct TCP client's reused buffer);
//! tokio-tungstenite (what the `ferry` CLI uses) zero-fills its read buffer
//! before every read, which costs an extra pass over each downloaded byte.

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use ferry_proto::{ClientCodec, Command, Event, Name, Reply};
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

/// What the next message brought.
enum Incoming {
    /// The bytes of a data (binary or text) message.
    Data(Bytes),
    /// Ping, pong: nothing for the protocol.
    Control,
    /// A close frame (its description) or the end of the connection.
    Closed(String),
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

    async fn send(&mut self, data: Bytes) -> Result<()> {
        match self {
            Socket::TokioWebsockets(ws) => ws.send(tokio_websockets::Message::binary(data)).await?,
            Socket::Tungstenite(ws) => ws.send(tungstenite::Message::Binary(data)).await?,
        }
        Ok(())
    }

    async fn next(&mut self) -> Result<Incoming> {
        Ok(match self {
            Socket::TokioWebsockets(ws) => match ws.next().await.transpose()? {
                None => Incoming::Closed("end of connection".into()),
                Some(message) if message.is_close() => {
                    Incoming::Closed(format!("close frame {:?}", message.as_close()))
                }
                Some(message) if message.is_binary() || message.is_text() => {
                    Incoming::Data(message.into_payload().into())
                }
                Some(_) => Incoming::Control,
            },
            Socket::Tungstenite(ws) => match ws.next().await.transpose()? {
                None => Incoming::Closed("end of connection".into()),
                Some(tungstenite::Message::Close(frame)) => {
                    Incoming::Closed(format!("close frame {frame:?}"))
                }
                Some(tungstenite::Message::Binary(data)) => Incoming::Data(data),
                Some(tungstenite::Message::Text(text)) => Incoming::Data(Bytes::from(text)),
                Some(_) => Incoming::Control,
            },
        })
    }
}

/// One connected, greeted session over WebSocket.
pub struct WsBenchClient {
    socket: Socket,
    codec: ClientCodec,
    /// The message being decoded and how far.
    pending: Bytes,
}

enum Step {
    Greeting,
    Nothing,
    Data(u64),
    SendData(u64),
    Final(Reply),
}

impl WsBenchClient {
    /// Opens `url` (e.g. `ws://127.0.0.1:8080/ws`) with `library` and waits
    /// for `220`.
    pub async fn connect(library: WsLibrary, url: &str) -> Result<WsBenchClient> {
        let mut client = WsBenchClient {
            socket: Socket::open(library, url).await?,
            codec: ClientCodec::new(),
            pending: Bytes::new(),
        };
        loop {
            match client.next_step().await? {
                Step::Greeting => return Ok(client),
                Step::Final(reply) => bail!("refused: {reply}"),
                _ => {}
            }
        }
    }

    /// `RETRIEVE name`, data discarded; returns the byte count.
    pub async fn retrieve(&mut self, name: &str) -> Result<u64> {
        self.send(&Command::Retrieve(Name::new(name)?)).await?;
        let mut received = 0;
        loop {
            match self.next_step().await? {
                Step::Data(n) => received += n,
                Step::Final(reply) if reply.is_success() => return Ok(received),
                Step::Final(reply) => bail!("RETRIEVE answered {reply}"),
                _ => {}
            }
        }
    }

    /// `STORE size name`, sending `block` repeatedly in
    /// [`UPLOAD_MESSAGE`]-sized binary messages.
    pub async fn store(&mut self, name: &str, size: u64, block: &Bytes) -> Result<()> {
        self.send(&Command::Store {
            size,
            name: Name::new(name)?,
        })
        .await?;
        loop {
            match self.next_step().await? {
                Step::SendData(mut left) => {
                    let mut at = 0;
                    while left > 0 {
                        if at == block.len() {
                            at = 0;
                        }
                        let n = (left.min(UPLOAD_MESSAGE as u64) as usize).min(block.len() - at);
                        self.socket.send(block.slice(at..at + n)).await?;
                        at += n;
                        left -= n as u64;
                    }
                }
                Step::Final(reply) if reply.is_success() => return Ok(()),
                Step::Final(reply) => bail!("STORE answered {reply}"),
                _ => {}
            }
        }
    }

    /// `NOOP`, for keeping sessions honest.
    pub async fn noop(&mut self) -> Result<()> {
        self.send(&Command::Noop).await?;
        loop {
            if let Step::Final(reply) = self.next_step().await? {
                return if reply.is_success() {
                    Ok(())
                } else {
                    bail!("NOOP answered {reply}")
                };
            }
        }
    }

    async fn send(&mut self, command: &Command) -> Result<()> {
        let wire = self.codec.send(command)?;
        self.socket.send(wire.into()).await
    }

    async fn next_step(&mut self) -> Result<Step> {
        loop {
            if !self.pending.is_empty() {
                let (n, event) = self.codec.decode(&self.pending)?;
                let step = match event {
                    None => Step::Nothing,
                    Some(Event::Greeting(_)) => Step::Greeting,
                    Some(Event::DataStart { .. }) => Step::Nothing,
                    Some(Event::Data(d)) => Step::Data(d.len() as u64),
                    Some(Event::SendData { size, .. }) => Step::SendData(size),
                    Some(Event::Reply(r)) => Step::Final(r),
                };
                let _ = self.pending.split_to(n);
                if !matches!(step, Step::Nothing) {
                    return Ok(step);
                }
                continue;
            }
            match self.socket.next().await? {
                Incoming::Data(data) => self.pending = data,
                Incoming::Control => {}
                Incoming::Closed(how) => {
                    self.codec.finish()?;
                    bail!("the relay closed the connection ({how})");
                }
            }
        }
    }
}
