//! `ferry-bridge`: the command line around [`ferry_bridge::Bridge`].

use anyhow::Context;
use clap::Parser;
use ferry_bridge::{
    Bridge, BridgeConfig, HostPort, Limits, TlsFiles, DEFAULT_LISTEN, DEFAULT_UPSTREAM,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Relays WebSocket connections (the Ferry web client) to Ferry servers over
/// TCP, byte for byte, and can serve the built web client.
#[derive(Debug, Parser)]
#[command(name = "ferry-bridge", version, about, long_about = None)]
struct Args {
    /// Address to listen on (HTTP, WebSocket at /ws).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Default Ferry server for GET /ws (always allowed).
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_UPSTREAM)]
    upstream: HostPort,
    /// Another server clients may ask for with /ws?target=HOST:PORT
    /// (repeatable; matched by name, never by what it resolves to).
    #[arg(long = "allow", value_name = "HOST:PORT")]
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
    /// Close a relay when no byte moved for this long (seconds, or e.g. 10m; 0 disables).
    #[arg(long, value_name = "SECONDS", default_value = "600", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Interval of WebSocket pings (seconds, or e.g. 30s; 0 disables).
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_duration)]
    ping_interval: Duration,
    /// How long to wait for the server's TCP connection.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// On Ctrl-C / SIGTERM, how long busy relays may go on before being closed.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_duration)]
    shutdown_grace: Duration,
    /// Worker threads of the async runtime (default: one per CPU).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

/// A whole number of seconds, or a humantime duration such as `90s` or `5m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text)
        .map_err(|error| format!("{error} (expected seconds, e.g. 30, or 30s, 5m)"))
}

/// `None` for a zero duration (the flag's way of saying "disabled").
fn non_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

fn main() -> anyhow::Result<()> {
    let args: Args = ferry_program::parse_or_exit("ferry-bridge");
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        anyhow::ensure!(threads > 0, "--threads must be at least 1");
        runtime.worker_threads(threads);
    }
    runtime.enable_all().build()?.block_on(serve(args))
}

/// Sets up logging, binds the bridge and runs it until Ctrl-C / SIGTERM.
async fn serve(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let limits = Limits {
        max_message_size: args.max_message_size,
        relay_chunk_size: args.chunk_size,
        max_relays: args.max_relays,
        idle_timeout: non_zero(args.idle_timeout),
        ping_interval: non_zero(args.ping_interval),
        connect_timeout: args.connect_timeout,
        shutdown_grace: args.shutdown_grace,
        ..Limits::default()
    };
    let config = BridgeConfig {
        allow: args.allow,
        allow_origins: (!args.allow_origin.is_empty()).then_some(args.allow_origin),
        static_dir: args.static_dir,
        tls: args
            .tls_cert
            .zip(args.tls_key)
            .map(|(cert, key)| TlsFiles { cert, key }),
        limits,
        ..BridgeConfig::new(args.listen, args.upstream)
    };
    let relay_bound = config.limits.relay_memory_bound();
    let bridge = Bridge::bind(config)
        .await
        .context("ferry-bridge cannot start")?;
    let scheme = if bridge.is_tls() { "https" } else { "http" };
    let allowed: Vec<String> = bridge
        .targets()
        .allowed()
        .iter()
        .map(ToString::to_string)
        .collect();
    tracing::info!(
        "listening on {scheme}://{} (WebSocket at /ws), relaying to {}",
        bridge.local_addr(),
        allowed.join(", ")
    );
    if bridge.origins().allows_any() {
        tracing::warn!("any web origin may open relays (--allow-origin '*')");
    } else {
        tracing::info!("allowed origins: {}", bridge.origins().origins().join(", "));
    }
    tracing::debug!(relay_bound, "memory bound per relay in bytes");
    bridge.run(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
