//! Every failure the user can meet, in plain words — in this one place.
//!
//! Decisions are made on reply codes and close codes only (the contract
//! says clients never interpret the free text). What a refusal means comes
//! from ferry-proto's one table ([`Refusal::describe`]) and the close codes
//! from [`ferry_proto::close`], shared with the CLI and the bridge; this file
//! adds only the web page's framing ("Download failed: …").

use crate::session::Failed;
use crate::transport::ConnError;
use ferry_proto::{close, ProtoError, Refusal, RefusalKind, Verb};

/// Who ended the connection, as far as the page knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closer {
    /// The user asked for it (QUIT answered, or Disconnect during a command).
    User,
    /// Nobody on this page asked for it.
    Unasked,
}

/// What it means for the user that `verb` (about the file `subject`, if
/// any) did not succeed.
pub fn failed(verb: Verb, subject: Option<&str>, failure: &Failed) -> String {
    match failure {
        Failed::Refused(refusal) => {
            format!("{} failed: {}", verb_word(verb), refusal.describe(subject))
        }
        Failed::Unreadable(e) if verb == Verb::List => {
            format!("The server sent a listing this client cannot read: {e}.")
        }
        Failed::Unreadable(e) => format!(
            "{} failed: the server's answer makes no sense here ({e}).",
            verb_word(verb)
        ),
    }
}

/// Whether `verb` changes files (and so is refused to a read-only session).
pub fn changes_files(verb: Verb) -> bool {
    matches!(
        verb,
        Verb::Store | Verb::Resume | Verb::Delete | Verb::Mkdir | Verb::Rmdir | Verb::Rename
    )
}

/// A change refused to a session known to be read-only (by the access
/// check): said as what it is rather than as the list of what `550` may mean.
pub fn read_only(verb: Verb, subject: Option<&str>, refusal: &Refusal) -> String {
    let what = subject.map(|s| format!(" “{s}”")).unwrap_or_default();
    match refusal.kind() {
        RefusalKind::InvalidName | RefusalKind::BadArgument | RefusalKind::TooLarge => {
            format!("{} failed: {}", verb_word(verb), refusal.describe(subject))
        }
        _ => format!(
            "{} of{what} refused: read-only access, you can look and download but not change anything (server said: {}).",
            verb_word(verb),
            refusal.reply
        ),
    }
}

/// A verb as a word in a sentence.
fn verb_word(verb: Verb) -> &'static str {
    match verb {
        Verb::List => "Listing",
        Verb::Retrieve => "Download",
        Verb::Store => "Upload",
        Verb::Delete => "Delete",
        Verb::Hash => "Hash",
        Verb::Read => "Read",
        Verb::Stat => "STAT",
        Verb::Resume => "Resumed upload",
        Verb::Mkdir => "New folder",
        Verb::Rmdir => "Folder removal",
        Verb::Rename => "Rename",
        Verb::User | Verb::Pass => "Login",
        Verb::Noop => "NOOP",
        Verb::Help => "HELP",
        Verb::Quit => "Disconnect",
    }
}

/// A sentence from one of [`close::meaning`]'s fragments (all ASCII:
/// `char::to_uppercase` would bring Unicode's case tables, 12 KB, into the page).
fn sentence(fragment: &str) -> String {
    let mut text = fragment.to_owned();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}

