//! Loading the certificate and key for https / wss.

use crate::{BridgeError, TlsFiles};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// A rustls server configuration (ring provider, TLS 1.2 and 1.3) from PEM
/// files. Only HTTP/1.1 is offered over ALPN: WebSocket upgrades need it, and
/// browsers then use the same connection for `wss://`.
pub(crate) fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, BridgeError> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| {
            BridgeError::Tls(format!("certificate {}: {error}", files.cert.display()))
        })?;
    if certs.is_empty() {
        return Err(BridgeError::Tls(format!(
            "certificate {}: no CERTIFICATE block",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|error| BridgeError::Tls(format!("key {}: {error}", files.key.display())))?;
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
