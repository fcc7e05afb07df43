//! `HASH <path>`: the SHA-256 of a file, computed on the server.

use crate::storage::blocking;
use crate::{ServerError, Shared};
use ferry_proto::{codes, Path, Reply};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Bytes read from the file at a time.
const CHUNK_LEN: usize = 256 * 1024;

/// Returns `213 SHA-256 <hex>`.
pub(crate) async fn run(shared: &Shared, path: Path) -> Result<Reply, ServerError> {
    let storage = Arc::clone(&shared.storage);
    // Set when this command is dropped (forced shutdown), so the blocking
    // thread stops reading instead of hashing a huge file for nobody.
    let cancelled = CancelOnDrop(Arc::new(AtomicBool::new(false)));
    let stop = Arc::clone(&cancelled.0);
    let digest = blocking(move || {
        let mut file = storage.open_file(&path)?.file;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; CHUNK_LEN];
        loop {
            if stop.load(Ordering::Relaxed) {
                return Err(ServerError::ShuttingDown);
            }
            match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => hasher.update(&buffer[..n]),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(ServerError::Storage(error)),
            }
        }
        Ok(hex::encode(hasher.finalize()))
    })
    .await?;
    drop(cancelled);
    Ok(Reply::new(codes::HASH, format!("SHA-256 {digest}")))
}

/// Raises its flag when dropped.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
