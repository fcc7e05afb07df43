//! Settings of a bridge, with the defaults of the command line.

use ferry_proto::HostPort;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default listening address of `ferry-bridge`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default upstream Ferry server.
pub const DEFAULT_UPSTREAM: &str = "127.0.0.1:8888";

/// Everything a [`Bridge`](crate::Bridge) needs to start.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// Address to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// The default target of `GET /ws`; always allowed.
    pub upstream: HostPort,
    /// Further targets a client may ask for with `?target=HOST:PORT`.
    pub allow: Vec<HostPort>,
    /// Allowed `Origin` values (`*` for any); `None` means the defaults of
    /// [`OriginPolicy::defaults_for`](crate::OriginPolicy::defaults_for) the
    /// bound address.
    pub allow_origins: Option<Vec<String>>,
    /// Directory with the built web client, served at `/`.
    pub static_dir: Option<PathBuf>,
    /// Certificate chain and key (PEM) to serve https and wss.
    pub tls: Option<TlsFiles>,
    /// Begin every upstream connection with a PROXY protocol v2 header
    /// naming the browser's address (for a server's `--proxy-listen`).
    pub proxy_protocol: bool,
    /// Limits and timeouts.
    pub limits: Limits,
}

impl BridgeConfig {
    /// A configuration with every default except the addresses.
    pub fn new(listen: SocketAddr, upstream: HostPort) -> BridgeConfig {
        BridgeConfig {
            listen,
            upstream,
            allow: Vec::new(),
            allow_origins: None,
            static_dir: None,
            tls: None,
            proxy_protocol: false,
            limits: Limits::default(),
        }
    }
}

/// PEM files for TLS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Limits and timeouts; together they bound the memory of each relay (see
/// [`Limits::relay_memory_bound`]).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest WebSocket message (and frame) accepted from a client; a larger
    /// one closes the relay with [`MESSAGE_TOO_BIG`](ferry_proto::close::MESSAGE_TOO_BIG).
    pub max_message_size: usize,
    /// Largest read from the TCP side; each read becomes one binary message,
    /// so this is also the largest message sent to clients on the copy path.
    /// Reads start at 16 KiB and grow to this size while a transfer keeps
    /// them full. Spliced downloads (Linux, plain TCP) send frames of up to
    /// [`splice_pipe_size`](Self::splice_pipe_size) bytes instead.
    pub relay_chunk_size: usize,
    /// Chunk size of the WebSocket reader (tungstenite's read buffer).
    pub ws_read_buffer_size: usize,
    /// Most relays open at once; past it, upgrades get HTTP 503.
    pub max_relays: usize,
    /// The whole request head must arrive within this long: from the accept
    /// for the first request (a TLS handshake included), from the end of
    /// the previous response for the next one on a kept-alive connection.
    /// Past it the connection is closed.
    pub header_timeout: Duration,
    /// Largest request head (request line and headers) buffered; a larger
    /// one gets HTTP 431 and the connection is closed.
    pub max_request_head: usize,
    /// Most connections open at once that have not become relays (still
    /// sending their request head, or plain HTTP); past it, a new
    /// connection takes the place of the oldest one still sending its
    /// first head (closed), or is closed at once when none is.
    pub max_pending: usize,
    /// Most connections open at once from one client address, relays
    /// included; past it, that address's new connections are closed at once.
    pub max_per_address: usize,
    /// A relay with no bytes moving either way for this long is closed
    /// ([`GOING_AWAY`](ferry_proto::close::GOING_AWAY)). `None` disables it.
    pub idle_timeout: Option<Duration>,
    /// Interval of WebSocket pings to the client. `None` disables them.
    pub ping_interval: Option<Duration>,
    /// How long to wait for the upstream TCP connection (then
    /// [`BAD_GATEWAY`](ferry_proto::close::BAD_GATEWAY)).
    pub connect_timeout: Duration,
    /// How long to wait for the client's answer to a close frame.
    pub close_timeout: Duration,
    /// On shutdown, how long relays that are still moving bytes may go on
    /// before they are closed ([`GOING_AWAY`](ferry_proto::close::GOING_AWAY)).
    pub shutdown_grace: Duration,
    /// On shutdown, a relay quiet for this long counts as finished and is
    /// closed at once, so idle sessions do not hold up the exit.
    pub shutdown_quiet: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message_size: 1 << 20,
            relay_chunk_size: 256 << 10,
            ws_read_buffer_size: 16 << 10,
            max_relays: 1024,
            header_timeout: Duration::from_secs(10),
            max_request_head: 64 << 10,
            max_pending: 1024,
            max_per_address: 64,
            idle_timeout: Some(Duration::from_secs(600)),
            ping_interval: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(10),
            shutdown_quiet: Duration::from_secs(1),
        }
    }
}

impl Limits {
    /// Target size of tungstenite's write buffer: 0, every frame is written
    /// at once (each message is flushed anyway; nothing gains from waiting).
    pub fn ws_write_buffer_size(&self) -> usize {
        0
    }

    /// Hard cap of tungstenite's write buffer: one message of at most
    /// `relay_chunk_size` bytes, its frame header, and room for a control
    /// frame (ping, pong, close) queued behind it.
    pub fn ws_max_write_buffer_size(&self) -> usize {
        self.relay_chunk_size + 1024
    }

    /// Pipe size a relay asks for when it splices a download (Linux, plain
    /// TCP), and so the largest binary message it sends then: at least
    /// 1 MiB — the most an unprivileged process may ask for by default
    /// (`/proc/sys/fs/pipe-max-size`) and, measured, about a quarter faster
    /// than 256 KiB (fewer system calls and wakeups per byte) — or
    /// `relay_chunk_size` if larger. The kernel may grant less (then the
    /// relay uses what it got). The pipe is kernel memory, not counted in
    /// [`relay_memory_bound`](Self::relay_memory_bound).
    pub fn splice_pipe_size(&self) -> usize {
        self.relay_chunk_size.max(1 << 20)
    }

    /// Upper bound of the bytes one relay holds in user space, whatever the
    /// peers do (kernel socket buffers, and the pipe of a spliced download
    /// — at most [`splice_pipe_size`](Self::splice_pipe_size) — are not
    /// included; a spliced download holds no payload in user space):
    ///
    /// * client → server: tungstenite's read buffer (counted twice: a new one
    ///   may be allocated while a received frame still pins the old one),
    ///   plus one frame being received (≤ `max_message_size`) and one message
    ///   being assembled or written to TCP (≤ `max_message_size`);
    /// * server → client: the TCP read chunk plus the WebSocket write buffer
    ///   (≤ [`ws_max_write_buffer_size`](Self::ws_max_write_buffer_size)),
    ///   plus the socket's write-behind for the tail of a partial write
    ///   (≤ the same again);
    /// * 64 KiB for hyper's connection buffers and the task itself.
    pub fn relay_memory_bound(&self) -> usize {
        2 * self.ws_read_buffer_size
            + 2 * self.max_message_size
            + self.relay_chunk_size
            + 2 * self.ws_max_write_buffer_size()
            + (64 << 10)
    }
}
