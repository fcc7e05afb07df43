//! Ferry file server: serves the regular files of one directory over the
//! Ferry wire protocol (docs/PROTOCOL.md).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ferry_server::{Config, Server};
//! let server = Server::bind(Config::new("ferry-files"), "127.0.0.1:0".parse()?).await?;
//! println!("listening on {}", server.local_addr());
//! server.run(async { tokio::signal::ctrl_c().await.ok(); }).await?;
//! # Ok(()) }
//! ```
//!
//! Layout: `cli` holds the flags of the `ferry-server` binary
//! ([`CommandLine`]), `connection` frames one client's bytes, `cmd` holds
//! one module per command, `storage` confines every file operation to the
//! root, `shutdown` carries the graceful stop, `listener` holds the
//! listening sockets (the main one, the optional proxy listener and FTP
//! door), `proxy` the proxy listener's trust and PROXY headers, `ftp` the
//! FTP front door, `admission` lets each accepted connection in (or not), and
//! [`ServerError`] is the one error type, mapped to reply codes in one
//! place.

#![warn(missing_docs)]

pub mod accounts;
mod admission;
mod cli;
mod cmd;
mod connection;
mod error;
mod ftp;
mod listener;
mod lockout;
mod login;
mod proxy;
mod quota;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod sendfile;
mod session;
mod shutdown;
mod storage;

pub use cli::CommandLine;
pub use error::ServerError;
pub use ftp::{parse_passive_ports, FtpListener, TlsFiles, DEFAULT_PASSIVE_PORTS};
pub use proxy::{parse_trusted_proxy, ProxyListener, DEFAULT_HEADER_TIMEOUT};
pub use storage::{
    Secret, StoreKind, StoreSpec, ANONYMOUS_OWNER, KEPT_DIR, SAMPLE_FILES, TEMP_DIR,
};

use accounts::{Accounts, AnonymousAccess, LoginPolicy};
use admission::{Admission, Slot};
use connection::Connection;
use ferry_program::PerAddress;
use ferry_proto::{codes, Reply};
use listener::{Client, Door, Listeners};
use login::Logins;
use session::Session;
use shutdown::Shutdown;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::{ObjectStore, Storage, Store};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

/// Default root directory.
pub const DEFAULT_ROOT: &str = "./ferry-files";
/// Default listening address (port 8888, as the original application).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8888";
/// Default largest file STORE accepts: 16 GiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024 * 1024;
/// Default number of simultaneous connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default of `--max-per-address`.
pub const DEFAULT_MAX_PER_ADDRESS: usize = 64;
/// Default idle timeout.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default of `--line-timeout`: a client writes a command line (at most
/// 8 KiB) in one go; half a minute still leaves a person typing one into
/// `nc` time for it.
pub const DEFAULT_LINE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default resume window: how long the bytes of a cut-off upload are kept.
pub const DEFAULT_RESUME_WINDOW: Duration = Duration::from_secs(86_400);
/// Default time transfers in flight get to finish at shutdown.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Pause after an `accept` failure such as running out of descriptors, so
/// the loop does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// How long a refused connection gets to receive its `421` reply.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Server settings; [`Config::new`] gives the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Directory whose regular files are served; created (with sample
    /// files) if missing. Unused when `store` is set.
    pub root: PathBuf,
    /// An object store to serve from instead of `root` (`--store`).
    pub store: Option<StoreSpec>,
    /// Largest file STORE accepts, in bytes (`552` above it).
    pub max_file_size: u64,
    /// Most simultaneous connections; more get `421 Too many connections`.
    pub max_connections: usize,
    /// Most simultaneous connections from one client address (the
    /// announced one on the proxy listener); more get `421 Too many
    /// connections from your address`.
    pub max_per_address: usize,
    /// A connection silent this long gets `421 Idle timeout`; zero disables
    /// the timeout. Also bounds a stalled upload or download.
    pub idle_timeout: Duration,
    /// A command line not complete this long after its first byte gets
    /// `421 Line timeout`, however its bytes trickle in (each resets the
    /// idle timeout); zero disables it.
    pub line_timeout: Duration,
    /// Refuse STORE and DELETE with `550 Read-only`.
    pub read_only: bool,
    /// After shutdown is asked for, how long transfers in flight may take
    /// to finish before their connections are dropped.
    pub shutdown_grace: Duration,
    /// A second listener for connections that come through a proxy (the
    /// bridge with `--proxy-protocol`): each begins with a PROXY header
    /// naming the real client.
    pub proxy: Option<ProxyListener>,
    /// The FTP front door (`--ftp-listen`), if the server has one.
    pub ftp: Option<FtpListener>,
    /// The accounts file (`--accounts`): read at start (a bad file is a
    /// start-up error), then followed while the server runs.
    pub accounts: Option<PathBuf>,
    /// What a session may do before logging in; with accounts, set it too
    /// (the contract's default then is [`AnonymousAccess::Off`]).
    pub anonymous: AnonymousAccess,
    /// How logins are slowed down and counted.
    pub login: LoginPolicy,
    /// How long the bytes of a cut-off upload are kept for `RESUME`, from
    /// the moment it was cut off; zero keeps nothing.
    pub resume_window: Duration,
}

