//! The one error type of the client library: transport failures in plain
//! words here, refusals in the words of ferry-proto's shared table
//! ([`Refusal::describe`]), so the CLI and the web client say the same.

use ferry_proto::{ProtoError, Refusal};
use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong in a client session, each with a message a
/// person can act on.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The address given to `CONNECT` (or a one-shot subcommand) is unusable.
    #[error("invalid address {input:?}: {reason} (expected HOST:PORT, HOST PORT, or a ws:// or wss:// bridge URL)")]
    InvalidTarget {
        /// What the user typed.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The host name did not resolve.
    #[error("cannot find host {host:?}: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// Nothing listens at the address.
    #[error("connection refused by {target}: no Ferry server is listening there")]
    ConnectionRefused {
        /// The address, as the user gave it.
        target: String,
    },
    /// The connection could not be opened within the connect timeout.
    #[error("could not connect to {target} within {seconds} seconds")]
    ConnectTimeout {
        /// The address, as the user gave it.
        target: String,
        /// The timeout that expired.
        seconds: u64,
    },
    /// Any other failure to open the TCP connection.
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// The address, as the user gave it.
        target: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The file given to trust extra CA certificates is unusable.
    #[error("cannot use the CA certificates in {}: {reason}", path.display())]
    CaCertificates {
        /// The PEM file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The WebSocket handshake with a bridge failed.
    #[error("the bridge at {url} refused the WebSocket connection: {reason}")]
    Handshake {
        /// The bridge URL.
        url: String,
        /// Why, e.g. `HTTP 403 Forbidden`.
        reason: String,
    },
    /// The bridge closed with 1008: the requested server is not on its allowlist.
    #[error("the bridge does not allow this server: {reason}")]
    BridgeNotAllowed {
        /// The reason the bridge gave.
        reason: String,
    },
    /// The bridge closed with 1014: it could not reach the server.
    #[error("the bridge could not reach the server: {reason}")]
    BridgeUnreachable {
        /// The reason the bridge gave.
        reason: String,
    },
    /// The bridge closed with a code the WebSocket library cannot pass on.
    ///
    /// tungstenite (tungstenite-rs issue 502) still treats 1014, the code
    /// the bridge uses for an unreachable server, as invalid and hands the
    /// application a substitute 1002 "Protocol violation" instead, losing
    /// the bridge's reason.
    #[error(
        "the bridge closed the connection with a close code this client cannot decode; \
         most likely 1014: the bridge could not reach the server"
    )]
    BridgeUndecodableClose,
    /// The bridge closed the WebSocket with some other code.
    #[error(
        "the bridge closed the connection (WebSocket close code {code}{})",
        reason_suffix(reason)
    )]
    BridgeClosed {
        /// The WebSocket close code.
        code: u16,
        /// The reason the bridge gave, possibly empty.
        reason: String,
    },
    /// The server sent nothing for too long.
    #[error("the server did not answer within {seconds} seconds")]
    Timeout {
        /// The timeout that expired.
        seconds: u64,
    },
    /// Reading from or writing to the connection failed.
    #[error("connection lost: {source}")]
    ConnectionLost {
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The server closed the connection while an answer was still awaited.
    #[error("the server closed the connection unexpectedly")]
    ClosedByServer,
    /// The server announced it is closing the connection (`421`).
    #[error("the server closed the connection: {text}")]
    ServerClosing {
        /// The free text of the `421` reply, e.g. `Too many connections`.
        text: String,
    },
    /// Fewer data bytes arrived than the server announced.
    #[error("transfer failed: the connection was lost after {received} of {expected} bytes")]
    Truncated {
        /// Bytes announced by `150`.
        expected: u64,
        /// Bytes received before the connection ended.
        received: u64,
    },
    /// The server sent something the protocol does not allow.
    #[error("the server broke the protocol: {0}")]
    Protocol(ProtoError),
    /// The server refused a command with a failure reply.
    #[error("{}", refusal.describe(subject.as_deref()))]
    Refused {
        /// The refused command's verb and the server's reply.
        refusal: Refusal,
        /// The file name the command was about, if any.
        subject: Option<String>,
    },
    /// A file name the protocol does not allow, caught before sending it.
    #[error("invalid file name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A local file operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Local {
        /// What was being done, e.g. `read` or `create a temporary file in`.
        action: &'static str,
        /// The local path involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Reading the data to upload failed.
    #[error("cannot read the data to upload: {source}")]
    Input {
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The data to upload ended before the announced size.
    #[error(
        "the data to upload ended after {actual} of {expected} bytes; the upload was abandoned"
    )]
    ShortInput {
        /// The size announced to the server.
        expected: u64,
        /// The bytes actually read.
        actual: u64,
    },
    /// Writing received data failed.
    #[error("cannot write the received data: {source}")]
    Output {
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A download would replace an existing local file.
    #[error("{} already exists; not overwriting it", path.display())]
    LocalExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The local file changed size while it was being uploaded.
    #[error("{} changed while it was being uploaded ({expected} bytes expected, {actual} read); the upload was abandoned", path.display())]
    SourceChanged {
        /// The file being uploaded.
        path: PathBuf,
        /// Its size when the upload started.
        expected: u64,
        /// The bytes actually read.
        actual: u64,
    },
    /// `--verify` found different SHA-256 digests on both sides.
    #[error("verification failed for {name:?}: SHA-256 here is {local}, the server's is {remote}")]
    HashMismatch {
        /// The remote file name.
        name: String,
        /// The digest of the bytes sent or received.
        local: String,
        /// The digest the server reported.
        remote: String,
    },
    /// A download kept for continuing was cut off; its part file stays.
    #[error("the download of \"{name}\" was cut off at {have} of {size} bytes ({cause}); the part is kept in {} to continue", part.display())]
    DownloadCut {
        /// The remote path.
        name: String,
        /// The hidden part file holding the bytes that arrived.
        part: PathBuf,
        /// Bytes in the part file.
        have: u64,
        /// The size of the file on the server.
        size: u64,
        /// What cut it off, in words.
        cause: String,
    },
    /// The file on the server changed while it was downloaded in parts.
    #[error("\"{name}\" changed on the server during the download; nothing was kept, try again")]
    RemoteChanged {
        /// The remote path.
        name: String,
    },
    /// A file was asked for and the path is a directory on the server.
    #[error("\"{path}\" is a directory on the server (use -r for a whole tree)")]
    RemoteIsDirectory {
        /// The remote path.
        path: String,
    },
    /// A directory was asked for and the path is a file on the server.
    #[error("\"{path}\" is a file on the server, not a directory")]
    RemoteIsFile {
        /// The remote path.
        path: String,
    },
    /// A password would cross the network in clear text.
    #[error("not sending the password for {account} in clear text over the network: connect through a wss:// bridge (or give --allow-plain-login if the server takes it)")]
    PlainLogin {
        /// `user@target`.
        account: String,
    },
    /// The server asked for a password and none could be had.
    #[error("no password for {account}: {reason}")]
    NoPassword {
        /// `user@target`.
        account: String,
        /// Why, e.g. there is no terminal to ask on.
        reason: String,
    },
    /// The session cannot be used any more (an earlier failure or `QUIT` closed it).
    #[error("the connection is closed; connect again")]
    Disconnected,
}

