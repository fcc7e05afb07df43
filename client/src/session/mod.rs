//! A client session: drives ferry-proto's [`ClientDriver`] over any
//! [`Transport`], with one loop ([`Session::run`]) for every command.
//!
//! All protocol decisions (what a reply means at this point, how many data
//! bytes follow, which success a command can have) are the driver's and the
//! [`Exchange`]'s; this module only moves bytes between the driver, the
//! transport and the caller's readers and writers, with constant memory for
//! file transfers, and turns what goes wrong into a [`ClientError`].

use crate::transport::{AnyTransport, Transport};
use crate::{ClientError, Target};
use bytes::{Bytes, BytesMut};
use ferry_proto::{
    ClientDriver, Command, Delete, DriverEvent, Exchange, Hash, Help, List, ListingEntry, Name,
    Noop, ProtoError, Quit, Reply, Retrieve, Store,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, info};

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
    /// Size of one upload write (one WebSocket message through a bridge).
    pub upload_chunk: usize,
    /// TLS settings for `wss://`; `None` trusts the webpki roots.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(60),
            max_listing_len: ferry_proto::DEFAULT_MAX_LISTING_LEN,
            upload_chunk: 64 * 1024,
            tls: None,
        }
    }
}

/// Receives progress reports of a transfer (e.g. to draw a progress bar).
/// `Send`, so a session's commands can run on any tokio task.
pub trait TransferProgress: Send {
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

/// Where the file bytes of an exchange go or come from.
pub enum Transfer<'a> {
    /// The command moves no file bytes (a LIST body is collected by the driver).
    None,
    /// RETRIEVE: the bytes are written here as they arrive.
    Sink(&'a mut (dyn AsyncWrite + Unpin + Send)),
    /// STORE: the announced number of bytes is read from here.
    Source(&'a mut (dyn AsyncRead + Unpin + Send)),
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
    driver: ClientDriver,
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
            driver: ClientDriver::new().with_max_listing_len(options.max_listing_len),
            greeting: Reply::new(0, ""),
            peer,
            options,
            broken: false,
        };
        match session.next_event().await? {
            DriverEvent::Greeting(reply) => {
                info!(peer = %session.peer, greeting = %reply, "connected");
                session.greeting = reply;
                Ok(session)
            }
            DriverEvent::Closing(reply) => Err(ClientError::ServerClosing { text: reply.text }),
            _ => Err(unexpected("data before the greeting")),
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
        !self.broken && !self.driver.is_closed()
    }

    /// `LIST`: the regular files on the server, sorted by name.
    pub async fn list(&mut self) -> Result<Vec<ListingEntry>, ClientError> {
        self.run(&List, Transfer::None, &mut ()).await
    }

    /// `RETRIEVE`: writes the file's bytes to `sink` as they arrive and
    /// returns how many there were. On error, `sink` may hold a prefix of the
    /// file: callers that write to a file must discard it.
    pub async fn retrieve<W>(
        &mut self,
        name: &Name,
        mut sink: &mut W,
        progress: &mut dyn TransferProgress,
    ) -> Result<u64, ClientError>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        let mut counted = Announced {
            inner: progress,
            total: 0,
        };
        let exchange = Retrieve(name.clone());
        self.run(&exchange, Transfer::Sink(&mut sink), &mut counted)
            .await?;
        Ok(counted.total)
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
        mut source: &mut R,
        progress: &mut dyn TransferProgress,
    ) -> Result<(), ClientError>
    where
        R: AsyncRead + Unpin + Send + ?Sized,
    {
        let exchange = Store {
            name: name.clone(),
            size,
        };
        self.run(&exchange, Transfer::Source(&mut source), progress)
            .await
    }

    /// `DELETE`: removes a file on the server.
    pub async fn delete(&mut self, name: &Name) -> Result<(), ClientError> {
        self.run(&Delete(name.clone()), Transfer::None, &mut ())
            .await
    }

    /// `HASH`: the SHA-256 of a file on the server, as 64 lowercase hex digits.
    pub async fn hash(&mut self, name: &Name) -> Result<String, ClientError> {
        self.run(&Hash(name.clone()), Transfer::None, &mut ()).await
    }

    /// `NOOP`: checks that the connection is alive.
    pub async fn noop(&mut self) -> Result<(), ClientError> {
        self.run(&Noop, Transfer::None, &mut ()).await
    }

    /// `HELP`: the verbs the server knows, space-separated.
    pub async fn help(&mut self) -> Result<String, ClientError> {
        self.run(&Help, Transfer::None, &mut ()).await
    }

    /// `QUIT`: says goodbye and closes the connection. A session that is
    /// already unusable is just closed.
    pub async fn quit(mut self) -> Result<(), ClientError> {
        let result = if self.is_usable() {
            self.run(&Quit, Transfer::None, &mut ()).await
        } else {
            Ok(())
        };
        self.transport.close().await;
        result
    }

    /// Ends the session without a word and hands back its transport (to
    /// close it some other way, or to watch how the other end closes it).
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Runs one command to its end: the one loop behind every method above.
    /// File bytes go to or come from `transfer`; the session is marked
    /// unusable if the error is fatal.
    pub async fn run<E: Exchange>(
        &mut self,
        exchange: &E,
        transfer: Transfer<'_>,
        progress: &mut dyn TransferProgress,
    ) -> Result<E::Success, ClientError> {
        let result = self.drive(exchange, transfer, progress).await;
        if let Err(error) = &result {
            if error.is_fatal() {
                debug!(peer = %self.peer, %error, "session unusable");
                self.broken = true;
            }
        }
        result
    }