impl Config {
    /// Settings serving `root`, with the defaults for everything else.
    pub fn new(root: impl Into<PathBuf>) -> Config {
        Config {
            root: root.into(),
            store: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_per_address: DEFAULT_MAX_PER_ADDRESS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            line_timeout: DEFAULT_LINE_TIMEOUT,
            read_only: false,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            proxy: None,
            ftp: None,
            accounts: None,
            anonymous: AnonymousAccess::ReadWrite,
            login: LoginPolicy::default(),
            resume_window: DEFAULT_RESUME_WINDOW,
        }
    }
}

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct Shared {
    config: Config,
    storage: Store,
    /// The accounts in force, when the server has an accounts file.
    accounts: Option<Accounts>,
    /// Failed logins per client address and the password checks under way,
    /// for every listener.
    logins: Logins,
    /// What uploads in flight will add to their owners' usage (quotas).
    reservations: quota::Reservations,
    /// The FTP door's TLS configuration, loaded at start.
    ftp: Option<ftp::Prepared>,
}

/// A bound server, ready to [`run`](Server::run).
#[derive(Debug)]
pub struct Server {
    listeners: Listeners,
    shared: Arc<Shared>,
}

impl Server {
    /// Prepares the root (creating it with sample files if missing, and
    /// removing uploads left over by a crash) and binds the listener on
    /// `addr`, and the proxy listener if the configuration has one.
    pub async fn bind(config: Config, addr: SocketAddr) -> Result<Server, ServerError> {
        let accounts = match &config.accounts {
            Some(path) => Some(Accounts::open(path).await?),
            None => None,
        };
        let window = config.resume_window;
        let storage = match &config.store {
            Some(spec) => Store::Object(Arc::new(ObjectStore::open(spec.clone(), window).await?)),
            None => {
                let root = config.root.clone();
                let storage = tokio::task::spawn_blocking(move || Storage::open(&root, window))
                    .await
                    .map_err(io::Error::other)
                    .and_then(|opened| opened)
                    .map_err(|source| ServerError::Root {
                        path: config.root.clone(),
                        source,
                    })?;
                Store::Local(Arc::new(storage))
            }
        };
        let ftp = config.ftp.as_ref().map(ftp::prepare).transpose()?;
        let proxy_addr = config.proxy.as_ref().map(|proxy| proxy.addr);
        let ftp_addr = config.ftp.as_ref().map(|ftp| ftp.addr);
        let listeners = Listeners::bind(addr, proxy_addr, ftp_addr)?;
        Ok(Server {
            listeners,
            shared: Arc::new(Shared {
                logins: Logins::new(&config.login),
                reservations: quota::Reservations::default(),
                ftp,
                config,
                storage,
                accounts,
            }),
        })
    }

    /// The address the server listens on (with the real port when bound to
    /// port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listeners.main_addr()
    }

    /// The accounts in force (followed as the file changes), if the server
    /// has an accounts file.
    pub fn accounts(&self) -> Option<&Accounts> {
        self.shared.accounts.as_ref()
    }

    /// The proxy listener's address (with the real port when bound to port
    /// 0), if the configuration has one.
    pub fn proxy_addr(&self) -> Option<SocketAddr> {
        self.listeners.proxy_addr()
    }

    /// The FTP door's address (with the real port when bound to port 0), if
    /// the configuration has one.
    pub fn ftp_addr(&self) -> Option<SocketAddr> {
        self.listeners.ftp_addr()
    }

    /// Serves until `shutdown` resolves, then stops accepting, sends
    /// `421 Server shutting down` to idle connections and lets transfers in
    /// flight finish, for at most `shutdown_grace`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Server { listeners, shared } = self;
        let config = &shared.config;
        let served = shared
            .storage
            .describe()
            .unwrap_or_else(|| config.root.display().to_string());
        tracing::info!(
            addr = %listeners.main_addr(),
            root = %served,
            max_connections = config.max_connections,
            max_per_address = config.max_per_address,
            max_file_size = config.max_file_size,
            idle_timeout_s = config.idle_timeout.as_secs(),
            line_timeout_s = config.line_timeout.as_secs(),
            read_only = config.read_only,
            resume_window_s = config.resume_window.as_secs(),
            "ferry-server listening"
        );
        if let (Some(proxy_addr), Some(proxy)) = (listeners.proxy_addr(), &config.proxy) {
            let trusted: Vec<String> = proxy.trusted.iter().map(ToString::to_string).collect();
            tracing::info!(
                %proxy_addr,
                trusted = %trusted.join(","),
                header_timeout_ms = proxy.header_timeout.as_millis() as u64,
                "proxy listener: connections begin with a PROXY header"
            );
        }
        if let (Some(ftp_addr), Some(ftp)) = (listeners.ftp_addr(), &config.ftp) {
            tracing::info!(
                %ftp_addr,
                passive_ports = %format!("{}-{}", ftp.passive_ports.start(), ftp.passive_ports.end()),
                ftps = ftp.tls.is_some(),
                "FTP door listening"
            );
        }
        let stop = Shutdown::new();
        let sweeper = tokio::spawn(sweep_kept_uploads(shared.storage.clone()));
        let tasks = TaskTracker::new();
        let slots = Arc::new(Semaphore::new(config.max_connections));
        let per_address = PerAddress::new(config.max_per_address);
        tokio::pin!(shutdown);
        loop {
            let (door, accepted) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listeners.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    if !listener::is_per_connection(&error) {
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                    continue;
                }
            };
            // Replies are small and each waits for the next command; do not
            // let Nagle's algorithm hold them back.
            let _ = stream.set_nodelay(true);
            let admission = Admission {
                slots: Arc::clone(&slots),
                per_address: per_address.clone(),
                shared: Arc::clone(&shared),
                stop: stop.clone(),
            };
            match door {
                // The slot is taken here, in accept order.
                Door::Main => admission.admit(stream, Client::direct(peer), &tasks),
                Door::Ftp => admission.admit_ftp(stream, Client::direct(peer), &tasks),
                Door::Proxy => {
                    tasks.spawn(admission.identify_then_serve(stream, peer));
                }
            }
        }
        drop(listeners);
        let grace = config.shutdown_grace;
        tracing::info!(
            connections = tasks.len(),
            grace_s = grace.as_secs_f64(),
            "shutting down: no longer accepting"
        );
        stop.begin();
        tasks.close();
        if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
            tracing::warn!(
                connections = tasks.len(),
                "shutdown grace period over: dropping the remaining connections"
            );
            stop.force();
            tasks.wait().await;
        }
        // Uploads cut off by the forced stop are kept before it ends.
        shared.storage.settle().await;
        sweeper.abort();
        tracing::info!("server stopped");
        Ok(())
    }
}

