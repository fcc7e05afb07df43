#![warn(missing_docs)]
//! The Ferry native client as a library: a [`Session`] that drives the
//! protocol crate's [`ClientDriver`](ferry_proto::ClientDriver) over TCP or a
//! WebSocket bridge (or any [`Transport`]); whole-file [`download`]s and
//! [`upload`]s that never leave a partial file in sight (a cut-off download
//! may be kept in a hidden part file and continued with READ, an upload
//! continued with RESUME); whole trees ([`download_tree`], [`upload_tree`]);
//! and [`RemoteDir`], which turns paths as people type them (a working
//! directory, `..`) into protocol paths.
//!
//! The `ferry` binary (prompt and one-shot subcommands) is a thin layer on
//! top of this.

mod close_tap;
mod error;
mod hashing;
mod partial;
mod remote_path;
mod session;
mod target;
mod tls;
mod transfer;
pub mod transport;
mod tree;

pub use error::ClientError;
pub use hashing::{HashingReader, HashingWriter};
pub use partial::part_path;
pub use remote_path::{remote_path, resolve, RemoteDir};
pub use session::{Session, SessionOptions, Transfer, TransferProgress};
pub use target::{Endpoint, Target};
pub use tls::{default_tls_config, tls_config_trusting};
pub use transfer::{
    download, download_path, upload, upload_name, Destination, DownloadOptions, Downloaded,
    Partial, UploadMode, UploadOptions, Uploaded,
};
pub use transport::{AnyTransport, TcpTransport, Transport, WsTransport};
pub use tree::{download_tree, upload_tree, TreeDone};
