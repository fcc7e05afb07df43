//! A client session: ferry-proto's [`ClientDriver`] over any [`Transport`],
//! one command at a time, each through the one loop in [`run`].
//!
//! All protocol decisions (what a reply means at this point, how many data
//! bytes follow, which success a command can have) are the driver's and the
//! [`Exchange`]'s; this module only opens the session and names the commands.

mod options;
mod run;

pub use options::{SessionOptions, Transfer, TransferProgress};

use crate::transport::{AnyTransport, Transport};
use crate::{ClientError, Target};
use ferry_proto::{
    ClientDriver, Delete, Event, Hash, Help, List, ListingEntry, Name, Noop, Quit, Reply, Retrieve,
    Store,
};
use run::unexpected;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::info;

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
            Event::Greeting(reply) => {
                info!(peer = %session.peer, greeting = %reply, "connected");
                session.greeting = reply;
                Ok(session)
            }
            Event::Closing(reply) => Err(ClientError::ServerClosing { text: reply.text }),
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
        self.run(&List(None), Transfer::None, &mut ()).await
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
        let exchange = Retrieve(name.clone().into());
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
            path: name.clone().into(),
            size,
        };
        self.run(&exchange, Transfer::Source(&mut source), progress)
            .await
    }

    /// `DELETE`: removes a file on the server.
    pub async fn delete(&mut self, name: &Name) -> Result<(), ClientError> {
        self.run(&Delete(name.clone().into()), Transfer::None, &mut ())
            .await
    }

    /// `HASH`: the SHA-256 of a file on the server, as 64 lowercase hex digits.
    pub async fn hash(&mut self, name: &Name) -> Result<String, ClientError> {
        self.run(&Hash(name.clone().into()), Transfer::None, &mut ())
            .await
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

/// Validates a file name typed by the user before it is sent.
pub fn remote_name(name: &str) -> Result<Name, ClientError> {
    Name::new(name).map_err(|error| ClientError::invalid_name(name, error))
}
