//! TLS settings for `wss://` bridges: the webpki roots, plus any CA
//! certificates the user trusts explicitly (a bridge with a private CA).

use crate::ClientError;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::Path;
use std::sync::Arc;

/// A TLS client configuration trusting the webpki roots and the CA
/// certificates in the PEM file at `ca_file`.
pub fn tls_config_trusting(ca_file: &Path) -> Result<Arc<ClientConfig>, ClientError> {
    let problem = |reason: String| ClientError::CaCertificates {
        path: ca_file.to_owned(),
        reason,
    };
    let certificates = CertificateDer::pem_file_iter(ca_file)
        .map_err(|error| problem(error.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| problem(error.to_string()))?;
    if certificates.is_empty() {
        return Err(problem("it holds no PEM certificate".to_owned()));
    }
    let mut roots = webpki_roots();
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|error| problem(error.to_string()))?;
    }
    Ok(config_with(roots))
}

/// The TLS client configuration used without `--ca-cert`: the webpki roots.
pub fn default_tls_config() -> Arc<ClientConfig> {
    config_with(webpki_roots())
}

/// The Mozilla root certificates shipped in `webpki-roots`.
fn webpki_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots
}

/// A client configuration trusting `roots`, without client certificates.
fn config_with(roots: RootCertStore) -> Arc<ClientConfig> {
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(tls_config_trusting(&missing)
            .unwrap_err()
            .to_string()
            .starts_with("cannot use the CA certificates in "));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        assert!(tls_config_trusting(&empty)
            .unwrap_err()
            .to_string()
            .ends_with("it holds no PEM certificate"));
    }
}
