//! The test server: ferry-server in this process on 127.0.0.1:0, serving
//! `<tempdir>/root`. The temporary directory around the root is the
//! test's too, for things that must stay untouched (and for the accounts
//! file, `<tempdir>/accounts.toml`, when the server has accounts).

use crate::accounts::{write_accounts_file, Anonymous, LoginOptions, TestAccount};
use crate::service::{Bound, Service, StopSignal, Stopped};
use ferry_server::{Config, FtpListener, ProxyListener, Server, TlsFiles};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::oneshot;

/// The server's limits, each defaulting to ferry-server's own default.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub max_file_size: u64,
    pub max_connections: usize,
    /// Connections per client address (`--max-per-address`). The one
    /// exception to ferry-server's defaults: here as many as
    /// `max_connections`, since every test client is 127.0.0.1 and the load
    /// tests open hundreds; the tests of the cap set it.
    pub max_per_address: usize,
    /// Zero disables the idle timeout.
    pub idle_timeout: Duration,
    /// Zero disables the line timeout.
    pub line_timeout: Duration,
    pub read_only: bool,
    pub shutdown_grace: Duration,
    /// How long a cut-off upload's bytes are kept (`--resume-window`);
    /// zero keeps nothing.
    pub resume_window: Duration,
    /// A proxy listener on 127.0.0.1:0 too (`--proxy-listen`); `None`: none.
    pub proxy: Option<ProxyOptions>,
    /// The FTP door on 127.0.0.1:0 too (`--ftp-listen`); `None`: none.
    pub ftp: Option<FtpOptions>,
    /// The accounts of an accounts file written before the server starts
    /// (`--accounts`); `None`: a server without accounts.
    pub accounts: Option<Vec<TestAccount>>,
    /// `--anonymous`; `None`: the contract's default (read-write without
    /// accounts, off with them).
    pub anonymous: Option<Anonymous>,
    /// The login flags.
    pub login: LoginOptions,
    /// The address the main listener binds (port 0); default 127.0.0.1.
    pub listen_ip: IpAddr,
}

/// The proxy listener's settings, defaulting to ferry-server's own.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// Trusted peers, each an address or a CIDR range (`--trust-proxy`);
    /// empty: ferry-server's default, loopback.
    pub trusted: Vec<String>,
    /// How long a connection has to send its PROXY header.
    pub header_timeout: Duration,
}

impl Default for ProxyOptions {
    fn default() -> ProxyOptions {
        ProxyOptions {
            trusted: Vec::new(),
            header_timeout: ferry_server::DEFAULT_HEADER_TIMEOUT,
        }
    }
}

/// The FTP door's settings.
#[derive(Debug, Clone, Default)]
pub struct FtpOptions {
    /// `--ftp-passive-ports`; ferry-server's default when `None`.
    pub passive_ports: Option<std::ops::RangeInclusive<u16>>,
    /// `--tls-cert` and `--tls-key`: explicit FTPS.
    pub tls: Option<TlsFiles>,
}

impl FtpOptions {
    fn listener(self) -> FtpListener {
        let mut listener = FtpListener::new("127.0.0.1:0".parse().unwrap());
        if let Some(ports) = self.passive_ports {
            listener.passive_ports = ports;
        }
        listener.tls = self.tls;
        listener
    }
}

impl ProxyOptions {
    fn listener(self) -> ProxyListener {
        let mut listener = ProxyListener::new("127.0.0.1:0".parse().unwrap());
        if !self.trusted.is_empty() {
            listener.trusted = self
                .trusted
                .iter()
                .map(|text| {
                    ferry_server::parse_trusted_proxy(text)
                        .unwrap_or_else(|error| panic!("trusted proxy {text:?}: {error}"))
                })
                .collect();
        }
        listener.header_timeout = self.header_timeout;
        listener
    }
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        let defaults = Config::new(PathBuf::new());
        ServerOptions {
            max_file_size: defaults.max_file_size,
            max_connections: defaults.max_connections,
            max_per_address: defaults.max_connections,
            idle_timeout: defaults.idle_timeout,
            line_timeout: defaults.line_timeout,
            read_only: defaults.read_only,
            shutdown_grace: defaults.shutdown_grace,
            resume_window: defaults.resume_window,
            proxy: None,
            ftp: None,
            accounts: None,
            anonymous: None,
            login: LoginOptions::default(),
            listen_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        }
    }
}

