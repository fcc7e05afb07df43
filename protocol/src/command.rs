//! Command lines: `VERB` or `VERB ARGUMENT`.

use crate::{Name, ProtoError};
use std::fmt;

/// The verbs of the protocol, without their arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `LIST`
    List,
    /// `RETRIEVE` / `RETR`
    Retrieve,
    /// `STORE` / `STOR`
    Store,
    /// `DELETE` / `DELE`
    Delete,
    /// `HASH`
    Hash,
    /// `NOOP`
    Noop,
    /// `HELP`
    Help,
    /// `QUIT`
    Quit,
}

impl Verb {
    /// Every verb, in the order `HELP` lists them.
    pub const ALL: [Verb; 8] = [
        Verb::List,
        Verb::Retrieve,
        Verb::Store,
        Verb::Delete,
        Verb::Hash,
        Verb::Noop,
        Verb::Help,
        Verb::Quit,
    ];

    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::List => "LIST",
            Verb::Retrieve => "RETRIEVE",
            Verb::Store => "STORE",
            Verb::Delete => "DELETE",
            Verb::Hash => "HASH",
            Verb::Noop => "NOOP",
            Verb::Help => "HELP",
            Verb::Quit => "QUIT",
        }
    }

    /// Recognises a verb or one of its aliases, case-insensitively.
    pub fn parse(word: &[u8]) -> Option<Verb> {
        const SPELLINGS: [(&[u8], Verb); 11] = [
            (b"LIST", Verb::List),
            (b"RETRIEVE", Verb::Retrieve),
            (b"RETR", Verb::Retrieve),
            (b"STORE", Verb::Store),
            (b"STOR", Verb::Store),
            (b"DELETE", Verb::Delete),
            (b"DELE", Verb::Delete),
            (b"HASH", Verb::Hash),
            (b"NOOP", Verb::Noop),
            (b"HELP", Verb::Help),
            (b"QUIT", Verb::Quit),
        ];
        SPELLINGS
            .iter()
            .find(|(spelling, _)| spelling.eq_ignore_ascii_case(word))
            .map(|&(_, verb)| verb)
    }

    /// The space-separated verb list sent by `HELP`.
    pub fn help_text() -> String {
        Verb::ALL.map(Verb::as_str).join(" ")
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// List the regular files of the root.
    List,
    /// Download a file.
    Retrieve(Name),
    /// Upload `size` bytes as `name`.
    Store {
        /// Exact number of data bytes the client will send after `150`.
        size: u64,
        /// Name of the file to create or replace.
        name: Name,
    },
    /// Remove a file.
    Delete(Name),
    /// SHA-256 of a file.
    Hash(Name),
    /// Do nothing (keeps the connection alive).
    Noop,
    /// List the verbs.
    Help,
    /// End the session.
    Quit,
}

impl Command {
    /// Parses a command line (without its line ending).
    ///
    /// Errors carry the reply code the server answers with
    /// ([`ProtoError::reply_code`]): 502 unknown verb, 501 missing or
    /// malformed argument, 553 invalid name.
    pub fn parse(line: &[u8]) -> Result<Command, ProtoError> {
        let (word, argument) = match line.iter().position(|&b| b == b' ') {
            Some(space) => (&line[..space], Some(&line[space + 1..])),
            None => (line, None),
        };
        let verb = Verb::parse(word).ok_or(ProtoError::UnknownCommand)?;
        // An empty argument ("LIST " or "RETR ") counts as no argument.
        let argument = argument.filter(|a| !a.is_empty());
        let name_of = |argument: Option<&[u8]>| match argument {
            None => Err(ProtoError::BadArgument(format!("{verb} needs a file name"))),
            Some(bytes) => Name::from_bytes(bytes),
        };
        let no_argument = |command: Command| match argument {
            None => Ok(command),
            Some(_) => Err(ProtoError::BadArgument(format!("{verb} takes no argument"))),
        };
        match verb {
            Verb::List => no_argument(Command::List),
            Verb::Noop => no_argument(Command::Noop),
            Verb::Help => no_argument(Command::Help),
            Verb::Quit => no_argument(Command::Quit),
            Verb::Retrieve => Ok(Command::Retrieve(name_of(argument)?)),
            Verb::Delete => Ok(Command::Delete(name_of(argument)?)),
            Verb::Hash => Ok(Command::Hash(name_of(argument)?)),
            Verb::Store => {
                let argument = argument.ok_or_else(|| {
                    ProtoError::BadArgument("STORE needs a size and a file name".into())
                })?;
                let (size, name) = match argument.iter().position(|&b| b == b' ') {
                    Some(space) => (&argument[..space], Some(&argument[space + 1..])),
                    None => (argument, None),
                };
                let size = parse_size(size)?;
                let name = name_of(name.filter(|n| !n.is_empty()))?;
                Ok(Command::Store { size, name })
            }
        }
    }

