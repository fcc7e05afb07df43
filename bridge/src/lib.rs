//! ferry-bridge: lets browsers reach Ferry servers.
//!
//! Browsers cannot open TCP connections, so the web client speaks the Ferry
//! protocol inside WebSocket binary messages to this bridge, which relays the
//! bytes to a Ferry server over TCP and back. The bridge never parses the
//! protocol (see docs/PROTOCOL.md §4): it moves bytes, decides who may go
//! where ([`TargetPolicy`], [`OriginPolicy`]), keeps memory per relay bounded
//! ([`Limits::relay_memory_bound`]), and can serve the built web client.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ferry_bridge::BridgeError> {
//! use ferry_bridge::{parse_target, Bridge, BridgeConfig};
//! let config = BridgeConfig::new("127.0.0.1:0".parse().unwrap(), parse_target("127.0.0.1:8888")?);
//! let bridge = Bridge::bind(config).await?;
//! println!("ws://{}/ws", bridge.local_addr());
//! bridge.run(std::future::pending()).await
//! # }
//! ```

mod cli;
mod client_io;
mod config;
mod door;
mod error;
mod origin;
mod relay;
mod routes;
mod static_files;
mod target;
mod tls;

pub use cli::CommandLine;
pub use config::{BridgeConfig, Limits, TlsFiles, DEFAULT_LISTEN, DEFAULT_UPSTREAM};
pub use error::BridgeError;
pub use ferry_proto::HostPort;
pub use origin::{OriginPolicy, TRUNK_DEV_PORT};
pub use target::{parse_target, Refusal, TargetPolicy};