impl ClientError {
    /// Whether the session is unusable after this error (the connection is
    /// gone or out of step), as opposed to a refusal of one command.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            ClientError::Refused { .. }
                | ClientError::InvalidName { .. }
                | ClientError::LocalExists { .. }
                | ClientError::HashMismatch { .. }
                | ClientError::RemoteChanged { .. }
                | ClientError::RemoteIsDirectory { .. }
                | ClientError::RemoteIsFile { .. }
                | ClientError::NoPassword { .. }
                | ClientError::PlainLogin { .. }
        )
    }

    /// Whether the connection ended under a command (lost, closed, timed
    /// out): the cut a kept part can be continued after, as opposed to a
    /// refusal or a local failure.
    pub fn is_cut(&self) -> bool {
        matches!(
            self,
            ClientError::ConnectionLost { .. }
                | ClientError::ClosedByServer
                | ClientError::ServerClosing { .. }
                | ClientError::Truncated { .. }
                | ClientError::Timeout { .. }
                | ClientError::BridgeClosed { .. }
                | ClientError::BridgeUndecodableClose
                | ClientError::DownloadCut { .. }
        )
    }

    /// The error for a refusal that ended a command; `421` means the whole
    /// session is over, not just this command.
    pub(crate) fn refused(refusal: Refusal, subject: Option<&str>) -> ClientError {
        if refusal.closes_session() {
            return ClientError::ServerClosing {
                text: refusal.reply.text,
            };
        }
        ClientError::Refused {
            refusal,
            subject: subject.map(str::to_owned),
        }
    }

    /// The error for a protocol error reported by the codec.
    pub(crate) fn from_proto(error: ProtoError) -> ClientError {
        match error {
            ProtoError::Truncated { expected, received } => {
                ClientError::Truncated { expected, received }
            }
            ProtoError::Closed => ClientError::ClosedByServer,
            other => ClientError::Protocol(other),
        }
    }

    /// The error for a name the protocol rejects.
    pub(crate) fn invalid_name(name: &str, error: ProtoError) -> ClientError {
        let reason = match error {
            ProtoError::InvalidName(reason) => reason.to_owned(),
            other => other.to_string(),
        };
        ClientError::InvalidName {
            name: name.to_owned(),
            reason,
        }
    }
}

