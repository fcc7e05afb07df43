//! The test bridge: ferry-bridge in this process on 127.0.0.1:0, relaying
//! to one upstream (a [`TestServer`](crate::TestServer) or a scripted one).

use crate::service::{Bound, Service, StopSignal, Stopped};
use crate::within;
use ferry_bridge::{Bridge, BridgeConfig, HostPort, Limits, TlsFiles};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The bridge's settings: ferry-bridge's defaults, but for a short close
/// wait so that tests do not sit out the default 5 s.
#[derive(Debug, Clone)]
pub struct BridgeOptions {
    /// Further targets (`HOST:PORT`) a client may ask for with `?target=`.
    pub allow: Vec<String>,
    /// Allowed `Origin` values; `None`: ferry-bridge's defaults.
    pub allow_origins: Option<Vec<String>>,
    /// The built web client to serve at `/`.
    pub static_dir: Option<PathBuf>,
    /// Serve https and wss with these files.
    pub tls: Option<TlsPaths>,
    /// Begin every upstream connection with a PROXY v2 header naming the
    /// browser (`--proxy-protocol`); the upstream is then a proxy listener.
    pub proxy_protocol: bool,
    pub max_message_size: usize,
    pub max_relays: usize,
    /// `None` disables it.
    pub idle_timeout: Option<Duration>,
    /// `None` disables pings.
    pub ping_interval: Option<Duration>,
    pub close_timeout: Duration,
    pub shutdown_quiet: Duration,
    pub header_timeout: Duration,
    pub max_pending: usize,
    pub max_per_address: usize,
}

/// PEM files of a certificate chain and its key.
#[derive(Debug, Clone)]
pub struct TlsPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for BridgeOptions {
    fn default() -> BridgeOptions {
        let limits = Limits::default();
        BridgeOptions {
            allow: Vec::new(),
            allow_origins: None,
            static_dir: None,
            tls: None,
            proxy_protocol: false,
            max_message_size: limits.max_message_size,
            max_relays: limits.max_relays,
            idle_timeout: limits.idle_timeout,
            ping_interval: limits.ping_interval,
            close_timeout: Duration::from_secs(2),
            shutdown_quiet: limits.shutdown_quiet,
            header_timeout: limits.header_timeout,
            max_pending: limits.max_pending,
            max_per_address: limits.max_per_address,
        }
    }
}

impl BridgeOptions {
    fn config(self, upstream: SocketAddr) -> BridgeConfig {
        let mut config = BridgeConfig::new("127.0.0.1:0".parse().unwrap(), host_port(upstream));
        config.allow = self
            .allow
            .iter()
            .map(|target| {
                target
                    .parse()
                    .unwrap_or_else(|error| panic!("allowed target {target:?}: {error}"))
            })
            .collect();
        config.allow_origins = self.allow_origins;
        config.static_dir = self.static_dir;
        config.proxy_protocol = self.proxy_protocol;
        config.tls = self.tls.map(|paths| TlsFiles {
            cert: paths.cert,
            key: paths.key,
        });
        config.limits = Limits {
            max_message_size: self.max_message_size,
            max_relays: self.max_relays,
            idle_timeout: self.idle_timeout,
            ping_interval: self.ping_interval,
            close_timeout: self.close_timeout,
            shutdown_quiet: self.shutdown_quiet,
            header_timeout: self.header_timeout,
            max_pending: self.max_pending,
            max_per_address: self.max_per_address,
            ..Limits::default()
        };
        config
    }
}

fn host_port(addr: SocketAddr) -> HostPort {
    addr.to_string()
        .parse()
        .expect("a socket address is a HOST:PORT")
}

async fn bind(config: BridgeConfig, stop: StopSignal) -> Result<Bound, String> {
    let bridge = Bridge::bind(config)
        .await
        .map_err(|error| error.to_string())?;
    let addr = bridge.local_addr();
    let run = async move { bridge.run(stop).await.map_err(|error| error.to_string()) };
    Ok((addr, Box::pin(run)))
}

/// A running bridge; dropped, it stops at once.
pub struct TestBridge {
    pub addr: SocketAddr,
    service: Service,
}

impl TestBridge {
    /// A bridge with the default options relaying to `upstream`, on this
    /// runtime.
    pub async fn start(upstream: SocketAddr) -> TestBridge {
        TestBridge::start_with(upstream, BridgeOptions::default()).await
    }

    /// A bridge with `options` relaying to `upstream`, on this runtime.
    pub async fn start_with(upstream: SocketAddr, options: BridgeOptions) -> TestBridge {
        let config = options.config(upstream);
        let service = Service::on_this_runtime("bridge", |stop| bind(config, stop)).await;
        TestBridge::around(service)
    }

    /// A bridge with the default options relaying to `upstream`, on a
    /// thread of its own: for tests that block their thread.
    pub fn start_on_thread(upstream: SocketAddr) -> TestBridge {
        TestBridge::start_on_thread_with(upstream, BridgeOptions::default())
    }

    /// A bridge with `options` relaying to `upstream`, on a thread of its own.
    pub fn start_on_thread_with(upstream: SocketAddr, options: BridgeOptions) -> TestBridge {
        let config = options.config(upstream);
        let service = Service::on_own_thread("bridge", |stop| bind(config, stop));
        TestBridge::around(service)
    }

    fn around(service: Service) -> TestBridge {
        TestBridge {
            addr: service.addr,
            service,
        }
    }

    /// `ws://ADDR/ws` followed by `query` (`""`, or `?target=...`).
    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/ws{query}", self.addr)
    }

    /// `http://ADDR` followed by `path`.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Shuts down gracefully and returns how `run` ended.
    pub async fn stop(mut self) -> Stopped {
        within(self.service.begin_stop())
            .await
            .expect("the bridge's thread ended without stopping")
    }
}
