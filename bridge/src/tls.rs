//! Loading the certificate and key for https / wss.

use crate::{BridgeError, TlsFiles};
use std::sync::Arc;

/// A rustls server configuration (ring provider, TLS 1.2 and 1.3) from PEM
/// files. Only HTTP/1.1 is offered over ALPN: WebSocket upgrades need it, and
/// browsers then use the same connection for `wss://`.
pub(crate) fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, BridgeError> {
    let (certs, key) =
        ferry_program::read_cert_and_key(&files.cert, &files.key).map_err(BridgeError::Tls)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| BridgeError::Tls(error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|error| BridgeError::Tls(format!("certificate and key: {error}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
