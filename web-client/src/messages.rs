//! Every failure the user can meet, in plain words — in this one place.
//!
//! Decisions are made on reply codes and close codes only (the contract
//! says clients never interpret the free text); the server's or bridge's own
//! text is appended in parentheses for detail.

use crate::transport::ConnError;
use ferry_proto::{codes, ProtoError, Reply, Verb};

/// Close code sent by the bridge when the requested target is not on its allowlist.
pub const CLOSE_NOT_ALLOWED: u16 = 1008;
/// Close code sent by the bridge when the server cannot be reached.
pub const CLOSE_UNREACHABLE: u16 = 1014;

/// What a failed reply to `verb` on `name` means for the user.
pub fn reply_failure(verb: Verb, name: Option<&str>, reply: &Reply) -> String {
    let subject = name
        .map(|n| format!("“{n}”"))
        .unwrap_or_else(|| "the file".into());
    let plain = match (reply.code, verb) {
        (codes::UNAVAILABLE, Verb::Store) => {
            "the server is read-only: uploads are not allowed".to_string()
        }
        (codes::UNAVAILABLE, Verb::Delete) => {
            format!("cannot delete {subject}: no such file, or the server is read-only")
        }
        (codes::UNAVAILABLE, _) => format!("no such file: {subject}"),
        (codes::TOO_LARGE, _) => {
            format!("{subject} is too large: it exceeds the server's file size limit or quota")
        }
        (codes::INVALID_NAME, _) => format!("{subject} is not a valid file name on this server"),
        (codes::CLOSING, _) => "the server is closing the connection".to_string(),
        (codes::LOCAL_ERROR, _) => {
            "the server had a local error (e.g. disk); try again later".to_string()
        }
        (codes::SYNTAX_ERROR, _) => {
            "the server could not read the command (line too long?)".to_string()
        }
        (codes::BAD_ARGUMENT, _) => "the server rejected the command's argument".to_string(),
        (codes::UNKNOWN_COMMAND, _) => "the server does not know this command".to_string(),
        (code, _) if code / 100 == 4 => {
            "temporary failure on the server; try again later".to_string()
        }
        _ => "the server refused the command".to_string(),
    };
    format!("{} failed: {plain} (server said: {reply})", verb_word(verb))
}

/// A verb as a word in a sentence.
fn verb_word(verb: Verb) -> &'static str {
    match verb {
        Verb::List => "Listing",
        Verb::Retrieve => "Download",
        Verb::Store => "Upload",
        Verb::Delete => "Delete",
        Verb::Hash => "Hash",
        Verb::Noop => "NOOP",
        Verb::Help => "HELP",
        Verb::Quit => "Disconnect",
    }
}

/// What it means that the connection ended with `error`.
///
/// `quitting` is true after the user's QUIT was answered, so a normal close
/// reads as a plain "disconnected".
pub fn connection_end(error: &ConnError, quitting: bool, bridge: &str) -> String {
    match error {
        ConnError::Closed {
            code,
            reason,
            opened,
            cut,
        } => {
            let because = if reason.is_empty() {
                String::new()
            } else {
                format!(" (bridge said: {reason})")
            };
            let mut text = match *code {
                1000 if quitting => "Disconnected.".to_string(),
                1000 => "The server closed the connection.".to_string(),
                CLOSE_NOT_ALLOWED => format!("Not allowed: the bridge refuses to connect to this server{because}."),
                CLOSE_UNREACHABLE => format!("Server unreachable: the bridge could not connect to it — is the server running?{because}"),
                1001 => format!("The bridge is shutting down{because}."),
                1009 => format!("A message was too large for the bridge{because}."),
                1011 => format!("The bridge hit an internal error{because}."),
                1006 if !opened => format!(
                    "Could not reach the bridge at {bridge}: it is not running, or it refused this page's origin."
                ),
                1006 => "The connection to the bridge was lost.".to_string(),
                code => format!("The connection closed (WebSocket code {code}){because}."),
            };
            match cut {
                Some(ProtoError::Truncated { expected, received }) => text.push_str(&format!(
                    " A transfer was cut short after {received} of {expected} bytes; nothing was saved."
                )),
                Some(ProtoError::Closed) if !quitting && *opened => {
                    text.push_str(" A command was still waiting for its reply.")
                }
                _ => {}
            }
            text
        }
        ConnError::Protocol(e) => {
            format!("The server broke the protocol ({e}); the connection was dropped.")
        }
        ConnError::ServerClosing(reply) => format!(
            "The server closed the connection: it has too many connections, the session was idle too long, \
             or it is shutting down (server said: {reply})."
        ),
        ConnError::Send(e) => format!("Could not send to the bridge: {e}."),
        ConnError::FileRead(e) => {
            format!("Upload aborted: the file could not be read ({e}); the connection was closed so no partial file is kept.")
        }
    }
}

