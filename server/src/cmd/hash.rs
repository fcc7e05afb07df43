//! `HASH <path>`: the SHA-256 of a file, computed on the server (from an
//! object store: its bytes streamed from one GET through the hash).

use crate::storage::{blocking, ObjectFile, Opened};
use crate::{ServerError, Shared};
use ferry_proto::{codes, Path, Reply};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Bytes read from the file at a time.
const CHUNK_LEN: usize = 256 * 1024;

/// Returns `213 SHA-256 <hex>`.
pub(crate) async fn run(shared: &Shared, path: Path) -> Result<Reply, ServerError> {
    let digest = match shared.storage.open_file(path).await? {
        Opened::Local(opened) => hash_file(opened.file).await?,
        Opened::Object(file) => hash_object(&file).await?,
    };
    Ok(Reply::new(codes::HASH, format!("SHA-256 {digest}")))
}

/// The digest of an object, in hex.
async fn hash_object(file: &ObjectFile) -> Result<String, ServerError> {
    let mut hasher = Sha256::new();
    let mut stream = file.stream(0, file.len).await?;
    let mut read = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(ServerError::Storage)?;
        read += chunk.len() as u64;
        hasher.update(&chunk);
    }
    if read != file.len {
        return Err(ServerError::Storage(std::io::Error::other(
            "the object changed size while being hashed",
        )));
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The digest of a local file, in hex, read on a blocking thread.
async fn hash_file(mut file: std::fs::File) -> Result<String, ServerError> {
    // Set when this command is dropped (forced shutdown), so the blocking
    // thread stops reading instead of hashing a huge file for nobody.
    let cancelled = CancelOnDrop(Arc::new(AtomicBool::new(false)));
    let stop = Arc::clone(&cancelled.0);
    let digest = blocking(move || {
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
    Ok(digest)
}

/// Raises its flag when dropped.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
