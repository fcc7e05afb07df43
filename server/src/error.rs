//! The server's one error type, and the one place where errors become
//! reply codes.

use ferry_proto::{codes, ProtoError, Reply};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong in the server: when starting up, and while
/// serving a command (where the server turns it into the reply
/// the contract names).
#[derive(Debug, Error)]
pub enum ServerError {
    /// The root directory could not be created, opened or prepared.
    #[error("cannot prepare root directory {}: {source}", path.display())]
    Root {
        /// The root directory as configured.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The listening socket could not be set up.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The FTP door's certificate or key (`--tls-cert`, `--tls-key`) could
    /// not be loaded.
    #[error("cannot load the TLS certificate: {0}")]
    Tls(String),
    /// The object store (`--store`) cannot be reached or logged in to, at
    /// start; while serving, a store failure that is the server's own
    /// problem (451).
    #[error("object store: {0}")]
    Store(String),
    /// The accounts file (`--accounts`) could not be read or is not valid.
    #[error("cannot load accounts: {0}")]
    Accounts(#[from] crate::accounts::AccountsFileError),
    /// A command line that does not parse (500, 501, 502 or 553).
    #[error(transparent)]
    BadCommand(#[from] ProtoError),
    /// The name does not denote a regular file in the root (550).
    #[error("no such file")]
    NoSuchFile,
    /// STORE onto a name held by something other than a regular file,
    /// such as a directory (550).
    #[error("the name is taken by something that is not a regular file")]
    NotAFile,
    /// The path cannot be used for this command, for the reason given:
    /// no such directory, it exists, not empty, a directory in the way (550).
    #[error("{0}")]
    Unavailable(&'static str),
    /// The operating system refused access to the file (550).
    #[error("permission denied")]
    PermissionDenied,
    /// STORE or DELETE on a read-only server (550).
    #[error("the server is read-only")]
    ReadOnly,
    /// STORE of more bytes than the configured maximum (552).
    #[error("{size} bytes is over the limit of {limit} bytes")]
    TooLarge {
        /// Size the client asked to store.
        size: u64,
        /// The server's maximum file size.
        limit: u64,
    },
    /// The file system is full (552).
    #[error("not enough space on the server")]
    NoSpace,
    /// A second STORE or RESUME of the same owner, path and size while
    /// one is in progress on another connection (450).
    #[error("the same upload is in progress on another connection")]
    UploadInProgress,
    /// The upload would take the account's usage over its quota (552).
    #[error("{size} bytes would take the usage of {usage} bytes over the quota of {quota} bytes")]
    OverQuota {
        /// What the upload would add (its size, less the file it replaces).
        size: u64,
        /// The account's usage before it.
        usage: u64,
        /// The account's quota.
        quota: u64,
    },
    /// A command other than USER, PASS, NOOP, HELP and QUIT before a
    /// login, on a server without anonymous access (530).
    #[error("not logged in")]
    NotLoggedIn,
    /// PASS without USER first (503).
    #[error("PASS without USER")]
    NoUser,
    /// An unknown account or a wrong password: the client cannot tell
    /// which (530).
    #[error("login incorrect")]
    LoginIncorrect,
    /// PASS in clear text from a non-loopback peer on the main listener
    /// without `--allow-plain-login` (530; not a failed login).
    #[error("clear-text login from a non-loopback peer refused")]
    PlainLogin,
    /// The failed login that reached the limit for its address, or a PASS
    /// from an address locked out (421, then close).
    #[error("too many failed logins")]
    TooManyFailedLogins,
    /// The account's home cannot be created or is not a directory (421,
    /// then close).
    #[error("home unavailable: {0}")]
    HomeUnavailable(String),
    /// Any other file system failure; the command may work later (451).
    #[error("storage error: {0}")]
    Storage(#[source] io::Error),
    /// The client sent nothing for the idle timeout (421, then close).
    #[error("idle timeout")]
    IdleTimeout,
    /// A command line was not complete within the line timeout of its
    /// first byte (421, then close).
    #[error("command line not complete in time")]
    LineTimeout,
    /// The server is stopping (421, then close).
    #[error("server shutting down")]
    ShuttingDown,
    /// The connection limit is reached (421, then close).
    #[error("too many connections")]
    TooManyConnections,
    /// The client's address holds `--max-per-address` connections (421,
    /// then close).
    #[error("too many connections from the address")]
    TooManyFromAddress,
    /// Reading from or writing to the client failed (close, no reply).
    #[error("connection error: {0}")]
    Peer(#[source] io::Error),
    /// The client closed the connection before sending all STORE bytes
    /// (close, no reply).
    #[error("client disconnected after {received} of {expected} bytes")]
    UploadCut {
        /// Bytes announced by the STORE command.
        expected: u64,
        /// Bytes that arrived.
        received: u64,
    },
    /// An error whose reply was sent while the command went on: a STORE's
    /// write failure (a full disk) is answered at once, and the rest of the
    /// upload is read after it (no further reply).
    #[error("{0} (answered during the transfer)")]
    AnsweredEarly(Box<ServerError>),
    /// A transfer announced with `150` could not be completed; the
    /// contract says to close the connection (no reply).
    #[error("transfer aborted: {0}")]
    TransferAborted(#[source] io::Error),
}

impl ServerError {
    /// Classifies a file system error met while handling `name`-based
    /// commands: the cases the client can do something about become their
    /// own variants, the rest is a transient storage error.
    pub(crate) fn from_storage(error: io::Error) -> ServerError {
        use rustix::io::Errno;
        let errno = error.raw_os_error().map(Errno::from_raw_os_error);
        match error.kind() {
            io::ErrorKind::NotFound
            | io::ErrorKind::IsADirectory
            | io::ErrorKind::NotADirectory => return ServerError::NoSuchFile,
            io::ErrorKind::PermissionDenied => return ServerError::PermissionDenied,
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                return ServerError::NoSpace
            }
            _ => {}
        }
        match errno {
            // ELOOP: the name is a symbolic link opened without following.
            // ENXIO: a socket or similar special file.
            // EXDEV: the path tried to leave the root (RESOLVE_BENEATH).
            Some(Errno::LOOP | Errno::NXIO | Errno::XDEV) => ServerError::NoSuchFile,
            _ => ServerError::Storage(error),
        }
    }

    /// The reply the client gets for this error, if any.
    ///
    /// This is the single mapping from errors to reply codes.
    pub(crate) fn reply(&self) -> Option<Reply> {
        let reply = |code, text: &str| Some(Reply::new(code, text));
        match self {
            ServerError::BadCommand(error) => {
                let code = error.reply_code().unwrap_or(codes::SYNTAX_ERROR);
                let text = match error {
                    ProtoError::LineTooLong => "Line too long".to_owned(),
                    ProtoError::UnknownCommand => "Unknown command".to_owned(),
                    ProtoError::InvalidName(reason) => format!("Invalid name: {reason}"),
                    other => capitalized(&other.to_string()),
                };
                Some(Reply::new(code, text))
            }
            ServerError::NoSuchFile => reply(codes::UNAVAILABLE, "No such file"),
            ServerError::NotAFile => reply(codes::UNAVAILABLE, "Not a regular file"),
            ServerError::Unavailable(reason) => reply(codes::UNAVAILABLE, reason),
            ServerError::PermissionDenied => reply(codes::UNAVAILABLE, "Permission denied"),
            ServerError::ReadOnly => reply(codes::UNAVAILABLE, "Read-only"),
            ServerError::TooLarge { limit, .. } => Some(Reply::new(
                codes::TOO_LARGE,
                format!("File too large: the limit is {limit} bytes"),
            )),
            ServerError::NoSpace => reply(codes::TOO_LARGE, "Not enough space on the server"),
            ServerError::UploadInProgress => reply(
                codes::UPLOAD_IN_PROGRESS,
                "The same upload is in progress on another connection",
            ),
            ServerError::OverQuota { quota, .. } => Some(Reply::new(
                codes::TOO_LARGE,
                format!("Over quota: the quota is {quota} bytes"),
            )),
            ServerError::NotLoggedIn => reply(codes::NOT_LOGGED_IN, "Not logged in"),
            ServerError::NoUser => reply(codes::BAD_SEQUENCE, "Send USER first"),
            ServerError::LoginIncorrect => reply(codes::NOT_LOGGED_IN, "Login incorrect"),
            ServerError::PlainLogin => reply(codes::NOT_LOGGED_IN, "Log in over TLS"),
            ServerError::TooManyFailedLogins => reply(codes::CLOSING, "Too many failed logins"),
            ServerError::HomeUnavailable(_) => reply(codes::CLOSING, "Home unavailable"),
            ServerError::Storage(error) => Some(Reply::new(
                codes::LOCAL_ERROR,
                format!("Local error: {error}"),
            )),
            ServerError::Store(_) => {
                reply(codes::LOCAL_ERROR, "Local error: the object store failed")
            }
            ServerError::IdleTimeout => reply(codes::CLOSING, "Idle timeout"),
            ServerError::LineTimeout => reply(codes::CLOSING, "Line timeout"),
            ServerError::ShuttingDown => reply(codes::CLOSING, "Server shutting down"),
            ServerError::TooManyConnections => reply(codes::CLOSING, "Too many connections"),
            ServerError::TooManyFromAddress => {
                reply(codes::CLOSING, "Too many connections from your address")
            }
            // Startup errors never reach a connection; the others end it
            // where a reply would be read as data or cannot be delivered.
            ServerError::Root { .. }
            | ServerError::Bind { .. }
            | ServerError::Accounts(_)
            | ServerError::Tls(_)
            | ServerError::Peer(_)
            | ServerError::UploadCut { .. }
            | ServerError::AnsweredEarly(_)
            | ServerError::TransferAborted(_) => None,
        }
    }

    /// Whether the connection must be closed after this error (after
    /// sending [`ServerError::reply`], if there is one).
    pub(crate) fn closes_connection(&self) -> bool {
        matches!(
            self,
            ServerError::IdleTimeout
                | ServerError::LineTimeout
                | ServerError::ShuttingDown
                | ServerError::TooManyConnections
                | ServerError::TooManyFromAddress
                | ServerError::TooManyFailedLogins
                | ServerError::HomeUnavailable(_)
                | ServerError::Peer(_)
                | ServerError::UploadCut { .. }
                | ServerError::TransferAborted(_)
                | ServerError::Root { .. }
                | ServerError::Bind { .. }
                | ServerError::Accounts(_)
                | ServerError::Tls(_)
        )
    }

    /// What the FTP door answers for this error: libunftp words the reply
    /// itself from the kind, so the kind carries [`ServerError::reply`]'s
    /// code (a broken connection, which has none, is `426`).
    pub(crate) fn ftp_kind(&self) -> unftp_core::storage::ErrorKind {
        use unftp_core::storage::ErrorKind;
        if let ServerError::AnsweredEarly(error) = self {
            return error.ftp_kind();
        }
        match self.reply().map(|reply| reply.code) {
            Some(codes::INVALID_NAME) => ErrorKind::FileNameNotAllowedError,
            Some(codes::TOO_LARGE) => ErrorKind::ExceededStorageAllocationError,
            Some(codes::UPLOAD_IN_PROGRESS) => ErrorKind::TransientFileNotAvailable,
            Some(codes::UNAVAILABLE) => match self {
                ServerError::ReadOnly | ServerError::PermissionDenied => {
                    ErrorKind::PermissionDenied
                }
                _ => ErrorKind::PermanentFileNotAvailable,
            },
            None => ErrorKind::ConnectionClosed,
            Some(_) => ErrorKind::LocalError,
        }
    }
}

/// `text` with its first letter in upper case (reply texts start capitalized).
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reply code of `error`, if it gets a reply.
    fn code(error: ServerError) -> Option<u16> {
        error.reply().map(|reply| reply.code)
    }

    #[test]
    fn every_reply_code_of_the_contract() {
        assert_eq!(code(ProtoError::LineTooLong.into()), Some(500));
        assert_eq!(code(ProtoError::BadArgument("x".into()).into()), Some(501));
        assert_eq!(code(ProtoError::UnknownCommand.into()), Some(502));
        assert_eq!(code(ProtoError::InvalidName("empty").into()), Some(553));
        assert_eq!(code(ServerError::NoSuchFile), Some(550));
        assert_eq!(code(ServerError::ReadOnly), Some(550));
        assert_eq!(code(ServerError::TooLarge { size: 2, limit: 1 }), Some(552));
        assert_eq!(code(ServerError::NoSpace), Some(552));
        assert_eq!(code(ServerError::UploadInProgress), Some(450));
        assert_eq!(
            code(ServerError::Storage(io::Error::other("disk"))),
            Some(451)
        );
        let store = ServerError::Store("Unexpected at http://store.lan/secret-path".into());
        let reply = store.reply().unwrap();
        assert_eq!(reply.code, 451);
        assert!(
            !reply.text.contains("store.lan"),
            "the store's words stay in the log"
        );
        assert_eq!(code(ServerError::IdleTimeout), Some(421));
        assert_eq!(code(ServerError::LineTimeout), Some(421));
        assert_eq!(code(ServerError::TooManyConnections), Some(421));
        assert_eq!(code(ServerError::TooManyFromAddress), Some(421));
        assert_eq!(code(ServerError::ShuttingDown), Some(421));
        assert_eq!(code(ServerError::TooManyFailedLogins), Some(421));
        assert_eq!(code(ServerError::HomeUnavailable("x".into())), Some(421));
        assert_eq!(code(ServerError::NotLoggedIn), Some(530));
        assert_eq!(code(ServerError::LoginIncorrect), Some(530));
        assert_eq!(code(ServerError::PlainLogin), Some(530));
        assert_eq!(code(ServerError::NoUser), Some(503));
        let over = ServerError::OverQuota {
            size: 2,
            usage: 9,
            quota: 10,
        };
        assert_eq!(code(over), Some(552));
        assert_eq!(
            code(ServerError::UploadCut {
                expected: 2,
                received: 1
            }),
            None
        );
    }

    #[test]
    fn file_system_errors_are_classified() {
        let errno = |e: rustix::io::Errno| io::Error::from_raw_os_error(e.raw_os_error());
        use rustix::io::Errno;
        assert!(matches!(
            ServerError::from_storage(errno(Errno::NOENT)),
            ServerError::NoSuchFile
        ));
        assert!(matches!(
            ServerError::from_storage(errno(Errno::LOOP)),
            ServerError::NoSuchFile
        ));
        assert!(matches!(
            ServerError::from_storage(errno(Errno::ISDIR)),
            ServerError::NoSuchFile
        ));
        assert!(matches!(
            ServerError::from_storage(errno(Errno::NOSPC)),
            ServerError::NoSpace
        ));
        assert!(matches!(
            ServerError::from_storage(errno(Errno::IO)),
            ServerError::Storage(_)
        ));
    }

    #[test]
    fn closing_errors_are_the_421s_and_broken_transfers() {
        assert!(ServerError::IdleTimeout.closes_connection());
        assert!(ServerError::LineTimeout.closes_connection());
        assert!(ServerError::TransferAborted(io::Error::other("x")).closes_connection());
        assert!(ServerError::TooManyFailedLogins.closes_connection());
        assert!(ServerError::TooManyFromAddress.closes_connection());
        assert!(ServerError::HomeUnavailable("x".into()).closes_connection());
        assert!(!ServerError::LoginIncorrect.closes_connection());
        assert!(!ServerError::NoSuchFile.closes_connection());
        assert!(!ServerError::Storage(io::Error::other("x")).closes_connection());
    }

    #[test]
    fn an_error_answered_early_gets_no_second_reply_and_keeps_the_connection() {
        let early = ServerError::AnsweredEarly(Box::new(ServerError::NoSpace));
        assert_eq!(code(early), None);
        assert!(!ServerError::AnsweredEarly(Box::new(ServerError::NoSpace)).closes_connection());
    }
}
