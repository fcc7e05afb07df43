//! `DELETE <path>`: removes a regular file.

use crate::storage::blocking;
use crate::{ServerError, Shared};
use ferry_proto::{codes, Path, Reply};
use std::sync::Arc;

/// Removes the file and returns `250 Deleted` (the caller has checked
/// that the session may change files).
pub(crate) async fn run(shared: &Shared, path: Path) -> Result<Reply, ServerError> {
    let storage = Arc::clone(&shared.storage);
    blocking(move || storage.delete(&path)).await?;
    Ok(Reply::new(codes::DELETED, "Deleted"))
}
