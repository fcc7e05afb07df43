//! The certificate chain and private key of Ferry's TLS servers
//! (ferry-bridge's https/wss, ferry-server's FTPS), read from PEM files
//! one way, with the same one-line reasons for a bad file.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;

/// The certificates of `cert` (at least one) and the private key of `key`;
/// the error names the file and what is wrong with it.
pub fn read_cert_and_key(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| format!("certificate {}: {error}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "certificate {}: no CERTIFICATE block",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| format!("key {}: {error}", key.display()))?;
    Ok((certs, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_named_in_the_reason() {
        let dir = std::env::temp_dir().join(format!("ferry-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let reason = read_cert_and_key(&missing, &missing).unwrap_err();
        assert!(
            reason.starts_with("certificate ") && reason.contains("missing.pem"),
            "{reason}"
        );
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no PEM here\n").unwrap();
        let reason = read_cert_and_key(&empty, &missing).unwrap_err();
        assert!(reason.ends_with("no CERTIFICATE block"), "{reason}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
