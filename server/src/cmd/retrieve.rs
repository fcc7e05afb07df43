//! `RETRIEVE <path>` and `READ <offset> <length> <path>`: stream a file, or
//! a byte range of it, to the client.
//!
//! The file is opened (no link followed anywhere in its path) and measured
//! before `150`; from then on exactly that many bytes are sent from the open
//! handle, so a file replaced or renamed meanwhile is still delivered whole,
//! as it was. On Linux the bytes go straight from the page cache to the
//! socket with `sendfile(2)`, from the range's offset; elsewhere (or where
//! the file system refuses it) through a small buffer. Either way memory use
//! does not depend on the file size. From an object store, the range is
//! one ranged GET streamed to the client (`storage::object`).

use super::after_preliminary;
use crate::connection::Connection;
#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::sendfile;
use crate::storage::{ObjectFile, ObjectRange, Opened};
use crate::{ServerError, Shared};
use ferry_proto::{codes, Path, ProtoError, Reply};
use std::io;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Buffer size of the portable copy loop.
const CHUNK_LEN: usize = 256 * 1024;

/// The bytes of the file a command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Range {
    /// RETRIEVE: all of it.
    Whole,
    /// READ: at most `length` bytes from `offset`.
    From {
        /// First byte.
        offset: u64,
        /// Most bytes.
        length: u64,
    },
}

/// Sends `150 <n> bytes` and the range, and returns `226 Transfer complete`.
/// Once `150` is out, any failure closes the connection (the contract's
/// §3.4 "Reads and transfers").
pub(crate) async fn run(
    conn: &mut Connection,
    shared: &Shared,
    path: Path,
    range: Range,
) -> Result<Reply, ServerError> {
    let opened = shared.storage.open_file(path).await?;
    let size = opened.len();
    let (offset, len) = match range {
        Range::Whole => (0, size),
        Range::From { offset, .. } if offset > size => {
            return Err(ServerError::BadCommand(ProtoError::BadArgument(format!(
                "Offset {offset} is beyond the end of the file ({size} bytes)"
            ))))
        }
        Range::From { offset, length } => (offset, length.min(size - offset)),
    };
    conn.write_reply(&Reply::new(codes::DATA_FOLLOWS, format!("{len} bytes")))
        .await?;
    let sent = match opened {
        Opened::Local(opened) => send_file(conn, opened.file, offset, len).await,
        Opened::Object(file) => send_object(conn, &file, offset, len).await,
    };
    sent.map_err(after_preliminary)?;
    Ok(Reply::new(codes::TRANSFER_COMPLETE, "Transfer complete"))
}

/// Sends exactly `len` bytes of `file` from `offset`.
async fn send_file(
    conn: &mut Connection,
    file: std::fs::File,
    offset: u64,
    len: u64,
) -> Result<(), ServerError> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        sendfile::read_ahead(&file, offset);
        let mut sent = 0;
        let outcome = sendfile::send(
            conn.stream(),
            &file,
            offset,
            len,
            conn.idle_timeout(),
            &mut sent,
        )
        .await;
        conn.add_bytes_out(sent);
        match outcome? {
            sendfile::Outcome::Done => return Ok(()),
            sendfile::Outcome::Unsupported => {}
        }
    }
    copy(conn, file, offset, len).await
}

/// Streams exactly `len` bytes of the object from `offset`.
async fn send_object(
    conn: &mut Connection,
    file: &ObjectFile,
    offset: u64,
    len: u64,
) -> Result<(), ServerError> {
    let mut range = ObjectRange::open(file, offset, len).await?;
    while let Some(chunk) = range.next().await? {
        conn.write_all(&chunk).await?;
    }
    Ok(())
}

/// The portable way: read a chunk on a blocking thread, write it, repeat.
async fn copy(
    conn: &mut Connection,
    file: std::fs::File,
    offset: u64,
    len: u64,
) -> Result<(), ServerError> {
    let shrank = || {
        ServerError::TransferAborted(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the file shrank while being sent",
        ))
    };
    let mut file = tokio::fs::File::from_std(file);
    file.set_max_buf_size(CHUNK_LEN);
    file.seek(io::SeekFrom::Start(offset))
        .await
        .map_err(ServerError::TransferAborted)?;
    let mut buffer = vec![0; usize::try_from(len).map_or(CHUNK_LEN, |len| len.min(CHUNK_LEN))];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).map_or(buffer.len(), |left| left.min(buffer.len()));
        let n = file
            .read(&mut buffer[..want])
            .await
            .map_err(ServerError::TransferAborted)?;
        if n == 0 {
            return Err(shrank());
        }
        conn.write_all(&buffer[..n]).await?;
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};
    use std::time::Duration;
    use tokio::net::{TcpListener, TcpStream};

    /// The portable path, used where `sendfile` is not available, sends the
    /// exact bytes too.
    #[tokio::test]
    async fn portable_copy_sends_exact_bytes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let content: Vec<u8> = (0..CHUNK_LEN * 3 + 17)
            .map(|i| (i * 7 % 256) as u8)
            .collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&content).unwrap();
        file.rewind().unwrap();
        let reader = tokio::spawn(async move {
            let mut client = TcpStream::connect(addr).await.unwrap();
            let mut received = Vec::new();
            client.read_to_end(&mut received).await.unwrap();
            received
        });
        let (stream, peer) = listener.accept().await.unwrap();
        let mut conn = Connection::new(stream, peer, Duration::from_secs(5));
        copy(
            &mut conn,
            file.try_clone().unwrap(),
            0,
            content.len() as u64,
        )
        .await
        .unwrap();
        assert_eq!(conn.bytes_out(), content.len() as u64);
        drop(conn);
        assert_eq!(reader.await.unwrap(), content);
    }

    /// A file shorter than announced aborts the transfer.
    #[tokio::test]
    async fn portable_copy_detects_a_shrunken_file() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (stream, peer) = listener.accept().await.unwrap();
        let mut conn = Connection::new(stream, peer, Duration::from_secs(5));
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"short").unwrap();
        file.rewind().unwrap();
        let result = copy(&mut conn, file, 0, 10).await;
        assert!(matches!(result, Err(ServerError::TransferAborted(_))));
    }
}
