//! `LIST` or `LIST <dir>`: the regular files and directories of the root
//! or of a directory in it, one level.

use super::after_preliminary;
use crate::connection::Connection;
use crate::storage::blocking;
use crate::{ServerError, Shared};
use ferry_proto::{codes, encode_listing, Path, Reply};
use std::sync::Arc;

/// Sends `150 <n> bytes`, the listing, and returns `226 <k> entries`.
pub(crate) async fn run(
    conn: &mut Connection,
    shared: &Shared,
    dir: Option<Path>,
) -> Result<Reply, ServerError> {
    let storage = Arc::clone(&shared.storage);
    let (body, count) = blocking(move || {
        let entries = storage.list(dir.as_ref())?;
        let count = entries.len();
        Ok((encode_listing(entries), count))
    })
    .await?;
    conn.write_reply(&Reply::new(
        codes::DATA_FOLLOWS,
        format!("{} bytes", body.len()),
    ))
    .await?;
    conn.write_all(&body).await.map_err(after_preliminary)?;
    Ok(Reply::new(
        codes::TRANSFER_COMPLETE,
        format!("{count} entries"),
    ))
}
