//! `ferry-server`: serves a directory over the Ferry protocol.

use clap::Parser;
use ferry_server::{Config, Server};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// Serves the regular files of one directory over the Ferry protocol.
///
/// Logs go to standard error; set RUST_LOG (e.g. RUST_LOG=debug) to change
/// how much is logged. Ctrl-C or SIGTERM stops the server gracefully; a
/// second one stops it at once.
#[derive(Debug, Parser)]
#[command(name = "ferry-server", version)]
struct Args {
    /// Directory to serve; created with two sample files if missing.
    #[arg(long, value_name = "DIR", default_value = ferry_server::DEFAULT_ROOT)]
    root: PathBuf,
    /// Address to listen on, HOST:PORT.
    #[arg(long, value_name = "ADDR", default_value = ferry_server::DEFAULT_LISTEN, value_parser = parse_addr)]
    listen: SocketAddr,
    /// Largest file STORE accepts: bytes, or with a unit (K, M, G, T, KiB, MiB, GiB, TiB, KB, MB, GB, TB).
    #[arg(long, value_name = "BYTES", default_value = "16GiB", value_parser = parse_size)]
    max_file_size: u64,
    /// Most simultaneous connections; more are answered 421 and closed.
    #[arg(long, value_name = "N", default_value_t = ferry_server::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    max_connections: usize,
    /// Seconds of silence after which a connection is closed (421); 0 disables.
    /// Also accepts durations such as 90s or 5m.
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_seconds)]
    idle_timeout: Duration,
    /// Refuse STORE and DELETE (550 Read-only).
    #[arg(long)]
    read_only: bool,
    /// Seconds that transfers in flight get to finish after Ctrl-C or SIGTERM.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    shutdown_grace: Duration,
}

/// `--listen`: an IP socket address, or a host name with a port (first address wins).
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    text.to_socket_addrs()
        .map_err(|error| format!("not a HOST:PORT address ({error})"))?
        .next()
        .ok_or_else(|| "the host name has no address".to_owned())
}

/// `--max-file-size`: a number of bytes, optionally with a binary or decimal unit.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err("expected a number of bytes, e.g. 1048576 or 10MiB".to_owned());
    }
    let number: u64 = digits.parse().map_err(|_| "number too large".to_owned())?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => {
            return Err(format!(
                "unknown unit {other:?} (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)"
            ))
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| "size too large".to_owned())
}

/// `--idle-timeout` and `--shutdown-grace`: whole seconds, or a duration like `5m`.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|_| {
        "expected a whole number of seconds, e.g. 300, or a duration such as 5m".to_owned()
    })
}

/// Ctrl-C and SIGTERM, listened to from the moment this is created (before
/// the server announces itself), so a signal is never missed.
struct StopSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Installs the handlers.
    fn install() -> std::io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    /// Waits for the next Ctrl-C or SIGTERM.
    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }

    /// Resolves at the first signal; a second one exits at once.
    async fn shutdown(mut self) {
        self.next().await;
        tracing::info!("shutdown requested; press Ctrl-C again to stop at once");
        tokio::spawn(async move {
            self.next().await;
            tracing::warn!("second signal: exiting immediately");
            std::process::exit(130);
        });
    }
}

/// Raises the soft limit on open files to the hard limit: every connection
/// needs a descriptor, and the usual soft limit of 1024 is below the
/// default connection limit.
#[cfg(unix)]
fn raise_open_file_limit(wanted: usize) {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if let (Some(current), Some(maximum)) = (limit.current, limit.maximum) {
        if current < maximum {
            let raised = rustix::process::Rlimit {
                current: Some(maximum),
                maximum: Some(maximum),
            };
            if setrlimit(Resource::Nofile, raised).is_err() {
                tracing::debug!("could not raise the open file limit");
            }
        }
    }
    let current = getrlimit(Resource::Nofile).current;
    if let Some(current) = current {
        // A few descriptors per connection at most (socket, file), plus slack.
        if (current as usize) < wanted.saturating_add(64) {
            tracing::warn!(
                open_file_limit = current,
                max_connections = wanted,
                "the open file limit is below --max-connections; some connections may fail"
            );
        }
    }
}

/// Parses the flags, sets up logging, and serves until stopped.
#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = ferry_program::parse_or_exit("ferry-server");
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: "cannot listen on ...: Address already in use (os error 98)"
            // (the server's errors already name their cause).
            eprintln!("ferry-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Binds the server as the flags say and runs it until Ctrl-C or SIGTERM.
async fn serve(args: Args) -> anyhow::Result<()> {
    #[cfg(unix)]
    raise_open_file_limit(args.max_connections);
    let config = Config {
        max_file_size: args.max_file_size,
        max_connections: args.max_connections,
        idle_timeout: args.idle_timeout,
        read_only: args.read_only,
        shutdown_grace: args.shutdown_grace,
        ..Config::new(args.root)
    };
    let signals = StopSignals::install()
        .map_err(|error| anyhow::anyhow!("cannot install signal handlers: {error}"))?;
    let server = Server::bind(config, args.listen).await?;
    server.run(signals.shutdown()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("2 GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("").is_err());
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999TiB").is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_seconds("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
    }

    #[test]
    fn flags_are_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
