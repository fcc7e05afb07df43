//! A minimal Ferry client for measurements: `ferry_proto::ClientCodec` over
//! a tokio TCP stream, discarding downloaded bytes instead of storing them
//! so the figures are the server's and the network's, not a client disk's.

use anyhow::{bail, Context, Result};
use ferry_proto::{ClientCodec, Command, Event, Name, Reply};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Receive buffer size; large, as any bulk-transfer client would use.
const RECV_BUF: usize = 256 * 1024;

/// One connected, greeted session.
pub struct BenchClient {
    stream: TcpStream,
    codec: ClientCodec,
    buf: Vec<u8>,
    /// Bytes received but not yet decoded (`buf[pending.0..pending.1]`).
    pending: (usize, usize),
}

/// What a command produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The final reply.
    pub reply: Option<Reply>,
    /// Number of data bytes received after `150`.
    pub data_len: u64,
    /// The data bytes, when the caller asked to keep them.
    pub data: Vec<u8>,
}

impl BenchClient {
    /// Connects and waits for the `220` greeting.
    pub async fn connect(addr: SocketAddr) -> Result<BenchClient> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect {addr}"))?;
        stream.set_nodelay(true)?;
        let mut client = BenchClient {
            stream,
            codec: ClientCodec::new(),
            buf: vec![0; RECV_BUF],
            pending: (0, 0),
        };
        loop {
            match client.next_event(false).await? {
                Step::Greeting => return Ok(client),
                Step::Final(reply) => bail!("refused: {reply}"),
                _ => {}
            }
        }
    }

    /// Runs a command; `upload` supplies STORE data by repeating `block`.
    pub async fn run(
        &mut self,
        command: &Command,
        keep_data: bool,
        block: &[u8],
    ) -> Result<Outcome> {
        let wire = self.codec.send(command)?;
        self.stream.write_all(&wire).await?;
        let mut outcome = Outcome::default();
        loop {
            match self.next_event(keep_data).await? {
                Step::Data(n, bytes) => {
                    outcome.data_len += n;
                    outcome.data.extend_from_slice(&bytes);
                }
                Step::SendData(mut left) => {
                    while left > 0 {
                        let n = left.min(block.len() as u64) as usize;
                        self.stream.write_all(&block[..n]).await?;
                        left -= n as u64;
                    }
                }
                Step::Final(reply) => {
                    outcome.reply = Some(reply);
                    return Ok(outcome);
                }
                Step::Greeting | Step::Nothing => {}
            }
        }
    }

    /// `RETRIEVE name`, data discarded; returns the byte count.
    pub async fn retrieve(&mut self, name: &str) -> Result<u64> {
        let outcome = self
            .run(&Command::Retrieve(Name::new(name)?), false, &[])
            .await?;
        expect_success(&outcome)?;
        Ok(outcome.data_len)
    }

    /// `STORE size name`, sending `block` repeatedly.
    pub async fn store(&mut self, name: &str, size: u64, block: &[u8]) -> Result<()> {
        let outcome = self
            .run(
                &Command::Store {
                    size,
                    name: Name::new(name)?,
                },
                false,
                block,
            )
            .await?;
        expect_success(&outcome)
    }

    /// `LIST`; returns the body length.
    pub async fn list(&mut self) -> Result<u64> {
        let outcome = self.run(&Command::List, false, &[]).await?;
        expect_success(&outcome)?;
        Ok(outcome.data_len)
    }

    async fn next_event(&mut self, keep_data: bool) -> Result<Step> {
        loop {
            let (start, end) = self.pending;
            if start < end {
                let (n, event) = self.codec.decode(&self.buf[start..end])?;
                self.pending.0 += n;
                let step = match event {
                    None => continue,
                    Some(Event::Greeting(_)) => Step::Greeting,
                    Some(Event::DataStart { .. }) => Step::Nothing,
                    Some(Event::Data(d)) => Step::Data(
                        d.len() as u64,
                        if keep_data { d.to_vec() } else { Vec::new() },
                    ),
                    Some(Event::SendData { size, .. }) => Step::SendData(size),
                    Some(Event::Reply(r)) => Step::Final(r),
                };
                return Ok(step);
            }
            let n = self.stream.read(&mut self.buf).await?;
            if n == 0 {
                self.codec.finish()?;
                bail!("server closed the connection");
            }
            self.pending = (0, n);
        }
    }
}

enum Step {
    Greeting,
    Nothing,
    Data(u64, Vec<u8>),
    SendData(u64),
    Final(Reply),
}

fn expect_success(outcome: &Outcome) -> Result<()> {
    match &outcome.reply {
        Some(reply) if reply.is_success() => Ok(()),
        Some(reply) => bail!("server answered {reply}"),
        None => bail!("no final reply"),
    }
}
