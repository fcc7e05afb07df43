//! The one error type of the protocol crate.

use thiserror::Error;

/// Everything that can go wrong while parsing or driving the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtoError {
    /// A file name that breaks the rules of docs/PROTOCOL.md §3.1.
    #[error("invalid name: {0}")]
    InvalidName(&'static str),
    /// A path that breaks the rules of docs/PROTOCOL.md §3.1 (besides its
    /// names, which fail as [`ProtoError::InvalidName`]).
    #[error("invalid path: {0}")]
    InvalidPath(&'static str),
    /// A command line whose verb is not known.
    #[error("unknown command")]
    UnknownCommand,
    /// A known verb with a missing or malformed argument.
    #[error("{0}")]
    BadArgument(String),
    /// A line longer than [`crate::MAX_LINE_LEN`] bytes.
    #[error("line too long")]
    LineTooLong,
    /// A reply line that is not `DDD text`.
    #[error("malformed reply: {0}")]
    MalformedReply(String),
    /// A `LIST` body that does not follow the listing format.
    #[error("malformed listing line {line}: {reason}")]
    MalformedListing {
        /// 1-based line number in the listing.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The server sent a reply the protocol does not allow at this point.
    #[error("unexpected reply from server: {0}")]
    UnexpectedReply(String),
    /// A `150` announced a listing larger than the client accepts.
    #[error("a listing of {len} bytes is larger than the {limit} bytes accepted")]
    ListingTooLarge {
        /// Bytes announced.
        len: u64,
        /// The client's limit.
        limit: u64,
    },
    /// A command was sent while another one is still in flight.
    #[error("a command is already in progress")]
    Busy,
    /// The connection is closed (after `221`, `421` or end of stream).
    #[error("connection closed")]
    Closed,
    /// The stream ended before all announced data bytes arrived.
    #[error("connection lost after {received} of {expected} bytes")]
    Truncated {
        /// Bytes announced by `150`.
        expected: u64,
        /// Bytes actually received.
        received: u64,
    },
}

impl ProtoError {
    /// The reply code a server answers with when a command line fails to
    /// parse with this error, if the error is one a server reports.
    pub fn reply_code(&self) -> Option<u16> {
        match self {
            ProtoError::InvalidName(_) | ProtoError::InvalidPath(_) => Some(553),
            ProtoError::UnknownCommand => Some(502),
            ProtoError::BadArgument(_) => Some(501),
            ProtoError::LineTooLong => Some(500),
            _ => None,
        }
    }
}
