//! The flags of `ferry-bridge` and the [`BridgeConfig`] they make, kept in
//! the library so the binary is only start-up and the flags can be checked
//! by unit tests.

use crate::{parse_target, BridgeConfig, HostPort, Limits, TlsFiles};
use crate::{DEFAULT_LISTEN, DEFAULT_UPSTREAM};
use clap::Parser;
use ferry_program::parse_seconds;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Relays WebSocket connections (the Ferry web client) to Ferry servers over
/// TCP, byte for byte, and can serve the built web client.
#[derive(Debug, Parser)]
#[command(name = "ferry-bridge", version, about, long_about = None)]
pub struct CommandLine {
    /// Address to listen on (HTTP, WebSocket at /ws).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Default Ferry server for GET /ws (always allowed).
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_UPSTREAM, value_parser = parse_target)]
    upstream: HostPort,
    /// Another server clients may ask for with /ws?target=HOST:PORT
    /// (repeatable; matched by name, never by what it resolves to).
    #[arg(long = "allow", value_name = "HOST:PORT", value_parser = parse_target)]
    allow: Vec<HostPort>,
    /// A web origin allowed to open relays, e.g. https://ferry.example.com
    /// (repeatable; '*' allows any). Default: this bridge's own origin
    /// (http and https, localhost spellings) and the Trunk dev server,
    /// http://127.0.0.1:8081 and http://localhost:8081.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// Serve the built web client (e.g. web-client/dist) at /.
    #[arg(long = "static", value_name = "DIR")]
    static_dir: Option<PathBuf>,
    /// TLS certificate chain (PEM): serve https and wss.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Begin every upstream connection with a PROXY protocol v2 header naming
    /// the browser's address; --upstream then names the server's --proxy-listen.
    #[arg(long)]
    proxy_protocol: bool,
    /// Largest WebSocket message accepted from a client.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_message_size)]
    max_message_size: usize,
    /// Size of each read from the server (and largest message sent to clients,
    /// except spliced downloads on plain TCP: frames of up to max(this, 1 MiB)).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().relay_chunk_size)]
    chunk_size: usize,
    /// Most relays open at once (HTTP 503 past it).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_relays)]
    max_relays: usize,
    /// Most connections open at once that are not relays yet (still sending
    /// their request head, or plain HTTP); past it, a new one takes the
    /// place of the oldest still sending its first head, which is closed.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_pending)]
    max_pending: usize,
    /// Most connections open at once from one client address, relays
    /// included; past it, that address's new ones are closed at once.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_per_address)]
    max_per_address: usize,
    /// The whole HTTP request head must arrive within this long (seconds, or
    /// e.g. 5s), or the connection is closed.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    header_timeout: Duration,
    /// Close a relay when no byte moved for this long (seconds, or e.g. 10m; 0 disables).
    #[arg(long, value_name = "SECONDS", default_value = "600", value_parser = parse_seconds)]
    idle_timeout: Duration,
    /// Interval of WebSocket pings (seconds, or e.g. 30s; 0 disables).
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    ping_interval: Duration,
    /// How long to wait for the server's TCP connection.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    connect_timeout: Duration,
    /// On Ctrl-C / SIGTERM, how long busy relays may go on before being closed.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    shutdown_grace: Duration,
    /// Worker threads of the async runtime (default: one per CPU).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

impl CommandLine {
    /// `--threads`, if given.
    pub fn threads(&self) -> Option<usize> {
        self.threads
    }

    /// The bridge's settings.
    pub fn into_config(self) -> BridgeConfig {
        let limits = Limits {
            max_message_size: self.max_message_size,
            relay_chunk_size: self.chunk_size,
            max_relays: self.max_relays,
            max_pending: self.max_pending,
            max_per_address: self.max_per_address,
            header_timeout: self.header_timeout,
            idle_timeout: non_zero(self.idle_timeout),
            ping_interval: non_zero(self.ping_interval),
            connect_timeout: self.connect_timeout,
            shutdown_grace: self.shutdown_grace,
            ..Limits::default()
        };
        BridgeConfig {
            allow: self.allow,
            allow_origins: (!self.allow_origin.is_empty()).then_some(self.allow_origin),
            static_dir: self.static_dir,
            tls: self
                .tls_cert
                .zip(self.tls_key)
                .map(|(cert, key)| TlsFiles { cert, key }),
            proxy_protocol: self.proxy_protocol,
            limits,
            ..BridgeConfig::new(self.listen, self.upstream)
        }
    }
}

/// `None` for a zero duration (the flag's way of saying "disabled").
fn non_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> BridgeConfig {
        let all = std::iter::once("ferry-bridge").chain(args.iter().copied());
        CommandLine::try_parse_from(all).unwrap().into_config()
    }

    #[test]
    fn flags_are_well_formed() {
        use clap::CommandFactory;
        CommandLine::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_library_defaults() {
        let config = parsed(&[]);
        let defaults = Limits::default();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.upstream.to_string(), DEFAULT_UPSTREAM);
        assert_eq!(config.limits.idle_timeout, defaults.idle_timeout);
        assert_eq!(config.limits.ping_interval, defaults.ping_interval);
        assert_eq!(config.limits.connect_timeout, defaults.connect_timeout);
        assert_eq!(config.limits.shutdown_grace, defaults.shutdown_grace);
        assert_eq!(config.limits.header_timeout, defaults.header_timeout);
        assert_eq!(config.limits.max_pending, defaults.max_pending);
        assert_eq!(config.limits.max_per_address, defaults.max_per_address);
        assert!(config.allow_origins.is_none() && config.tls.is_none());
        assert!(!config.proxy_protocol);
        assert!(parsed(&["--proxy-protocol"]).proxy_protocol);
    }

    #[test]
    fn zero_disables_and_durations_are_accepted() {
        let config = parsed(&["--idle-timeout", "0", "--ping-interval", "45s"]);
        assert_eq!(config.limits.idle_timeout, None);
        assert_eq!(config.limits.ping_interval, Some(Duration::from_secs(45)));
        let config = parsed(&["--shutdown-grace", "2m", "--connect-timeout", "3"]);
        assert_eq!(config.limits.shutdown_grace, Duration::from_secs(120));
        assert_eq!(config.limits.connect_timeout, Duration::from_secs(3));
        let config = parsed(&["--header-timeout", "2s", "--max-pending", "5"]);
        assert_eq!(config.limits.header_timeout, Duration::from_secs(2));
        assert_eq!(config.limits.max_pending, 5);
        assert_eq!(
            parsed(&["--max-per-address", "3"]).limits.max_per_address,
            3
        );
    }
}
