//! The browser stand-in of the bridge scenarios: `ferry_proto::ClientCodec`
//! over a tokio-tungstenite WebSocket, discarding downloaded bytes (the
//! WebSocket counterpart of [`crate::wire::BenchClient`]).

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use ferry_proto::{ClientCodec, Command, Event, Name, Reply};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Size of the binary messages a STORE sends (what the web client uses).
pub const UPLOAD_MESSAGE: usize = 256 * 1024;

/// One connected, greeted session over WebSocket.
pub struct WsBenchClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
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
    /// Opens `url` (e.g. `ws://127.0.0.1:8080/ws`) and waits for `220`.
    pub async fn connect(url: &str) -> Result<WsBenchClient> {
        let config = WebSocketConfig::default().read_buffer_size(256 * 1024);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .with_context(|| format!("WebSocket {url}"))?;
        let mut client = WsBenchClient {
            ws,
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
                        self.ws
                            .send(Message::Binary(block.slice(at..at + n)))
                            .await?;
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
        self.ws.send(Message::Binary(wire.into())).await?;
        Ok(())
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
            match self.ws.next().await {
                Some(Ok(Message::Binary(data))) => self.pending = data,
                Some(Ok(Message::Text(text))) => self.pending = Bytes::from(text),
                Some(Ok(Message::Close(frame))) => {
                    self.codec.finish()?;
                    bail!("closed by the relay: {frame:?}");
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error.into()),
                None => {
                    self.codec.finish()?;
                    bail!("the relay closed the connection");
                }
            }
        }
    }
}
