//! A client session: drives [`ClientCodec`] over any [`Transport`].
//!
//! All protocol decisions (what a reply means at this point, how many data
//! bytes follow) are the codec's; this module only moves bytes between the
//! codec, the transport and the caller's readers and writers, with constant
//! memory for file transfers.

use crate::transport::{AnyTransport, Transport};
use crate::{ClientError, Target};
use bytes::{Buf, Bytes};
use ferry_proto::{ClientCodec, Command, Event, ListingEntry, Name, ProtoError, Reply, Verb};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, info};

/// Size of one upload write.
const UPLOAD_CHUNK: usize = 64 * 1024;
/// How long to wait for an explanation after a write to the server failed.
const EXPLAIN_WAIT: Duration = Duration::from_millis(500);

/// Timeouts and limits of a session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// How long opening the connection (and the WebSocket handshake) may take.
    pub connect_timeout: Duration,
    /// How long the server may stay silent while an answer or data is awaited.
    pub io_timeout: Duration,
    /// Largest `LIST` body accepted, in bytes: a listing is held in memory.
    pub max_listing_len: u64,
    /// TLS settings for `wss://`; `None` trusts the webpki roots.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(60),
            max_listing_len: 64 * 1024 * 1024,
            tls: None,
        }
    }
}

/// Receives progress reports of a transfer (e.g. to draw a progress bar).
pub trait TransferProgress {
    /// The transfer of `total` bytes begins.
    fn start(&mut self, total: u64) {
        let _ = total;
    }
    /// `bytes` more bytes were moved.
    fn advance(&mut self, bytes: u64) {
        let _ = bytes;
    }
}

/// No progress reporting.
impl TransferProgress for () {}

/// An event of the codec, with data bytes shared rather than borrowed.
enum Incoming {
    Greeting(Reply),
    DataStart(u64),
    Data(Bytes),
    SendData,
    Reply(Reply),
}

/// A connection to a Ferry server (directly or through a bridge) after its
/// greeting, ready for commands. One command runs at a time.
///
/// After a failure that leaves the connection unusable (see
/// [`ClientError::is_fatal`]) every further command fails with
/// [`ClientError::Disconnected`].
#[derive(Debug)]
pub struct Session<T: Transport = AnyTransport> {
    transport: T,
    codec: ClientCodec,
    /// Received bytes the codec has not consumed yet.
    pending: Bytes,
    greeting: Reply,
    peer: String,
    options: SessionOptions,
    broken: bool,
}

impl Session<AnyTransport> {
    /// Connects to `target` (TCP or WebSocket) and waits for the greeting.
    pub async fn connect(target: &Target, options: SessionOptions) -> Result<Session, ClientError> {
        let transport =
            AnyTransport::connect(target, options.connect_timeout, options.tls.clone()).await?;
        Session::start(transport, target.to_string(), options).await
    }
}

impl<T: Transport> Session<T> {
    /// Runs a session over an open `transport`: waits for the `220` greeting.
    /// `peer` names the other end in logs.
    pub async fn start(
        transport: T,
        peer: String,
        options: SessionOptions,
    ) -> Result<Session<T>, ClientError> {
        let mut session = Session {
            transport,
            codec: ClientCodec::new(),
            pending: Bytes::new(),
            greeting: Reply::new(0, ""),
            peer,
            options,
            broken: false,
        };
        match session.next_event().await? {
            Incoming::Greeting(reply) => {
                info!(peer = %session.peer, greeting = %reply, "connected");
                session.greeting = reply;
                Ok(session)
            }
            Incoming::Reply(reply) => Err(ClientError::from_reply(Verb::Noop, None, reply)),
            _ => Err(ClientError::Protocol(ProtoError::UnexpectedReply(
                "data before the greeting".into(),
            ))),
        }
    }

    /// The server's `220` greeting.
    pub fn greeting(&self) -> &Reply {
        &self.greeting
    }

    /// The address this session is connected to, as given.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Whether commands can still be sent.
    pub fn is_usable(&self) -> bool {
        !self.broken && !self.codec.is_closed()
    }

    /// `LIST`: the regular files on the server, sorted by name.
    pub async fn list(&mut self) -> Result<Vec<ListingEntry>, ClientError> {
        let result = self.list_inner().await;
        self.note(result)
    }

    /// [`Session::list`] before the session is marked unusable on a fatal error.
    async fn list_inner(&mut self) -> Result<Vec<ListingEntry>, ClientError> {
        let mut body = Vec::new();
        let limit = self.options.max_listing_len;
        self.receive(Command::List, None, &mut body, &mut (), Some(limit))
            .await?;
        ferry_proto::parse_listing(&body).map_err(ClientError::Protocol)
    }

