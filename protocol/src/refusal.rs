//! The one table that gives each refusal its meaning, for every client.
//!
//! Clients decide by the reply code alone (the contract forbids reading the
//! free text), so the meaning comes from the code and the verb it answered;
//! the server's own text is quoted after it, because it may say more (which
//! limit was hit, for instance).

use crate::{codes, Reply, Verb};
use std::fmt;

/// A command's exchange ended with a failure reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The verb of the refused command.
    pub verb: Verb,
    /// The server's 4xx or 5xx reply.
    pub reply: Reply,
}

/// What a refusal means, decided by its code and verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// `550` to a read: there is no such file.
    NotFound,
    /// `550` to STORE: the server takes no uploads.
    ReadOnly,
    /// `550` to DELETE: no such file, or the server is read-only.
    NotFoundOrReadOnly,
    /// `553`: the name is not valid.
    InvalidName,
    /// `552`: over the size limit or quota.
    TooLarge,
    /// `501`: the command's argument was rejected.
    BadArgument,
    /// `502`: the server does not know the verb.
    UnknownCommand,
    /// `500`: the command line could not be read (too long).
    Unreadable,
    /// `451`: the server's own storage failed.
    ServerError,
    /// `421`: the server is closing the session.
    Closing,
    /// Any other 4xx: may work later.
    TryLater,
    /// Any other 5xx.
    Other,
}

impl Refusal {
    /// The meaning of this refusal: the table, code and verb to kind.
    pub fn kind(&self) -> RefusalKind {
        match (self.reply.code, self.verb) {
            (codes::UNAVAILABLE, Verb::Store) => RefusalKind::ReadOnly,
            (codes::UNAVAILABLE, Verb::Delete) => RefusalKind::NotFoundOrReadOnly,
            (codes::UNAVAILABLE, _) => RefusalKind::NotFound,
            (codes::INVALID_NAME, _) => RefusalKind::InvalidName,
            (codes::TOO_LARGE, _) => RefusalKind::TooLarge,
            (codes::BAD_ARGUMENT, _) => RefusalKind::BadArgument,
            (codes::UNKNOWN_COMMAND, _) => RefusalKind::UnknownCommand,
            (codes::SYNTAX_ERROR, _) => RefusalKind::Unreadable,
            (codes::LOCAL_ERROR, _) => RefusalKind::ServerError,
            (codes::CLOSING, _) => RefusalKind::Closing,
            (code, _) if code / 100 == 4 => RefusalKind::TryLater,
            _ => RefusalKind::Other,
        }
    }

    /// Whether the server closes the session after this refusal (`421`).
    pub fn closes_session(&self) -> bool {
        self.kind() == RefusalKind::Closing
    }

    /// Plain words for this refusal, without the server's text. `subject`
    /// is the file the command was about, if any.
    pub fn meaning(&self, subject: Option<&str>) -> String {
        let subject = subject.map_or_else(|| "the file".to_owned(), |s| format!("\"{s}\""));
        let verb = self.verb;
        match self.kind() {
            RefusalKind::NotFound => format!("no such file {subject} on the server"),
            RefusalKind::ReadOnly => "the server is read-only: uploads are not allowed".into(),
            RefusalKind::NotFoundOrReadOnly => format!(
                "cannot delete {subject}: no such file on the server, or the server is read-only"
            ),
            RefusalKind::InvalidName => {
                format!("the server rejected {subject} as an invalid file name")
            }
            RefusalKind::TooLarge => {
                format!("{subject} is too large: it is over the server's size limit or quota")
            }
            RefusalKind::BadArgument => format!("the server rejected the argument of {verb}"),
            RefusalKind::UnknownCommand => {
                format!("unknown command: the server does not know {verb}")
            }
            RefusalKind::Unreadable => {
                "the server could not read the command (line too long?)".into()
            }
            RefusalKind::ServerError => {
                "the server hit an error on its side (disk?); try again later".into()
            }
            RefusalKind::Closing => "the server closed the connection".into(),
            RefusalKind::TryLater => {
                format!("{verb} failed for now on the server; try again later")
            }
            RefusalKind::Other => format!("the server refused {verb}"),
        }
    }

    /// [`Refusal::meaning`] followed by the server's own words.
    pub fn describe(&self, subject: Option<&str>) -> String {
        format!("{} (server said: {})", self.meaning(subject), self.reply)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(verb: Verb, code: u16, text: &str) -> String {
        let refusal = Refusal {
            verb,
            reply: Reply::new(code, text),
        };
        refusal.describe(Some("a b.txt"))
    }

    #[test]
    fn codes_become_plain_words() {
        assert_eq!(
            words(Verb::Retrieve, 550, "No such file"),
            "no such file \"a b.txt\" on the server (server said: 550 No such file)"
        );
        assert!(words(Verb::Store, 550, "x").starts_with("the server is read-only"));
        assert!(words(Verb::Delete, 550, "x").contains("or the server is read-only"));
        assert!(words(Verb::Hash, 553, "x").contains("invalid file name"));
        assert!(words(Verb::Store, 552, "x").contains("too large"));
        assert!(words(Verb::List, 451, "x").contains("try again later"));
        assert!(words(Verb::List, 450, "x").contains("LIST failed for now"));
        assert!(words(Verb::Noop, 502, "x").starts_with("unknown command"));
    }

    #[test]
    fn the_decision_is_by_code_not_text() {
        assert!(words(Verb::Retrieve, 550, "Read-only").starts_with("no such file"));
        assert!(words(Verb::Retrieve, 550, "whatever").ends_with("(server said: 550 whatever)"));
        let closing = Refusal {
            verb: Verb::List,
            reply: Reply::new(421, "Idle timeout"),
        };
        assert!(closing.closes_session());
    }
}