impl ServerOptions {
    fn config(self, root: &Path) -> Config {
        let accounts = self.accounts.map(|accounts| {
            let file = accounts_file(root);
            write_accounts_file(&file, &accounts);
            file
        });
        let anonymous = self.anonymous.map_or(
            ferry_server::accounts::AnonymousAccess::default_for(accounts.is_some()),
            Anonymous::access,
        );
        Config {
            accounts,
            anonymous,
            login: self.login.policy(),
            max_file_size: self.max_file_size,
            max_connections: self.max_connections,
            max_per_address: self.max_per_address,
            idle_timeout: self.idle_timeout,
            line_timeout: self.line_timeout,
            read_only: self.read_only,
            shutdown_grace: self.shutdown_grace,
            resume_window: self.resume_window,
            proxy: self.proxy.map(ProxyOptions::listener),
            ftp: self.ftp.map(FtpOptions::listener),
            ..Config::new(root)
        }
    }
}

/// Files of the kept partial uploads under `root` (a data file and a
/// record each), sorted.
pub fn kept_entries(root: &Path) -> Vec<String> {
    let mut names = dir_entries(
        &root
            .join(ferry_server::TEMP_DIR)
            .join(ferry_server::KEPT_DIR),
    );
    names.sort();
    names
}

/// How many kept partial uploads under `root` have their record.
pub fn kept_records(root: &Path) -> usize {
    kept_entries(root)
        .iter()
        .filter(|name| name.ends_with(".record"))
        .count()
}

fn dir_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| {
            let entry = entry.expect("a directory entry");
            entry.file_name().to_string_lossy().into_owned()
        })
        .collect()
}

/// Where the test server's accounts file is: beside the root, never in it.
fn accounts_file(root: &Path) -> PathBuf {
    root.parent()
        .expect("the root is inside the test's directory")
        .join("accounts.toml")
}

fn empty_root() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().join("root");
    std::fs::create_dir(&root).expect("the test server's root");
    (dir, root)
}

/// Where the proxy listener and the FTP door were bound, once they are.
#[derive(Debug, Default)]
struct SideAddrs {
    proxy: OnceLock<SocketAddr>,
    ftp: OnceLock<SocketAddr>,
}

type ProxyAddr = Arc<SideAddrs>;

async fn bind(
    config: Config,
    listen: SocketAddr,
    proxy_addr: ProxyAddr,
    stop: StopSignal,
) -> Result<Bound, String> {
    let server = Server::bind(config, listen)
        .await
        .map_err(|error| error.to_string())?;
    let addr = server.local_addr();
    if let Some(bound) = server.proxy_addr() {
        let _ = proxy_addr.proxy.set(bound);
    }
    if let Some(bound) = server.ftp_addr() {
        let _ = proxy_addr.ftp.set(bound);
    }
    let run = async move { server.run(stop).await.map_err(|error| error.to_string()) };
    Ok((addr, Box::pin(run)))
}

/// Resolves once a server asked to shut down has stopped, with how its
/// `run` ended.
pub type Stopping = oneshot::Receiver<Stopped>;

/// A running server; dropped, it stops at once.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The proxy listener's address, when [`ServerOptions::proxy`] asked for one.
    pub proxy_addr: Option<SocketAddr>,
    /// The FTP door's address, when [`ServerOptions::ftp`] asked for one.
    ftp: Option<SocketAddr>,
    /// The served directory.
    pub root: PathBuf,
    /// Declared before `dir`, so the server stops before its root goes.
    service: Service,
    /// The temporary directory holding `root`.
    pub dir: TempDir,
}

impl TestServer {
    /// A server with the default limits on an empty root, on this runtime.
    pub async fn start() -> TestServer {
        TestServer::start_with(ServerOptions::default()).await
    }