/// What it means that the connection ended with `error`.
///
/// When the [`Closer`] is the user, a normal close reads as a plain "disconnected".
pub fn connection_end(error: &ConnError, closer: Closer, bridge: &str) -> String {
    let quitting = closer == Closer::User;
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
                close::NORMAL if quitting => "Disconnected.".to_string(),
                close::NORMAL => "The server closed the connection.".to_string(),
                close::POLICY_VIOLATION => format!("Not allowed: the bridge refuses to connect to this server{because}."),
                close::BAD_GATEWAY => format!("Server unreachable: the bridge could not connect to it — is the server running?{because}"),
                close::ABNORMAL if !opened => format!(
                    "Could not reach the bridge at {bridge}: it is not running, or it refused this page's origin."
                ),
                close::ABNORMAL => "The connection to the bridge was lost.".to_string(),
                code @ (close::GOING_AWAY
                | close::PROTOCOL_ERROR
                | close::INVALID_PAYLOAD
                | close::MESSAGE_TOO_BIG
                | close::INTERNAL_ERROR) => {
                    let meaning = close::meaning(code).unwrap_or_default();
                    format!("{}{because}.", sentence(meaning))
                }
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
    use ferry_proto::{Refusal, Reply};

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
            &closed(
                close::POLICY_VIOLATION,
                "target 10.0.0.1:9 is not allowed",
                true,
                None,
            ),
            Closer::Unasked,
            bridge,
        );
        assert!(not_allowed.starts_with("Not allowed"), "{not_allowed}");
        assert!(not_allowed.contains("10.0.0.1:9"));
        let down = connection_end(
            &closed(close::BAD_GATEWAY, "connection refused", true, None),
            Closer::Unasked,
            bridge,
        );
        assert!(down.starts_with("Server unreachable"), "{down}");
        let no_bridge = connection_end(
            &closed(close::ABNORMAL, "", false, None),
            Closer::Unasked,
            bridge,
        );
        assert!(
            no_bridge.contains("Could not reach the bridge at ws://h/ws"),
            "{no_bridge}"
        );
        assert_eq!(
            connection_end(&closed(close::NORMAL, "", true, None), Closer::User, bridge),
            "Disconnected."
        );
        let going = connection_end(
            &closed(close::GOING_AWAY, "idle", true, None),
            Closer::Unasked,
            bridge,
        );
        assert!(
            going.starts_with("The bridge is shutting down")
                && going.ends_with("(bridge said: idle)."),
            "{going}"
        );
        let cut = connection_end(
            &closed(
                close::NORMAL,
                "",
                true,
                Some(ProtoError::Truncated {
                    expected: 10,
                    received: 3,
                }),
            ),
            Closer::Unasked,
            bridge,
        );
        assert!(
            cut.starts_with("The server closed the connection."),
            "{cut}"
        );
        assert!(cut.contains("3 of 10 bytes"), "{cut}");
        let idle = connection_end(
            &ConnError::ServerClosing(Reply::new(421, "Idle timeout")),
            Closer::Unasked,
            bridge,
        );
        assert!(
            idle.contains("idle too long") && idle.ends_with("(server said: 421 Idle timeout)."),
            "{idle}"
        );
    }

    #[test]
    fn reply_codes_in_plain_words() {
        let refused = |verb, code, text: &str| {
            Failed::Refused(Refusal {
                verb,
                reply: Reply::new(code, text),
            })
        };
        let upload = |code, text| failed(Verb::Store, Some("f"), &refused(Verb::Store, code, text));
        assert!(upload(550, "Read-only").contains("read-only"));
        assert!(upload(552, "Too large").contains("too large"));
        assert!(upload(553, "Invalid name").contains("invalid file name"));
        let download = failed(
            Verb::Retrieve,
            Some("f"),
            &refused(Verb::Retrieve, 550, "No such file"),
        );
        assert!(
            download.starts_with("Download failed: no such file"),
            "{download}"
        );
        // The decision is by code; the server's text is only quoted.
        let whatever = failed(
            Verb::Retrieve,
            Some("f"),
            &refused(Verb::Retrieve, 550, "whatever"),
        );
        assert!(
            whatever.ends_with("(server said: 550 whatever)"),
            "{whatever}"
        );
        let listing = failed(
            Verb::List,
            None,
            &Failed::Unreadable(ProtoError::MalformedListing {
                line: 1,
                reason: "x",
            }),
        );
        assert!(
            listing.starts_with("The server sent a listing"),
            "{listing}"
        );
    }
}
