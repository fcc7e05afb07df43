//! FTPS (`--tls-cert`, `--tls-key`): the rustls configuration of both the
//! control and the data connections, loaded once at start (a bad file is a
//! start-up error, not a failure of each `AUTH TLS`).
//!
//! No TLS 1.3 session tickets are sent (`send_tls13_tickets = 0`): lftp
//! never reads them on a data connection it only writes to, so at its
//! close the unread ticket turns the close into a reset that drops the
//! last bytes of its upload. Sessions are still resumed through the
//! server-side session cache (TLS 1.2 session IDs), which clients use to
//! tie the data connections to the control connection's session.

use crate::ServerError;
use std::path::PathBuf;
use std::sync::Arc;

/// Sessions remembered for resumption.
const SESSION_CACHE: usize = 1024;

/// The certificate chain and private key files, PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain (`--tls-cert`).
    pub cert: PathBuf,
    /// Its private key (`--tls-key`).
    pub key: PathBuf,
}

/// The rustls configuration for `files` (ring, TLS 1.2 and 1.3).
pub(crate) fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, ServerError> {
    let (certs, key) =
        ferry_program::read_cert_and_key(&files.cert, &files.key).map_err(ServerError::Tls)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| ServerError::Tls(error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|error| ServerError::Tls(format!("certificate and key: {error}")))?;
    config.send_tls13_tickets = 0;
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(SESSION_CACHE);
    Ok(Arc::new(config))
}