    /// A server with `options` on an empty root, on this runtime.
    pub async fn start_with(options: ServerOptions) -> TestServer {
        let (dir, root) = empty_root();
        TestServer::start_in(dir, root, options).await
    }

    /// A server on `root` inside `dir`, as the test prepared it (or left it
    /// missing, for the server to create), on this runtime.
    pub async fn start_in(dir: TempDir, root: PathBuf, options: ServerOptions) -> TestServer {
        let listen = SocketAddr::new(options.listen_ip, 0);
        let config = options.config(&root);
        let proxy_addr = ProxyAddr::default();
        let bound = Arc::clone(&proxy_addr);
        let service =
            Service::on_this_runtime("server", |stop| bind(config, listen, bound, stop)).await;
        TestServer::around(service, &proxy_addr, dir, root)
    }

    /// A server with the default limits on an empty root, on a thread of
    /// its own: for tests that block their thread.
    pub fn start_on_thread() -> TestServer {
        TestServer::start_on_thread_with(ServerOptions::default())
    }

    /// A server with `options` on an empty root, on a thread of its own.
    pub fn start_on_thread_with(options: ServerOptions) -> TestServer {
        let (dir, root) = empty_root();
        let listen = SocketAddr::new(options.listen_ip, 0);
        let config = options.config(&root);
        let proxy_addr = ProxyAddr::default();
        let bound = Arc::clone(&proxy_addr);
        let service =
            Service::on_own_thread("server", move |stop| bind(config, listen, bound, stop));
        TestServer::around(service, &proxy_addr, dir, root)
    }

    fn around(service: Service, proxy_addr: &ProxyAddr, dir: TempDir, root: PathBuf) -> TestServer {
        TestServer {
            addr: service.addr,
            proxy_addr: proxy_addr.proxy.get().copied(),
            ftp: proxy_addr.ftp.get().copied(),
            root,
            service,
            dir,
        }
    }

    /// The FTP door's address; panics if the server was started without
    /// [`ServerOptions::ftp`].
    pub fn ftp_addr(&self) -> SocketAddr {
        self.ftp
            .expect("the test server was started with ServerOptions::ftp")
    }

    /// `127.0.0.1:PORT`, as the client's command line takes it.
    pub fn target(&self) -> String {
        self.addr.to_string()
    }

    /// Path of `name` in the root.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The accounts file (it exists when the server was started with
    /// accounts).
    pub fn accounts_file(&self) -> PathBuf {
        accounts_file(&self.root)
    }

    /// Replaces the accounts file of the running server with `accounts`;
    /// the server picks it up within its reload interval.
    pub fn set_accounts(&self, accounts: &[TestAccount]) {
        write_accounts_file(&self.accounts_file(), accounts);
    }

    /// Puts a file straight into the root.
    pub fn put_file(&self, name: &str, content: &[u8]) {
        std::fs::write(self.path(name), content).expect("a file in the test server's root");
    }

    /// Reads a file straight from the root.
    pub fn file(&self, name: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(name)).ok()
    }

    /// Asks the server to shut down gracefully.
    pub fn begin_shutdown(&mut self) -> Stopping {
        self.service.begin_stop()
    }

    /// Entries of the upload directory (uploads in progress and
    /// leftovers), besides the kept uploads' own directory.
    pub fn temp_entries(&self) -> Vec<String> {
        dir_entries(&self.root.join(ferry_server::TEMP_DIR))
            .into_iter()
            .filter(|name| name != ferry_server::KEPT_DIR)
            .collect()
    }

    /// Files of the kept partial uploads (a data file and a record each).
    pub fn kept_entries(&self) -> Vec<String> {
        kept_entries(&self.root)
    }

    /// Waits until `n` partial uploads are kept (each with its record),
    /// failing after a while.
    pub async fn wait_kept(&self, n: usize) {
        for _ in 0..400 {
            if kept_records(&self.root) == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("expected {n} kept uploads: {:?}", self.kept_entries());
    }

    /// Waits until the upload directory is empty, failing after a while.
    pub async fn wait_no_temp_files(&self) {
        for _ in 0..200 {
            if self.temp_entries().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("temporary files left: {:?}", self.temp_entries());
    }
}
