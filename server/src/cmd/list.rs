//! `LIST` or `LIST <dir>`: the regular files and directories of the root
//! or of a directory in it, one level.
//!
//! The entries come sorted from the storage; a large listing is encoded
//! in batches twice, once to count its bytes for `150` and once to send
//! them, so that its body is never held whole beside its entries (an
//! object store's directory of 100,000 objects included).

use super::after_preliminary;
use crate::connection::Connection;
use crate::{ServerError, Shared};
use ferry_proto::{codes, encode_listing, ListingEntry, Path, Reply};

/// Entries encoded at a time.
const BATCH: usize = 4096;

/// Sends `150 <n> bytes`, the listing, and returns `226 <k> entries`.
pub(crate) async fn run(
    conn: &mut Connection,
    shared: &Shared,
    dir: Option<Path>,
) -> Result<Reply, ServerError> {
    let entries = shared.storage.list(dir).await?;
    let count = entries.len();
    if count <= BATCH {
        let body = encode_listing(entries);
        announce(conn, body.len()).await?;
        conn.write_all(&body).await.map_err(after_preliminary)?;
    } else {
        let encode = |batch: &[ListingEntry]| encode_listing(batch.to_vec());
        announce(conn, entries.chunks(BATCH).map(|b| encode(b).len()).sum()).await?;
        for batch in entries.chunks(BATCH) {
            conn.write_all(&encode(batch))
                .await
                .map_err(after_preliminary)?;
        }
    }
    Ok(Reply::new(
        codes::TRANSFER_COMPLETE,
        format!("{count} entries"),
    ))
}

/// `150 <len> bytes`.
async fn announce(conn: &mut Connection, len: usize) -> Result<(), ServerError> {
    conn.write_reply(&Reply::new(codes::DATA_FOLLOWS, format!("{len} bytes")))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_proto::Name;

    /// Encoding sorted entries in batches gives the same bytes as at once.
    #[test]
    fn batches_make_the_same_body() {
        let mut entries: Vec<ListingEntry> = (0..BATCH * 2 + 5)
            .map(|i| ListingEntry::file(Name::new(format!("f{i:06}")).unwrap(), i as u64, 7))
            .collect();
        entries.push(ListingEntry::directory(Name::new("f").unwrap(), 9));
        entries.sort_unstable_by(ListingEntry::listing_order);
        let whole = encode_listing(entries.clone());
        let batched: Vec<u8> = entries
            .chunks(BATCH)
            .flat_map(|batch| encode_listing(batch.to_vec()))
            .collect();
        assert_eq!(whole, batched);
    }
}
