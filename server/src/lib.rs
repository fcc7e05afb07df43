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
//! root, `shutdown` carries the graceful stop, and [`ServerError`] is the
//! one error type, mapped to reply codes in one place.

#![warn(missing_docs)]

mod cli;
mod cmd;
mod connection;
mod error;
mod shutdown;
mod storage;

pub use cli::CommandLine;
pub use error::ServerError;
pub use storage::{SAMPLE_FILES, TEMP_DIR};

use connection::Connection;
use ferry_proto::{codes, Reply};
use shutdown::Shutdown;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::Storage;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
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
/// Default idle timeout.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default time transfers in flight get to finish at shutdown.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Pending connections the kernel queues before `accept`.
const LISTEN_BACKLOG: u32 = 4096;
/// Pause after an `accept` failure such as running out of descriptors, so
/// the loop does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// How long a refused connection gets to receive its `421` reply.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Server settings; [`Config::new`] gives the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Directory whose regular files are served; created (with sample
    /// files) if missing.
    pub root: PathBuf,
    /// Largest file STORE accepts, in bytes (`552` above it).
    pub max_file_size: u64,
    /// Most simultaneous connections; more get `421 Too many connections`.
    pub max_connections: usize,
    /// A connection silent this long gets `421 Idle timeout`; zero disables
    /// the timeout. Also bounds a stalled upload or download.
    pub idle_timeout: Duration,
    /// Refuse STORE and DELETE with `550 Read-only`.
    pub read_only: bool,
    /// After shutdown is asked for, how long transfers in flight may take
    /// to finish before their connections are dropped.
    pub shutdown_grace: Duration,
}

impl Config {
    /// Settings serving `root`, with the defaults for everything else.
    pub fn new(root: impl Into<PathBuf>) -> Config {
        Config {
            root: root.into(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            read_only: false,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct Shared {
    config: Config,
    storage: Arc<Storage>,
}

/// A bound server, ready to [`run`](Server::run).
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Server {
    /// Prepares the root (creating it with sample files if missing, and
    /// removing uploads left over by a crash) and binds the listener.
    pub async fn bind(config: Config, addr: SocketAddr) -> Result<Server, ServerError> {
        let root = config.root.clone();
        let storage = tokio::task::spawn_blocking(move || Storage::open(&root))
            .await
            .map_err(io::Error::other)
            .and_then(|opened| opened)
            .map_err(|source| ServerError::Root {
                path: config.root.clone(),
                source,
            })?;
        let listener = listen(addr).map_err(|source| ServerError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        Ok(Server {
            listener,
            local_addr,
            shared: Arc::new(Shared {
                config,
                storage: Arc::new(storage),
            }),
        })
    }

    /// The address the server listens on (with the real port when bound to
    /// port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves, then stops accepting, sends
    /// `421 Server shutting down` to idle connections and lets transfers in
    /// flight finish, for at most `shutdown_grace`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Server {
            listener,
            local_addr,
            shared,
        } = self;
        let config = &shared.config;
        tracing::info!(
            addr = %local_addr,
            root = %config.root.display(),
            max_connections = config.max_connections,
            max_file_size = config.max_file_size,
            idle_timeout_s = config.idle_timeout.as_secs(),
            read_only = config.read_only,
            "ferry-server listening"
        );
        let stop = Shutdown::new();
        let tasks = TaskTracker::new();
        let slots = Arc::new(Semaphore::new(config.max_connections));
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    if !is_per_connection(&error) {
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                    continue;
                }
            };
            // Replies are small and each waits for the next command; do not
            // let Nagle's algorithm hold them back.
            let _ = stream.set_nodelay(true);
            match Arc::clone(&slots).try_acquire_owned() {
                Ok(slot) => {
                    let shared = Arc::clone(&shared);
                    let stop = stop.clone();
                    tasks.spawn(async move {
                        serve(stream, peer, &shared, &stop).await;
                        drop(slot);
                    });
                }
                Err(_) => {
                    tasks.spawn(refuse(stream, peer));
                }
            }
        }
        drop(listener);
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
        tracing::info!("server stopped");
        Ok(())
    }
}

/// A listening socket with a large backlog, so bursts of thousands of
/// connections are queued rather than refused by the kernel.
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Errors of `accept` that concern only the connection being accepted.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Answers a connection over the limit and closes it.
async fn refuse(stream: TcpStream, peer: SocketAddr) {
    tracing::info!(%peer, "connection refused: too many connections");
    let mut conn = Connection::new(stream, peer, REFUSAL_TIMEOUT);
    if let Some(reply) = ServerError::TooManyConnections.reply() {
        let _ = conn.write_reply(&reply).await;
    }
    conn.close().await;
}

/// Runs one connection from greeting to close, and logs it.
async fn serve(stream: TcpStream, peer: SocketAddr, shared: &Shared, stop: &Shutdown) {
    let started = Instant::now();
    let mut conn = Connection::new(stream, peer, shared.config.idle_timeout);
    let end = tokio::select! {
        end = session(&mut conn, shared, stop) => end,
        () = stop.forced() => "dropped at the end of the shutdown grace period".to_owned(),
    };
    let (bytes_in, bytes_out) = (conn.bytes_in(), conn.bytes_out());
    conn.close().await;
    tracing::info!(
        %peer,
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
    loop {
        let line = tokio::select! {
            biased;
            () = stop.stopping() => Err(ServerError::ShuttingDown),
            line = conn.read_line() => line,
        };
        match line {
            Ok(Some(line)) => {
                if let cmd::Flow::Close(reason) = cmd::dispatch(line, conn, shared).await {
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