/// `: reason`, or nothing for an empty reason.
fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_proto::{Reply, Verb};

    fn error(verb: Verb, code: u16, text: &str, subject: Option<&str>) -> ClientError {
        let reply = Reply::new(code, text);
        ClientError::refused(Refusal { verb, reply }, subject)
    }

    fn refused(verb: Verb, code: u16) -> String {
        error(verb, code, "text", Some("a b.txt")).to_string()
    }

    #[test]
    fn replies_become_plain_words() {
        assert_eq!(
            refused(Verb::Retrieve, 550),
            "no such file \"a b.txt\" on the server (server said: 550 text)"
        );
        assert!(refused(Verb::Store, 550).starts_with("the server is read-only"));
        assert!(refused(Verb::Delete, 550)
            .contains("no such file on the server, or the server is read-only"));
        assert!(refused(Verb::Hash, 553).contains("invalid file name"));
        assert!(refused(Verb::Store, 552).contains("size limit"));
        assert!(refused(Verb::List, 451).contains("try again later"));
        assert_eq!(
            error(Verb::List, 421, "Idle timeout", None).to_string(),
            "the server closed the connection: Idle timeout"
        );
    }

    #[test]
    fn refusals_are_not_fatal_but_lost_connections_are() {
        assert!(!error(Verb::Retrieve, 550, "x", None).is_fatal());
        assert!(error(Verb::List, 421, "x", None).is_fatal());
        assert!(ClientError::from_proto(ProtoError::Truncated {
            expected: 2,
            received: 1
        })
        .is_fatal());
    }

    #[test]
    fn cuts_are_told_from_refusals_and_local_failures() {
        assert!(ClientError::ClosedByServer.is_cut());
        assert!(ClientError::Timeout { seconds: 1 }.is_cut());
        assert!(!error(Verb::Store, 550, "x", None).is_cut());
        let local = ClientError::Local {
            action: "open",
            path: PathBuf::from("x"),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert!(local.is_fatal() && !local.is_cut());
    }

    #[test]
    fn bridge_close_reasons_are_shown() {
        let e = ClientError::BridgeClosed {
            code: 1011,
            reason: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "the bridge closed the connection (WebSocket close code 1011)"
        );
        let e = ClientError::BridgeClosed {
            code: 1011,
            reason: "boom".into(),
        };
        assert!(e.to_string().ends_with("1011: boom)"));
    }
}