    /// The verb of this command.
    pub fn verb(&self) -> Verb {
        match self {
            Command::List => Verb::List,
            Command::Retrieve(_) => Verb::Retrieve,
            Command::Store { .. } => Verb::Store,
            Command::Delete(_) => Verb::Delete,
            Command::Hash(_) => Verb::Hash,
            Command::Noop => Verb::Noop,
            Command::Help => Verb::Help,
            Command::Quit => Verb::Quit,
        }
    }

    /// The command as wire bytes, CRLF included.
    pub fn encode(&self) -> Vec<u8> {
        let mut line = self.to_string().into_bytes();
        line.extend_from_slice(b"\r\n");
        line
    }
}

fn parse_size(digits: &[u8]) -> Result<u64, ProtoError> {
    let bad = || {
        ProtoError::BadArgument(format!(
            "bad size {:?}: expected a decimal number of bytes",
            String::from_utf8_lossy(digits)
        ))
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)
}

impl fmt::Display for Command {
    /// The command line without its line ending.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Retrieve(name) | Command::Delete(name) | Command::Hash(name) => {
                write!(f, "{} {}", self.verb(), name)
            }
            Command::Store { size, name } => write!(f, "STORE {size} {name}"),
            _ => f.write_str(self.verb().as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(line: &[u8]) -> Option<u16> {
        Command::parse(line).err().and_then(|e| e.reply_code())
    }

    #[test]
    fn parses_every_verb_and_alias_case_insensitively() {
        let n = |s: &str| Name::new(s).unwrap();
        assert_eq!(Command::parse(b"list").unwrap(), Command::List);
        assert_eq!(
            Command::parse(b"Retr a b.txt").unwrap(),
            Command::Retrieve(n("a b.txt"))
        );
        assert_eq!(
            Command::parse(b"RETRIEVE x").unwrap(),
            Command::Retrieve(n("x"))
        );
        assert_eq!(
            Command::parse(b"stor 0 empty").unwrap(),
            Command::Store {
                size: 0,
                name: n("empty")
            }
        );
        assert_eq!(
            Command::parse(b"STORE 12 two  spaces ").unwrap(),
            Command::Store {
                size: 12,
                name: n("two  spaces ")
            }
        );
        assert_eq!(Command::parse(b"dele x").unwrap(), Command::Delete(n("x")));
        assert_eq!(
            Command::parse(b"DELETE x").unwrap(),
            Command::Delete(n("x"))
        );
        assert_eq!(Command::parse(b"hash x").unwrap(), Command::Hash(n("x")));
        assert_eq!(Command::parse(b"NOOP").unwrap(), Command::Noop);
        assert_eq!(Command::parse(b"help").unwrap(), Command::Help);
        assert_eq!(Command::parse(b"QuIt").unwrap(), Command::Quit);
    }

    #[test]
    fn error_codes_follow_the_contract() {
        assert_eq!(code(b""), Some(502));
        assert_eq!(code(b"FROB x"), Some(502));
        assert_eq!(code(b"\xff\xfe"), Some(502));
        assert_eq!(code(b"RETR"), Some(501));
        assert_eq!(code(b"RETR "), Some(501));
        assert_eq!(code(b"LIST extra"), Some(501));
        assert_eq!(code(b"STORE"), Some(501));
        assert_eq!(code(b"STORE file.txt"), Some(501));
        assert_eq!(code(b"STORE -1 x"), Some(501));
        assert_eq!(code(b"STORE 1e3 x"), Some(501));
        assert_eq!(code(b"STORE 99999999999999999999 x"), Some(501));
        assert_eq!(code(b"STORE 10"), Some(501));
        assert_eq!(code(b"STORE 10 ../x"), Some(553));
        assert_eq!(code(b"RETR ../x"), Some(553));
        assert_eq!(code(b"RETR /etc/passwd"), Some(553));
        assert_eq!(code(b"DELE .."), Some(553));
        assert_eq!(code(b"HASH a\tb"), Some(553));
        assert_eq!(code(b"RETR \xff"), Some(553));
    }

    #[test]
    fn help_lists_the_verbs() {
        assert_eq!(
            Verb::help_text(),
            "LIST RETRIEVE STORE DELETE HASH NOOP HELP QUIT"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(line in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Command::parse(&line);
        }

        #[test]
        fn encode_then_parse_is_identity(name in "[^/\\\\\\x00-\\x1f\\x7f]{1,60}", size in any::<u64>()) {
            prop_assume!(name != "." && name != "..");
            let name = Name::new(name).unwrap();
            for cmd in [
                Command::Retrieve(name.clone()),
                Command::Store { size, name: name.clone() },
                Command::Delete(name.clone()),
                Command::Hash(name.clone()),
            ] {
                let wire = cmd.encode();
                prop_assert!(wire.ends_with(b"\r\n"));
                prop_assert_eq!(Command::parse(&wire[..wire.len() - 2]).unwrap(), cmd);
            }
        }
    }
}
