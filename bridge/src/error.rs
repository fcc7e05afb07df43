//! The one error type of the bridge library.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the bridge could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// A `HOST:PORT` string (upstream, `--allow`) could not be parsed.
    #[error("invalid target {input:?}: {reason}")]
    InvalidTarget {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An `--allow-origin` entry is not an origin like `https://host:port`.
    #[error(
        "invalid origin {input:?}: expected scheme://host[:port], e.g. https://ferry.example.com"
    )]
    InvalidOrigin {
        /// The text as given.
        input: String,
    },
    /// A limit has a value the bridge cannot work with.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The operating system's reason.
        source: io::Error,
    },
    /// `--static` does not name a readable directory.
    #[error("static directory {path}: {reason}")]
    StaticDir {
        /// The directory as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS certificate or key could not be loaded.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// The HTTP server failed while running.
    #[error("serving HTTP: {0}")]
    Serve(#[source] io::Error),
}
