//! Ferry patch: the socket of a plain (not TLS) data connection, offered to
//! the storage back-end's `get_into` of a `RETR`, so that a back-end can send
//! the file with `sendfile(2)` straight from the page cache instead of
//! copying it through user space into the writer it is given. The
//! `StorageBackend` trait lives in `unftp-core` and cannot grow a method
//! here, hence a task-local of the data connection's task.

use std::cell::Cell;
use std::future::Future;
use std::os::fd::OwnedFd;

tokio::task_local! {
    static PLAIN_RETR_SOCKET: Cell<Option<OwnedFd>>;
}

/// Within `StorageBackend::get_into` of a `RETR` over a plain data
/// connection: a duplicate of the connection's socket (the same TCP
/// connection; it stays open until both are closed). At most once per
/// transfer; `None` over TLS, outside a `RETR`, or once taken. A back-end
/// that takes it and writes to it must write nothing to the writer as well
/// (the two are not ordered) and return the number of bytes it sent; the
/// server shuts the connection down after `get_into` returns, as always.
/// Its bytes do not reach libunftp's sent-bytes metric.
pub fn take_plain_retr_socket() -> Option<OwnedFd> {
    PLAIN_RETR_SOCKET.try_with(Cell::take).ok().flatten()
}

/// Runs `transfer` with `socket` offered to [`take_plain_retr_socket`].
pub(crate) async fn offering<F: Future>(socket: Option<OwnedFd>, transfer: F) -> F::Output {
    PLAIN_RETR_SOCKET.scope(Cell::new(socket), transfer).await
}
