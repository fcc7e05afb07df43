//! `STAT`, `MKDIR`, `RMDIR` and `RENAME`: directories and moves, each one
//! call into the storage (which refuses links, the staging area and
//! anything but regular files and directories). Paths come with the home
//! in front and `550 Read-only` already checked (`cmd::execute`).

use crate::{ServerError, Shared};
use ferry_proto::{codes, Path, Reply};

/// `213 file <size> <modified>` or `213 dir - <modified>`.
pub(crate) async fn stat(shared: &Shared, path: Path) -> Result<Reply, ServerError> {
    let status = shared.storage.stat(path).await?;
    Ok(Reply::new(codes::FILE_STATUS, status.to_string()))
}

/// `257 Created`.
pub(crate) async fn mkdir(shared: &Shared, path: Path) -> Result<Reply, ServerError> {
    shared.storage.mkdir(path).await?;
    Ok(Reply::new(codes::CREATED, "Created"))
}

/// `250 Removed`.
pub(crate) async fn rmdir(shared: &Shared, path: Path) -> Result<Reply, ServerError> {
    shared.storage.rmdir(path).await?;
    Ok(Reply::new(codes::FILE_ACTION_OK, "Removed"))
}

/// `250 Renamed`.
pub(crate) async fn rename(shared: &Shared, from: Path, to: Path) -> Result<Reply, ServerError> {
    shared.storage.rename(from, to).await?;
    Ok(Reply::new(codes::FILE_ACTION_OK, "Renamed"))
}
