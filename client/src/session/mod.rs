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
    ClientDriver, Delete, Event, Exchange, Hash, Help, List, ListingEntry, Login, Mkdir, Noop,
    Pass, Password, Path, Quit, Read, Rename, Reply, Resume, Retrieve, Rmdir, Stat, Status, Store,
    User,
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

    /// `LIST`: the entries of the home (`None`) or of a directory, sorted
    /// as the server sends them.
    pub async fn list(&mut self, dir: Option<&Path>) -> Result<Vec<ListingEntry>, ClientError> {
        self.run(&List(dir.cloned()), Transfer::None, &mut ()).await
    }

    /// `RETRIEVE`: writes the file's bytes to `sink` as they arrive and
    /// returns how many there were. On error, `sink` may hold a prefix of the
    /// file: callers that write to a file must discard it.
    pub async fn retrieve<W>(
        &mut self,
        path: &Path,
        mut sink: &mut W,
        progress: &mut dyn TransferProgress,
    ) -> Result<u64, ClientError>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        self.receive(&Retrieve(path.clone()), &mut sink, progress)
            .await
    }

    /// `READ`: writes up to `length` bytes of the file from `offset` to
    /// `sink` and returns how many the server sent (fewer at the end of the
    /// file). On error `sink` may hold what arrived before it.
    pub async fn read<W>(
        &mut self,
        path: &Path,
        offset: u64,
        length: u64,
        mut sink: &mut W,
        progress: &mut dyn TransferProgress,
    ) -> Result<u64, ClientError>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        let exchange = Read {
            path: path.clone(),
            offset,
            length,
        };
        self.receive(&exchange, &mut sink, progress).await
    }

    /// RETRIEVE or READ: runs `exchange` with its bytes going to `sink`, and
    /// returns how many the server's `150` announced (all of them, since the
    /// exchange fails on fewer).
    async fn receive<E: Exchange<Success = ()>>(
        &mut self,
        exchange: &E,
        sink: &mut (dyn AsyncWrite + Unpin + Send),
        progress: &mut dyn TransferProgress,
    ) -> Result<u64, ClientError> {
        let mut counted = Announced::new(progress);
        self.run(exchange, Transfer::Sink(sink), &mut counted)
            .await?;
        Ok(counted.total)
    }

    /// `STORE`: uploads exactly `size` bytes read from `source` as `path`.
    ///
    /// Nothing is sent before the server's `150`. If `source` ends early the
    /// upload is abandoned by dropping the connection, which the contract
    /// guarantees leaves no trace on the server.
    pub async fn store<R>(
        &mut self,
        path: &Path,
        size: u64,
        mut source: &mut R,
        progress: &mut dyn TransferProgress,
    ) -> Result<(), ClientError>
    where
        R: AsyncRead + Unpin + Send + ?Sized,
    {
        let exchange = Store {
            path: path.clone(),
            size,
        };
        self.run(&exchange, Transfer::Source(&mut source), progress)
            .await
    }

    /// `RESUME`: continues an upload of `size` bytes of `source` as `path`.
    /// The server says how many bytes it still needs; the ones it kept are
    /// read from `source` and passed over (so a hash of `source` still sees
    /// every byte), the rest are sent. Returns how many bytes the server had kept.
    pub async fn resume<R>(
        &mut self,
        path: &Path,
        size: u64,
        mut source: &mut R,
        progress: &mut dyn TransferProgress,
    ) -> Result<u64, ClientError>
    where
        R: AsyncRead + Unpin + Send + ?Sized,
    {
        let mut counted = Announced::new(progress);
        let exchange = Resume {
            path: path.clone(),
            size,
        };
        self.run(&exchange, Transfer::Source(&mut source), &mut counted)
            .await?;
        Ok(counted.kept)
    }

    /// `DELETE`: removes a file on the server.
    pub async fn delete(&mut self, path: &Path) -> Result<(), ClientError> {
        self.run(&Delete(path.clone()), Transfer::None, &mut ())
            .await
    }

    /// `HASH`: the SHA-256 of a file on the server, as 64 lowercase hex digits.
    pub async fn hash(&mut self, path: &Path) -> Result<String, ClientError> {
        self.run(&Hash(path.clone()), Transfer::None, &mut ()).await
    }

    /// `STAT`: whether `path` is a file (and its size) or a directory.
    pub async fn stat(&mut self, path: &Path) -> Result<Status, ClientError> {
        self.run(&Stat(path.clone()), Transfer::None, &mut ()).await
    }

    /// `MKDIR`: creates a directory (its parent must exist).
    pub async fn mkdir(&mut self, path: &Path) -> Result<(), ClientError> {
        self.run(&Mkdir(path.clone()), Transfer::None, &mut ())
            .await
    }

    /// `RMDIR`: removes an empty directory.
    pub async fn rmdir(&mut self, path: &Path) -> Result<(), ClientError> {
        self.run(&Rmdir(path.clone()), Transfer::None, &mut ())
            .await
    }

    /// `RENAME`: moves `from` to `to` (a file onto a file replaces it).
    pub async fn rename(&mut self, from: &Path, to: &Path) -> Result<(), ClientError> {
        let exchange = Rename {
            from: from.clone(),
            to: to.clone(),
        };
        self.run(&exchange, Transfer::None, &mut ()).await
    }

    /// `USER` then, if the server asks for one, `PASS` with the password
    /// `password` gives. `password` is called only after `331`, so a server
    /// without accounts (`230` to USER) is never sent one and nobody is asked.
    pub async fn login<F>(&mut self, user: &str, password: F) -> Result<Login, ClientError>
    where
        F: FnOnce() -> Result<Password, ClientError>,
    {
        let step = self
            .run(&User(user.to_owned()), Transfer::None, &mut ())
            .await?;
        if step == Login::PasswordRequired {
            let password = password()?;
            self.run(&Pass(password), Transfer::None, &mut ()).await?;
        }
        Ok(step)
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

/// Forwards progress and keeps the size the server announced (and, for
/// RESUME, how many bytes it had kept).
struct Announced<'a> {
    inner: &'a mut dyn TransferProgress,
    total: u64,
    kept: u64,
}

impl<'a> Announced<'a> {
    fn new(inner: &'a mut dyn TransferProgress) -> Announced<'a> {
        Announced {
            inner,
            total: 0,
            kept: 0,
        }
    }
}

impl TransferProgress for Announced<'_> {
    fn start(&mut self, total: u64) {
        self.total = total;
        self.inner.start(total);
    }

    fn resumed(&mut self, kept: u64) {
        self.kept = kept;
        self.inner.resumed(kept);
    }

    fn advance(&mut self, bytes: u64) {
        self.inner.advance(bytes);
    }
}