/// Why a transfer did not finish, for a transfer row, when the connection ended under it.
pub fn transfer_cut(error: &ConnError) -> String {
    match error {
        ConnError::Closed {
            cut: Some(ProtoError::Truncated { expected, received }),
            ..
        } => format!("connection lost after {received} of {expected} bytes; nothing saved"),
        ConnError::FileRead(e) => format!("file could not be read: {e}"),
        ConnError::ServerClosing(reply) => {
            format!("the server closed the connection (server said: {reply})")
        }
        ConnError::Protocol(e) => format!("protocol error: {e}"),
        _ => "connection closed before the transfer finished".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(code: u16, reason: &str, opened: bool, cut: Option<ProtoError>) -> ConnError {
        ConnError::Closed {
            code,
            reason: reason.into(),
            opened,
            cut,
        }
    }

    #[test]
    fn close_codes_in_plain_words() {
        let bridge = "ws://h/ws";
        let not_allowed = connection_end(
            &closed(1008, "target 10.0.0.1:9 is not allowed", true, None),
            false,
            bridge,
        );
        assert!(not_allowed.starts_with("Not allowed"), "{not_allowed}");
        assert!(not_allowed.contains("10.0.0.1:9"));
        let down = connection_end(
            &closed(1014, "connection refused", true, None),
            false,
            bridge,
        );
        assert!(down.starts_with("Server unreachable"), "{down}");
        let no_bridge = connection_end(&closed(1006, "", false, None), false, bridge);
        assert!(
            no_bridge.contains("Could not reach the bridge at ws://h/ws"),
            "{no_bridge}"
        );
        assert_eq!(
            connection_end(&closed(1000, "", true, None), true, bridge),
            "Disconnected."
        );
        let cut = connection_end(
            &closed(
                1000,
                "",
                true,
                Some(ProtoError::Truncated {
                    expected: 10,
                    received: 3,
                }),
            ),
            false,
            bridge,
        );
        assert!(
            cut.starts_with("The server closed the connection."),
            "{cut}"
        );
        assert!(cut.contains("3 of 10 bytes"), "{cut}");
        let idle = connection_end(
            &ConnError::ServerClosing(Reply::new(421, "Idle timeout")),
            false,
            bridge,
        );
        assert!(
            idle.contains("idle too long") && idle.ends_with("(server said: 421 Idle timeout)."),
            "{idle}"
        );
    }

    #[test]
    fn reply_codes_in_plain_words() {
        let words =
            |verb, code, text: &str| reply_failure(verb, Some("f"), &Reply::new(code, text));
        assert!(words(Verb::Store, 550, "Read-only").contains("read-only"));
        assert!(words(Verb::Retrieve, 550, "No such file").contains("no such file"));
        assert!(words(Verb::Store, 552, "Too large").contains("too large"));
        assert!(words(Verb::Store, 553, "Invalid name").contains("not a valid file name"));
        // The decision is by code; the server's text is only quoted.
        assert!(words(Verb::Retrieve, 550, "whatever").ends_with("(server said: 550 whatever)"));
    }
}
