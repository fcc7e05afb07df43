//! `DELETE <path>`: removes a regular file.

use crate::{ServerError, Shared};
use ferry_proto::{codes, Path, Reply};

/// Removes the file and returns `250 Deleted` (the caller has checked
/// that the session may change files).
pub(crate) async fn run(shared: &Shared, path: Path) -> Result<Reply, ServerError> {
    shared.storage.delete(path).await?;
    Ok(Reply::new(codes::DELETED, "Deleted"))
}
