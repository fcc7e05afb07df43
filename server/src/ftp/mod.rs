//! The FTP front door (docs/PROTOCOL.md §6): RFC 959 with RFC 3659's
//! MLSD/MLST/SIZE/MDTM/REST, on its own listener (`--ftp-listen`), serving
//! the same files, accounts, permissions, quotas and limits as the Ferry
//! protocol from the same process.
//!
//! The protocol is libunftp's (a patched 0.24, see
//! vendor/libunftp/FERRY-PATCHES.md); what it serves is ours: the
//! connection is admitted by the server's accept loop like any other (the
//! connection limits and the lockout's `421` instead of `220`), then
//! handed to a libunftp server built for it alone, whose authenticator
//! ([`auth`]) and storage back-end ([`storage`]) know this connection:
//! its client address, and a duplicate of its control socket
//! ([`control`]) for STOR's commit rule ([`upload`]). Passive mode only,
//! on `--ftp-passive-ports`; FTPS ([`tls`]) with `--tls-cert`/`--tls-key`.

mod auth;
mod control;
mod paths;
mod storage;
mod tls;
mod upload;

pub use tls::TlsFiles;

use crate::listener::Client;
use crate::session::Identity;
use crate::shutdown::Shutdown;
use crate::{ServerError, Shared};
use control::Control;
use libunftp::options::{ActivePassiveMode, FtpsRequired};
use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// Passive ports when `--ftp-passive-ports` is not given.
pub const DEFAULT_PASSIVE_PORTS: RangeInclusive<u16> = 49152..=65535;

/// The FTP listener's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpListener {
    /// Where the control connections arrive (`--ftp-listen`).
    pub addr: SocketAddr,
    /// The ports passive data connections are offered on
    /// (`--ftp-passive-ports LOW-HIGH`).
    pub passive_ports: RangeInclusive<u16>,
    /// The certificate and key of explicit FTPS, if it is offered.
    pub tls: Option<TlsFiles>,
}

impl FtpListener {
    /// A listener on `addr` with the default passive ports and no TLS.
    pub fn new(addr: SocketAddr) -> FtpListener {
        FtpListener {
            addr,
            passive_ports: DEFAULT_PASSIVE_PORTS,
            tls: None,
        }
    }
}

/// `LOW-HIGH` as a port range (`--ftp-passive-ports`).
pub fn parse_passive_ports(text: &str) -> Result<RangeInclusive<u16>, String> {
    let (low, high) = text
        .split_once('-')
        .ok_or_else(|| format!("{text:?}: expected LOW-HIGH, e.g. 50000-50100"))?;
    let port = |part: &str| {
        part.parse::<u16>()
            .ok()
            .filter(|port| *port > 0)
            .ok_or_else(|| format!("{part:?} is not a port (1 to 65535)"))
    };
    let (low, high) = (port(low)?, port(high)?);
    if low > high {
        return Err(format!("{text:?}: the low port is above the high one"));
    }
    Ok(low..=high)
}

/// What the door loads once at start.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// Loads the certificate and key, if FTPS is configured.
pub(crate) fn prepare(listener: &FtpListener) -> Result<Prepared, ServerError> {
    let tls = listener.tls.as_ref().map(tls::server_config).transpose()?;
    Ok(Prepared { tls })
}

/// Who a logged-in FTP session is.
#[derive(Debug)]
pub(crate) struct FtpUser {
    identity: Identity,
}

impl fmt::Display for FtpUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.identity.owner())
    }
}

impl unftp_core::auth::UserDetail for FtpUser {}

/// One FTP connection, as its authenticator and storage back-end see it.
#[derive(Debug)]
pub(crate) struct Door {
    shared: Arc<Shared>,
    control: Control,
    /// Transfers running (a graceful shutdown waits for them).
    transfers: AtomicUsize,
}

/// A transfer running; it counts until dropped.
struct Transfer<'a>(&'a AtomicUsize);