    /// [`Session::run`] before the session is marked unusable on a fatal error.
    async fn drive<E: Exchange>(
        &mut self,
        exchange: &E,
        mut transfer: Transfer<'_>,
        progress: &mut dyn TransferProgress,
    ) -> Result<E::Success, ClientError> {
        let command = exchange.command();
        let subject = exchange.subject();
        self.start_command(&command, subject).await?;
        let mut received_data = false;
        loop {
            match (self.next_event().await?, &mut transfer) {
                (DriverEvent::Incoming { len }, Transfer::Sink(_)) => {
                    received_data = true;
                    progress.start(len);
                }
                (DriverEvent::Data(bytes), Transfer::Sink(sink)) => {
                    sink.write_all(&bytes)
                        .await
                        .map_err(|source| ClientError::Output { source })?;
                    progress.advance(bytes.len() as u64);
                }
                (DriverEvent::Send { len }, Transfer::Source(source)) => {
                    progress.start(len);
                    self.upload(&mut **source, len, subject, progress).await?;
                }
                (DriverEvent::Done(outcome), transfer) => {
                    if let (Transfer::Sink(sink), true) = (transfer, received_data) {
                        sink.flush()
                            .await
                            .map_err(|source| ClientError::Output { source })?;
                    }
                    return match outcome {
                        Ok(done) => {
                            info!(peer = %self.peer, command = %command, reply = %done.reply, "command done");
                            exchange.success(done).map_err(ClientError::Protocol)
                        }
                        Err(refusal) => {
                            info!(peer = %self.peer, command = %command, reply = %refusal.reply, "command failed");
                            Err(ClientError::refused(refusal, subject))
                        }
                    };
                }
                (event, _) => {
                    return Err(unexpected(&format!("{event:?} in answer to {command}")));
                }
            }
        }
    }

    /// Sends exactly `size` bytes read from `source`; abandons the upload
    /// (closing the connection) if `source` ends early.
    async fn upload(
        &mut self,
        source: &mut (dyn AsyncRead + Unpin + Send),
        size: u64,
        subject: Option<&str>,
        progress: &mut dyn TransferProgress,
    ) -> Result<(), ClientError> {
        let chunk = self.options.upload_chunk.max(1);
        let mut buffer = BytesMut::new();
        let mut sent = 0u64;
        while sent < size {
            let want = usize::try_from(size - sent).map_or(chunk, |left| left.min(chunk));
            buffer.reserve(want);
            let read = (&mut *source)
                .take(want as u64)
                .read_buf(&mut buffer)
                .await
                .map_err(|source| ClientError::Input { source })?;
            if read == 0 {
                self.transport.close().await;
                return Err(ClientError::ShortInput {
                    expected: size,
                    actual: sent,
                });
            }
            self.send_bytes(buffer.split().freeze(), subject).await?;
            sent += read as u64;
            progress.advance(read as u64);
        }
        Ok(())
    }

    /// Starts `command` in the driver and sends it.
    async fn start_command(
        &mut self,
        command: &Command,
        subject: Option<&str>,
    ) -> Result<(), ClientError> {
        if self.broken {
            return Err(ClientError::Disconnected);
        }
        let bytes = self.driver.start(command).map_err(|error| match error {
            ProtoError::Closed => ClientError::Disconnected,
            other => ClientError::Protocol(other),
        })?;
        debug!(peer = %self.peer, command = %command, "sending");
        self.send_bytes(Bytes::from(bytes), subject).await
    }

    /// Writes to the server; if that fails, the server may have said why
    /// before closing (e.g. `421 Idle timeout`), so a waiting refusal is
    /// preferred as the explanation.
    async fn send_bytes(&mut self, bytes: Bytes, subject: Option<&str>) -> Result<(), ClientError> {
        let timeout = self.options.io_timeout;
        let error = match tokio::time::timeout(timeout, self.transport.send(bytes)).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) => error,
            Err(_) => ClientError::Timeout {
                seconds: timeout.as_secs(),
            },
        };
        if let Ok(Ok(DriverEvent::Done(Err(refusal)))) =
            tokio::time::timeout(EXPLAIN_WAIT, self.next_event()).await
        {
            return Err(ClientError::refused(refusal, subject));
        }
        Err(error)
    }

    /// The next event from the driver, reading from the transport as needed.
    async fn next_event(&mut self) -> Result<DriverEvent, ClientError> {
        loop {
            if let Some(event) = self.driver.poll().map_err(ClientError::from_proto)? {
                return Ok(event);
            }
            let timeout = self.options.io_timeout;
            let chunk = tokio::time::timeout(timeout, self.transport.recv())
                .await
                .map_err(|_| ClientError::Timeout {
                    seconds: timeout.as_secs(),
                })??;
            match chunk {
                Some(chunk) => self.driver.feed(chunk),
                None => {
                    self.driver.end().map_err(ClientError::from_proto)?;
                    return Err(ClientError::ClosedByServer);
                }
            }
        }
    }
}

/// Forwards progress and keeps the size the server announced.
struct Announced<'a> {
    inner: &'a mut dyn TransferProgress,
    total: u64,
}

impl TransferProgress for Announced<'_> {
    fn start(&mut self, total: u64) {
        self.total = total;
        self.inner.start(total);
    }

    fn advance(&mut self, bytes: u64) {
        self.inner.advance(bytes);
    }
}

/// A protocol error for an event that cannot answer the command in flight.
fn unexpected(what: &str) -> ClientError {
    ClientError::Protocol(ProtoError::UnexpectedReply(what.to_owned()))
}

/// Validates a file name typed by the user before it is sent.
pub fn remote_name(name: &str) -> Result<Name, ClientError> {
    Name::new(name).map_err(|error| ClientError::invalid_name(name, error))
}
