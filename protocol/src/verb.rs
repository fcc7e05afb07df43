//! The verbs of the protocol and their spellings (docs/PROTOCOL.md §3).

use std::fmt;

/// The verbs of the protocol, without their arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `LIST`
    List,
    /// `RETRIEVE` / `RETR`
    Retrieve,
    /// `READ`
    Read,
    /// `STAT`
    Stat,
    /// `STORE` / `STOR`
    Store,
    /// `RESUME`
    Resume,
    /// `DELETE` / `DELE`
    Delete,
    /// `MKDIR`
    Mkdir,
    /// `RMDIR`
    Rmdir,
    /// `RENAME`
    Rename,
    /// `HASH`
    Hash,
    /// `USER`
    User,
    /// `PASS`
    Pass,
    /// `NOOP`
    Noop,
    /// `HELP`
    Help,
    /// `QUIT`
    Quit,
}

impl Verb {
    /// Every verb, in the order `HELP` lists them (the contract's table).
    pub const ALL: [Verb; 16] = [
        Verb::List,
        Verb::Retrieve,
        Verb::Read,
        Verb::Stat,
        Verb::Store,
        Verb::Resume,
        Verb::Delete,
        Verb::Mkdir,
        Verb::Rmdir,
        Verb::Rename,
        Verb::Hash,
        Verb::User,
        Verb::Pass,
        Verb::Noop,
        Verb::Help,
        Verb::Quit,
    ];

    /// The aliases, each with its verb.
    const ALIASES: [(&'static str, Verb); 3] = [
        ("RETR", Verb::Retrieve),
        ("STOR", Verb::Store),
        ("DELE", Verb::Delete),
    ];

    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::List => "LIST",
            Verb::Retrieve => "RETRIEVE",
            Verb::Read => "READ",
            Verb::Stat => "STAT",
            Verb::Store => "STORE",
            Verb::Resume => "RESUME",
            Verb::Delete => "DELETE",
            Verb::Mkdir => "MKDIR",
            Verb::Rmdir => "RMDIR",
            Verb::Rename => "RENAME",
            Verb::Hash => "HASH",
            Verb::User => "USER",
            Verb::Pass => "PASS",
            Verb::Noop => "NOOP",
            Verb::Help => "HELP",
            Verb::Quit => "QUIT",
        }
    }

    /// Recognises a verb or one of its aliases, case-insensitively.
    pub fn parse(word: &[u8]) -> Option<Verb> {
        let canonical = Verb::ALL.iter().map(|&verb| (verb.as_str(), verb));
        canonical
            .chain(Verb::ALIASES)
            .find(|(spelling, _)| spelling.as_bytes().eq_ignore_ascii_case(word))
            .map(|(_, verb)| verb)
    }

    /// The space-separated verb list sent by `HELP` (no aliases).
    pub fn help_text() -> String {
        Verb::ALL.map(Verb::as_str).join(" ")
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_the_sixteen_verbs_without_aliases() {
        assert_eq!(
            Verb::help_text(),
            "LIST RETRIEVE READ STAT STORE RESUME DELETE MKDIR RMDIR RENAME HASH USER PASS \
             NOOP HELP QUIT"
        );
    }

    #[test]
    fn every_spelling_parses_case_insensitively() {
        for verb in Verb::ALL {
            assert_eq!(Verb::parse(verb.as_str().as_bytes()), Some(verb));
            let lower = verb.as_str().to_ascii_lowercase();
            assert_eq!(Verb::parse(lower.as_bytes()), Some(verb));
        }
        assert_eq!(Verb::parse(b"retr"), Some(Verb::Retrieve));
        assert_eq!(Verb::parse(b"Stor"), Some(Verb::Store));
        assert_eq!(Verb::parse(b"DELE"), Some(Verb::Delete));
        assert_eq!(Verb::parse(b"RETRIEVEX"), None);
        assert_eq!(Verb::parse(b""), None);
    }
}