use axum::middleware::AddExtension;
use axum_server::accept::{Accept, DefaultAcceptor};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use client_io::{ClientStream, DirectHandle};
use door::{Door, PendingSlot};
use futures_util::future::Either;
use hyper_util::rt::TokioTimer;
use routes::AppState;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A bound bridge, ready to [`run`](Bridge::run).
pub struct Bridge {
    /// The bound listening socket.
    listener: std::net::TcpListener,
    /// Its address.
    local_addr: SocketAddr,
    /// Policies, limits and relay bookkeeping shared with the handlers.
    state: Arc<AppState>,
    /// The web client to serve, if any.
    static_dir: Option<PathBuf>,
    /// TLS settings when serving https / wss.
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Bridge {
    /// Checks the configuration, loads the TLS files, and binds the listener.
    ///
    /// The default allowed origins are computed from the bound address, so
    /// they are right for port 0 too.
    pub async fn bind(config: BridgeConfig) -> Result<Bridge, BridgeError> {
        check_limits(&config.limits)?;
        if let Some(dir) = &config.static_dir {
            if !dir.is_dir() {
                return Err(BridgeError::StaticDir {
                    path: dir.clone(),
                    reason: "not a directory".into(),
                });
            }
        }
        let tls = config.tls.as_ref().map(tls::server_config).transpose()?;
        let bind_error = |source| BridgeError::Bind {
            addr: config.listen,
            source,
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(bind_error)?
            .into_std()
            .map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let origins = match &config.allow_origins {
            Some(list) => OriginPolicy::new(list)?,
            None => OriginPolicy::defaults_for(local_addr),
        };
        let state = AppState {
            targets: TargetPolicy::new(config.upstream.clone(), config.allow.iter().cloned()),
            origins,
            announce: if config.proxy_protocol {
                relay::Announce::ProxyHeader
            } else {
                relay::Announce::Nothing
            },
            relay_slots: Arc::new(Semaphore::new(config.limits.max_relays)),
            limits: config.limits,
            relays: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        };
        Ok(Bridge {
            listener,
            local_addr,
            state: Arc::new(state),
            static_dir: config.static_dir,
            tls,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether the bridge serves https / wss.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The target policy in force.
    pub fn targets(&self) -> &TargetPolicy {
        &self.state.targets
    }

    /// The Origin policy in force.
    pub fn origins(&self) -> &OriginPolicy {
        &self.state.origins
    }

    /// Serves until `shutdown` resolves, then stops accepting connections,
    /// lets relays that are still moving bytes go on for up to
    /// `shutdown_grace` (quiet ones end at once), closes the rest with
    /// [`GOING_AWAY`](ferry_proto::close::GOING_AWAY), and returns when every
    /// relay has ended.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), BridgeError> {
        let Bridge {
            listener,
            state,
            static_dir,
            tls,
            ..
        } = self;
        let limits = state.limits.clone();
        let handle = axum_server::Handle::new();
        let watcher = tokio::spawn({
            let handle = handle.clone();
            let state = state.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down: no new connections, relays drain");
                state.shutdown.cancel();
                handle.graceful_shutdown(Some(limits.shutdown_grace));
            }
        });
        let app = routes::router(state.clone(), static_dir.as_deref())
            .into_make_service_with_connect_info::<SocketAddr>();
        let mut server = axum_server::from_tcp(listener).handle(handle);
        // The first head's deadline is the door's (see door.rs); these bound
        // the heads that follow on a kept-alive connection, and every head's size.
        server
            .http_builder()
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(limits.max_request_head);
        let accept = ClientAcceptor {
            inner: DefaultAcceptor,
            tail_limit: limits.ws_max_write_buffer_size(),
            direct: true,
            door: Door::new(
                limits.max_pending,
                limits.max_per_address,
                limits.header_timeout,
            ),
        };
        let served = match tls {
            None => server.acceptor(accept).serve(app).await,
            Some(config) => {
                // Bytes under TLS must go through the TLS stream: no splicing.
                let accept = ClientAcceptor {
                    direct: false,
                    ..accept
                };
                let acceptor = RustlsAcceptor::new(RustlsConfig::from_config(config))
                    .handshake_timeout(limits.header_timeout)
                    .acceptor(accept);
                server.acceptor(acceptor).serve(app).await
            }
        };
        watcher.abort();
        state.shutdown.cancel();
        state.relays.close();
        let bound = limits.shutdown_grace + limits.close_timeout + Duration::from_secs(1);
        if tokio::time::timeout(bound, state.relays.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = state.relays.len(),
                "relays still open after the shutdown grace"
            );
        }
        served.map_err(BridgeError::Serve)
    }
}

/// Refuses limits the bridge cannot work with, before binding.
fn check_limits(limits: &Limits) -> Result<(), BridgeError> {
    let fail = |what: &str| Err(BridgeError::InvalidSetting(what.to_owned()));
    if limits.max_message_size < 1024 {
        return fail("max message size must be at least 1024 bytes");
    }
    if !(1024..=16 << 20).contains(&limits.relay_chunk_size) {
        return fail("relay chunk size must be from 1 KiB to 16 MiB");
    }
    if limits.ws_read_buffer_size == 0 {
        return fail("WebSocket read buffer size must not be 0");
    }
    if limits.max_relays == 0 || limits.max_relays > Semaphore::MAX_PERMITS {
        return fail("max relays must be at least 1");
    }
    if limits.max_pending == 0 || limits.max_pending > Semaphore::MAX_PERMITS {
        return fail("max pending connections must be at least 1");
    }
    if limits.max_per_address == 0 {
        return fail("max connections per address must be at least 1");
    }
    if limits.header_timeout.is_zero() {
        return fail("the header timeout must be positive");
    }
    if limits.max_request_head < 8192 {
        return fail("the largest request head must be at least 8 KiB");
    }
    if limits.idle_timeout.is_some_and(|t| t.is_zero())
        || limits.ping_interval.is_some_and(|t| t.is_zero())
    {
        return fail("timeouts must be positive (use None to disable)");
    }
    Ok(())
}

/// Accepts like `A` what the [`Door`] lets in (the rest is closed at once),
/// with Nagle's algorithm off (replies are small and must not wait for the
/// previous segment's acknowledgement) and the socket wrapped in a
/// [`ClientStream`] (writes without tungstenite's memmoves) that keeps the
/// door's ticket. Each request on the connection carries a [`DirectHandle`]
/// to the socket, so a relay can splice downloads into it, and the
/// connection's [`PendingSlot`].
#[derive(Debug, Clone)]
struct ClientAcceptor<A> {
    /// The acceptor that runs next (plain, or TLS).
    inner: A,
    /// Write-behind limit of each [`ClientStream`].
    tail_limit: usize,
    /// Whether relays may write to the socket directly (not under TLS).
    direct: bool,
    /// Who is let in.
    door: Door,
}

/// The service a [`ClientAcceptor`] hands on to `A`.
type WithConnection<S> = AddExtension<AddExtension<S, DirectHandle>, PendingSlot>;

impl<A, S> Accept<TcpStream, S> for ClientAcceptor<A>
where
    A: Accept<ClientStream, WithConnection<S>>,
{
    type Stream = A::Stream;
    type Service = A::Service;
    type Future = Either<A::Future, std::future::Ready<std::io::Result<(A::Stream, A::Service)>>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let peer = stream.peer_addr().map(|addr| addr.ip());
        let ticket = match peer.map(|ip| (ip, self.door.admit(ip))) {
            Ok((_, Ok(ticket))) => ticket,
            Ok((ip, Err(refused))) => {
                tracing::debug!(peer = %ip, "connection closed at once: {refused}");
                return Either::Right(std::future::ready(Err(std::io::Error::other(
                    refused.to_string(),
                ))));
            }
            Err(error) => return Either::Right(std::future::ready(Err(error))),
        };
        let _ = stream.set_nodelay(true);
        let pending = ticket.pending();
        let stream = ClientStream::admitted(stream, self.tail_limit, ticket);
        let handle = DirectHandle(self.direct.then(|| stream.handle()));
        let service = tower::Layer::layer(&axum::Extension(handle), service);
        let service = tower::Layer::layer(&axum::Extension(pending), service);
        Either::Left(self.inner.accept(stream, service))
    }
}