    /// `RETRIEVE`: writes the file's bytes to `sink` as they arrive and
    /// returns how many there were. On error, `sink` may hold a prefix of the
    /// file: callers that write to a file must discard it.
    pub async fn retrieve<W>(
        &mut self,
        name: &Name,
        sink: &mut W,
        progress: &mut dyn TransferProgress,
    ) -> Result<u64, ClientError>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        let command = Command::Retrieve(name.clone());
        let result = self
            .receive(command, Some(name.as_str()), sink, progress, None)
            .await;
        self.note(result)
    }

    /// `STORE`: uploads exactly `size` bytes read from `source` as `name`.
    ///
    /// Nothing is sent before the server's `150`. If `source` ends early the
    /// upload is abandoned by dropping the connection, which the contract
    /// guarantees leaves no trace on the server.
    pub async fn store<R>(
        &mut self,
        name: &Name,
        size: u64,
        source: &mut R,
        progress: &mut dyn TransferProgress,
    ) -> Result<(), ClientError>
    where
        R: AsyncRead + Unpin + Send + ?Sized,
    {
        let result = self.store_inner(name, size, source, progress).await;
        self.note(result)
    }

    /// [`Session::store`] before the session is marked unusable on a fatal error.
    async fn store_inner<R>(
        &mut self,
        name: &Name,
        size: u64,
        source: &mut R,
        progress: &mut dyn TransferProgress,
    ) -> Result<(), ClientError>
    where
        R: AsyncRead + Unpin + Send + ?Sized,
    {
        let command = Command::Store {
            size,
            name: name.clone(),
        };
        let shown = Some(name.as_str());
        self.start_command(&command, shown).await?;
        match self.next_event().await? {
            Incoming::SendData => {}
            Incoming::Reply(reply) => return Err(self.refused(&command, shown, reply)),
            _ => return Err(unexpected("data in answer to STORE")),
        }
        progress.start(size);
        let mut buffer = vec![0; UPLOAD_CHUNK];
        let mut sent = 0u64;
        while sent < size {
            let want =
                usize::try_from(size - sent).map_or(UPLOAD_CHUNK, |left| left.min(UPLOAD_CHUNK));
            let read = source
                .read(&mut buffer[..want])
                .await
                .map_err(|source| ClientError::Input { source })?;
            if read == 0 {
                self.transport.close().await;
                return Err(ClientError::ShortInput {
                    expected: size,
                    actual: sent,
                });
            }
            self.send_bytes(&buffer[..read], Verb::Store, shown).await?;
            sent += read as u64;
            progress.advance(read as u64);
        }
        self.final_reply(&command, shown).await.map(drop)
    }

    /// `DELETE`: removes a file on the server.
    pub async fn delete(&mut self, name: &Name) -> Result<(), ClientError> {
        let result = self
            .simple(Command::Delete(name.clone()), Some(name.as_str()))
            .await;
        self.note(result).map(drop)
    }

    /// `HASH`: the SHA-256 of a file on the server, as 64 lowercase hex digits.
    pub async fn hash(&mut self, name: &Name) -> Result<String, ClientError> {
        let result = self
            .simple(Command::Hash(name.clone()), Some(name.as_str()))
            .await;
        let result = result.and_then(|reply| {
            reply
                .sha256_hex()
                .map(str::to_owned)
                .ok_or_else(|| ClientError::Protocol(ProtoError::MalformedReply(reply.to_string())))
        });
        self.note(result)
    }

    /// `NOOP`: checks that the connection is alive.
    pub async fn noop(&mut self) -> Result<(), ClientError> {
        let result = self.simple(Command::Noop, None).await;
        self.note(result).map(drop)
    }

    /// `HELP`: the verbs the server knows, space-separated.
    pub async fn help(&mut self) -> Result<String, ClientError> {
        let result = self.simple(Command::Help, None).await;
        self.note(result).map(|reply| reply.text)
    }

    /// `QUIT`: says goodbye and closes the connection. A session that is
    /// already unusable is just closed.
    pub async fn quit(mut self) -> Result<(), ClientError> {
        let result = if self.is_usable() {
            self.simple(Command::Quit, None).await.map(drop)
        } else {
            Ok(())
        };
        self.transport.close().await;
        result
    }

    /// Sends a command whose only answer is one final reply.
    async fn simple(&mut self, command: Command, name: Option<&str>) -> Result<Reply, ClientError> {
        self.start_command(&command, name).await?;
        self.final_reply(&command, name).await
    }

    /// Sends `command`, then expects `150 <n> bytes`, n data bytes written to
    /// `sink`, and a final `226`. Returns the number of bytes.
    async fn receive<W>(
        &mut self,
        command: Command,
        name: Option<&str>,
        sink: &mut W,
        progress: &mut dyn TransferProgress,
        limit: Option<u64>,
    ) -> Result<u64, ClientError>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        self.start_command(&command, name).await?;
        let len = match self.next_event().await? {
            Incoming::DataStart(len) => len,
            Incoming::Reply(reply) => return Err(self.refused(&command, name, reply)),
            _ => return Err(unexpected("no 150 before the data")),
        };
        if let Some(limit) = limit.filter(|&limit| len > limit) {
            return Err(ClientError::Protocol(ProtoError::UnexpectedReply(format!(
                "a listing of {len} bytes is larger than the {limit} bytes accepted"
            ))));
        }
        progress.start(len);
        let mut received = 0u64;
        while received < len {
            match self.next_event().await? {
                Incoming::Data(bytes) => {
                    sink.write_all(&bytes)
                        .await
                        .map_err(|source| ClientError::Output { source })?;
                    received += bytes.len() as u64;
                    progress.advance(bytes.len() as u64);
                }
                _ => return Err(unexpected("a reply in the middle of the data")),
            }
        }
        sink.flush()
            .await
            .map_err(|source| ClientError::Output { source })?;
        self.final_reply(&command, name).await?;
        Ok(len)
    }

    /// Encodes `command` through the codec and sends it.
    async fn start_command(
        &mut self,
        command: &Command,
        name: Option<&str>,
    ) -> Result<(), ClientError> {
        if self.broken {
            return Err(ClientError::Disconnected);
        }
        let bytes = self.codec.send(command).map_err(|error| match error {
            ProtoError::Closed => ClientError::Disconnected,
            other => ClientError::Protocol(other),
        })?;
        debug!(peer = %self.peer, command = %command, "sending");
        self.send_bytes(&bytes, command.verb(), name).await
    }

    /// Waits for the final reply of `command`: success, or its refusal as an error.
    async fn final_reply(
        &mut self,
        command: &Command,
        name: Option<&str>,
    ) -> Result<Reply, ClientError> {
        match self.next_event().await? {
            Incoming::Reply(reply) if reply.is_success() => {
                info!(peer = %self.peer, command = %command, reply = %reply, "command done");
                Ok(reply)
            }
            Incoming::Reply(reply) => Err(self.refused(command, name, reply)),
            _ => Err(unexpected("data where a final reply was due")),
        }
    }

    /// Logs a refusal and turns it into the error the caller sees.
    fn refused(&self, command: &Command, name: Option<&str>, reply: Reply) -> ClientError {
        info!(peer = %self.peer, command = %command, reply = %reply, "command failed");
        ClientError::from_reply(command.verb(), name, reply)
    }

    /// Writes to the server; if that fails, the server may have said why
    /// before closing (e.g. `421 Idle timeout`), so a waiting reply is
    /// preferred as the explanation.
    async fn send_bytes(
        &mut self,
        bytes: &[u8],
        verb: Verb,
        name: Option<&str>,
    ) -> Result<(), ClientError> {
        let timeout = self.options.io_timeout;
        let error = match tokio::time::timeout(timeout, self.transport.send(bytes)).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) => error,
            Err(_) => ClientError::Timeout {
                seconds: timeout.as_secs(),
            },
        };
        if let Ok(Ok(Incoming::Reply(reply))) =
            tokio::time::timeout(EXPLAIN_WAIT, self.next_event()).await
        {
            if !reply.is_success() {
                return Err(ClientError::from_reply(verb, name, reply));
            }
        }
        Err(error)
    }

    /// The next event from the server, reading from the transport as needed.
    async fn next_event(&mut self) -> Result<Incoming, ClientError> {
        loop {
            if self.pending.is_empty() {
                let timeout = self.options.io_timeout;
                let chunk = tokio::time::timeout(timeout, self.transport.recv())
                    .await
                    .map_err(|_| ClientError::Timeout {
                        seconds: timeout.as_secs(),
                    })??;
                match chunk {
                    Some(chunk) => self.pending = chunk,
                    None => {
                        self.codec.finish().map_err(ClientError::from_proto)?;
                        return Err(ClientError::ClosedByServer);
                    }
                }
                continue;
            }
            // A cheap clone, so data events can share the buffer rather than borrow it.
            let chunk = self.pending.clone();
            let (consumed, event) = self.codec.decode(&chunk).map_err(ClientError::from_proto)?;
            self.pending.advance(consumed);
            let incoming = match event {
                None => continue,
                Some(Event::Greeting(reply)) => Incoming::Greeting(reply),
                Some(Event::DataStart { len, .. }) => Incoming::DataStart(len),
                Some(Event::Data(_)) => Incoming::Data(chunk.slice(..consumed)),
                Some(Event::SendData { .. }) => Incoming::SendData,
                Some(Event::Reply(reply)) => Incoming::Reply(reply),
            };
            return Ok(incoming);
        }
    }

    /// Marks the session unusable after a fatal error.
    fn note<V>(&mut self, result: Result<V, ClientError>) -> Result<V, ClientError> {
        if let Err(error) = &result {
            if error.is_fatal() {
                debug!(peer = %self.peer, %error, "session unusable");
                self.broken = true;
            }
        }
        result
    }
}

/// A protocol error for an event the codec should never have produced here.
fn unexpected(what: &str) -> ClientError {
    ClientError::Protocol(ProtoError::UnexpectedReply(what.to_owned()))
}

/// Validates a file name typed by the user before it is sent.
pub fn remote_name(name: &str) -> Result<Name, ClientError> {
    Name::new(name).map_err(|error| ClientError::invalid_name(name, error))
}