impl Drop for Transfer<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Door {
    fn transfer(&self) -> Transfer<'_> {
        self.transfers.fetch_add(1, Ordering::Relaxed);
        Transfer(&self.transfers)
    }

    fn busy(&self) -> bool {
        self.transfers.load(Ordering::Relaxed) > 0
    }
}

/// How often a stopping server looks whether a session's transfer ended.
const STOP_POLL: Duration = Duration::from_millis(50);

/// Serves one admitted FTP control connection until it ends. At a
/// graceful shutdown the session ends as soon as no transfer is running
/// (or when the grace period is over), with `421 Server shutting down`
/// as on the other listeners.
pub(crate) async fn serve(stream: TcpStream, client: Client, shared: Arc<Shared>, stop: Shutdown) {
    let Some(settings) = shared.config.ftp.clone() else {
        return;
    };
    let prepared = shared.ftp.clone();
    let started = std::time::Instant::now();
    let control = match Control::of(&stream) {
        Ok(control) => control,
        Err(error) => {
            tracing::warn!(peer = %client.addr, %error, "FTP: cannot take the control socket");
            return;
        }
    };
    let door = Arc::new(Door {
        shared: Arc::clone(&shared),
        control: control.clone(),
        transfers: AtomicUsize::new(0),
    });
    let login = Arc::new(auth::Login::new(Arc::clone(&shared), client.addr, control));
    let for_storage = Arc::clone(&door);
    let mut builder = libunftp::ServerBuilder::with_user_detail_provider(
        Box::new(move || storage::FtpStorage::new(Arc::clone(&for_storage))),
        Arc::clone(&login)
            as Arc<dyn unftp_core::auth::UserDetailProvider<User = FtpUser> + Send + Sync>,
    )
    .authenticator(login)
    .greeting(GREETING)
    .passive_ports(settings.passive_ports.clone())
    .active_passive_mode(ActivePassiveMode::PassiveOnly)
    .idle_session_timeout(idle_seconds(shared.config.idle_timeout));
    if let Some(Some(config)) = prepared.as_ref().map(|prepared| prepared.tls.clone()) {
        builder = builder
            .ftps_manual::<std::path::PathBuf>(config)
            .ftps_required(FtpsRequired::None, FtpsRequired::None);
    }
    let server = match builder.build() {
        Ok(server) => server,
        Err(error) => {
            tracing::warn!(peer = %client.addr, %error, "FTP: cannot set up the session");
            return;
        }
    };
    tracing::info!(peer = %client.addr, "FTP: connection");
    let session = server.service(stream);
    tokio::pin!(session);
    let end = tokio::select! {
        _ = &mut session => "ended",
        () = stopped(&door, &stop) => {
            door.control.close_with("421 Server shutting down\r\n");
            "stopped by the shutdown"
        }
    };
    tracing::info!(
        peer = %client.addr,
        duration_ms = started.elapsed().as_millis() as u64,
        end,
        "FTP: connection"
    );
}

/// The greeting of every FTP connection.
const GREETING: &str = concat!("ferry ", env!("CARGO_PKG_VERSION"), " FTP ready");

/// Resolves when the session must end for a shutdown: once stopping with
/// no transfer running, or when the grace period is over.
async fn stopped(door: &Door, stop: &Shutdown) {
    tokio::select! {
        () = async {
            stop.stopping().await;
            while door.busy() {
                tokio::time::sleep(STOP_POLL).await;
            }
        } => {}
        () = stop.forced() => {}
    }
}

/// libunftp's idle timeout in seconds; zero (none) is as good as never.
fn idle_seconds(timeout: Duration) -> u64 {
    if timeout.is_zero() {
        u64::from(u32::MAX)
    } else {
        timeout.as_secs().max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passive_port_ranges() {
        assert_eq!(parse_passive_ports("50000-50010").unwrap(), 50000..=50010);
        assert_eq!(parse_passive_ports("7-7").unwrap(), 7..=7);
        for bad in [
            "",
            "50000",
            "50010-50000",
            "0-10",
            "1-65536",
            "a-b",
            "-5",
            "5-",
        ] {
            assert!(parse_passive_ports(bad).is_err(), "{bad:?}");
        }
    }
}