/// Removes the kept uploads whose resume window has ended, as it ends,
/// while the server runs: a bounded batch at a time, again at once while
/// batches come back full.
async fn sweep_kept_uploads(storage: Store) {
    let mut interval = tokio::time::interval(storage::SWEEP_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        loop {
            match storage.sweep(std::time::SystemTime::now()).await {
                Ok(n) if n >= storage::SWEEP_BATCH => continue,
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, "sweeping kept uploads failed");
                    break;
                }
            }
        }
    }
}

/// Answers a connection that is not let in (`421` instead of `220`, for
/// `why`) and closes it.
async fn refuse(stream: TcpStream, client: Client, why: ServerError) {
    tracing::info!(
        peer = %client.addr,
        via = client.via.map(tracing::field::display),
        "connection refused: {why}"
    );
    let mut conn = Connection::new(stream, client.addr, REFUSAL_TIMEOUT).through_proxy(client.via);
    if let Some(reply) = why.reply() {
        let _ = conn.write_reply(&reply).await;
    }
    conn.close().await;
}

/// Runs one connection from greeting to close, and logs it; `slot` is
/// given back as the session ends, before the closing linger.
async fn serve(stream: TcpStream, client: Client, shared: &Shared, stop: &Shutdown, slot: Slot) {
    let started = Instant::now();
    let mut conn = Connection::new(stream, client.addr, shared.config.idle_timeout)
        .with_line_timeout(shared.config.line_timeout)
        .through_proxy(client.via);
    let end = tokio::select! {
        end = session(&mut conn, shared, stop) => end,
        () = stop.forced() => "dropped at the end of the shutdown grace period".to_owned(),
    };
    let (bytes_in, bytes_out, proxy) = (conn.bytes_in(), conn.bytes_out(), conn.proxy());
    drop(slot);
    conn.close().await;
    tracing::info!(
        peer = %client.addr,
        via = proxy.map(tracing::field::display),
        duration_ms = started.elapsed().as_millis() as u64,
        bytes_in,
        bytes_out,
        end = %end,
        "connection"
    );
}

/// Greets the client and runs its commands; returns why the session ended.
async fn session(conn: &mut Connection, shared: &Shared, stop: &Shutdown) -> String {
    let greeting = Reply::new(
        codes::READY,
        format!("ferry {} ready", env!("CARGO_PKG_VERSION")),
    );
    if let Err(error) = conn.write_reply(&greeting).await {
        return error.to_string();
    }
    let mut session = Session::new(&shared.config);
    loop {
        let line = tokio::select! {
            biased;
            () = stop.stopping() => Err(ServerError::ShuttingDown),
            line = conn.read_line() => line,
        };
        match line {
            Ok(Some(line)) => {
                if let cmd::Flow::Close(reason) =
                    cmd::dispatch(line, conn, shared, &mut session).await
                {
                    return reason;
                }
            }
            Ok(None) => return "closed by the client".to_owned(),
            Err(error) => {
                if let Some(reply) = error.reply() {
                    let _ = conn.write_reply(&reply).await;
                }
                return error.to_string();
            }
        }
    }
}
