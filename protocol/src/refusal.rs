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
    /// `550` to a read of a file (RETRIEVE, READ, HASH): no such file.
    NotFound,
    /// `550` to STAT: no such file or directory.
    NoSuchEntry,
    /// `550` to LIST: no such directory.
    NoSuchDirectory,
    /// `550` to STORE or RESUME: the server is read-only, the parent
    /// directory is missing, or the path is a directory.
    CannotStore,
    /// `550` to DELETE: no such file, or the server is read-only.
    NotFoundOrReadOnly,
    /// `550` to MKDIR: it exists, its parent is missing, or read-only.
    CannotCreateDirectory,
    /// `550` to RMDIR: not empty, no such directory, or read-only.
    CannotRemoveDirectory,
    /// `550` to RENAME: source or target's parent missing, target in the
    /// way, a directory into itself, or read-only.
    CannotRename,
    /// `553`: the path is not valid.
    InvalidName,
    /// `552`: over the size limit or quota.
    TooLarge,
    /// `530` to PASS: unknown account or wrong password (or plain text
    /// refused).
    LoginIncorrect,
    /// `530` to anything else: log in first.
    NotLoggedIn,
    /// `503`: PASS without USER first.
    BadSequence,
    /// `450` to STORE or RESUME: the same upload is in progress elsewhere.
    UploadInProgress,
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
            (codes::UNAVAILABLE, Verb::Store | Verb::Resume) => RefusalKind::CannotStore,
            (codes::UNAVAILABLE, Verb::Delete) => RefusalKind::NotFoundOrReadOnly,
            (codes::UNAVAILABLE, Verb::List) => RefusalKind::NoSuchDirectory,
            (codes::UNAVAILABLE, Verb::Stat) => RefusalKind::NoSuchEntry,
            (codes::UNAVAILABLE, Verb::Mkdir) => RefusalKind::CannotCreateDirectory,
            (codes::UNAVAILABLE, Verb::Rmdir) => RefusalKind::CannotRemoveDirectory,
            (codes::UNAVAILABLE, Verb::Rename) => RefusalKind::CannotRename,
            (codes::UNAVAILABLE, _) => RefusalKind::NotFound,
            (codes::INVALID_NAME, _) => RefusalKind::InvalidName,
            (codes::TOO_LARGE, _) => RefusalKind::TooLarge,
            (codes::NOT_LOGGED_IN, Verb::Pass) => RefusalKind::LoginIncorrect,
            (codes::NOT_LOGGED_IN, _) => RefusalKind::NotLoggedIn,
            (codes::BAD_SEQUENCE, _) => RefusalKind::BadSequence,
            (codes::UPLOAD_IN_PROGRESS, Verb::Store | Verb::Resume) => {
                RefusalKind::UploadInProgress
            }
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
    /// is the file or directory the command was about, if any.
    pub fn meaning(&self, subject: Option<&str>) -> String {
        let subject = subject.map_or_else(|| "the file".to_owned(), |s| format!("\"{s}\""));
        let verb = self.verb;
        match self.kind() {
            RefusalKind::NotFound => format!("no such file {subject} on the server"),
            RefusalKind::NoSuchEntry => {
                format!("no such file or directory {subject} on the server")
            }
            RefusalKind::NoSuchDirectory => format!("no such directory {subject} on the server"),
            RefusalKind::CannotStore => format!(
                "the server is read-only: uploads are not allowed (or the directory for \
                 {subject} is missing, or {subject} is a directory)"
            ),
            RefusalKind::NotFoundOrReadOnly => format!(
                "cannot delete {subject}: no such file on the server, or the server is read-only"
            ),
            RefusalKind::CannotCreateDirectory => format!(
                "cannot create {subject}: it exists, its parent directory is missing, \
                 or the server is read-only"
            ),
            RefusalKind::CannotRemoveDirectory => format!(
                "cannot remove {subject}: it is not empty, no such directory, \
                 or the server is read-only"
            ),
            RefusalKind::CannotRename => format!(
                "cannot rename {subject}: it or the target's directory is missing, \
                 the target is in the way, or the server is read-only"
            ),
            RefusalKind::InvalidName => {
                format!("the server rejected {subject} as an invalid file name or path")
            }
            RefusalKind::TooLarge => {
                format!("{subject} is too large: it is over the server's size limit or quota")
            }
            RefusalKind::LoginIncorrect => "login incorrect".into(),
            RefusalKind::NotLoggedIn => format!("log in first: the server refused {verb}"),
            RefusalKind::BadSequence => "send USER before PASS".into(),
            RefusalKind::UploadInProgress => {
                format!("an upload of {subject} is already in progress on another connection")
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
    fn version_2_verbs_and_codes() {
        let kind = |verb, code| {
            Refusal {
                verb,
                reply: Reply::new(code, "x"),
            }
            .kind()
        };
        assert_eq!(kind(Verb::List, 550), RefusalKind::NoSuchDirectory);
        assert_eq!(kind(Verb::Read, 550), RefusalKind::NotFound);
        assert_eq!(kind(Verb::Stat, 550), RefusalKind::NoSuchEntry);
        assert_eq!(kind(Verb::Resume, 550), RefusalKind::CannotStore);
        assert_eq!(kind(Verb::Mkdir, 550), RefusalKind::CannotCreateDirectory);
        assert_eq!(kind(Verb::Rmdir, 550), RefusalKind::CannotRemoveDirectory);
        assert_eq!(kind(Verb::Rename, 550), RefusalKind::CannotRename);
        assert_eq!(kind(Verb::Rename, 501), RefusalKind::BadArgument);
        assert_eq!(kind(Verb::Pass, 530), RefusalKind::LoginIncorrect);
        assert_eq!(kind(Verb::List, 530), RefusalKind::NotLoggedIn);
        assert_eq!(kind(Verb::Pass, 503), RefusalKind::BadSequence);
        assert_eq!(kind(Verb::Resume, 450), RefusalKind::UploadInProgress);
        assert_eq!(kind(Verb::Store, 450), RefusalKind::UploadInProgress);
        assert_eq!(kind(Verb::List, 450), RefusalKind::TryLater);
        assert!(words(Verb::Mkdir, 550, "x").contains("it exists"));
        assert!(words(Verb::Store, 550, "x").starts_with("the server is read-only"));
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
