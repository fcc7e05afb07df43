//! Command lines: `VERB` or `VERB ARGUMENT`, with each verb's argument
//! grammar (docs/PROTOCOL.md §3).
//!
//! Parse errors carry their reply code ([`ProtoError::reply_code`]) and are
//! found in the contract's order: an unknown verb (502), then a malformed
//! argument (501: a missing part, a bad number, RENAME without TAB), then an
//! invalid path (553). So `READ x 1 ../a` is 501, not 553.

use crate::{Path, ProtoError, Verb};
use std::fmt;

/// A password as sent by `PASS`; its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    /// The password itself, for checking it or sending it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// List a directory: the home (`None`) or a directory in it.
    List(Option<Path>),
    /// Download a file.
    Retrieve(Path),
    /// Download `length` bytes of a file from `offset`.
    Read {
        /// First byte to send.
        offset: u64,
        /// Most bytes to send.
        length: u64,
        /// The file.
        path: Path,
    },
    /// Kind, size and modification time of a file or directory.
    Stat(Path),
    /// Upload `size` bytes as `path`.
    Store {
        /// Exact number of data bytes the client will send after `150`.
        size: u64,
        /// The file to create or replace.
        path: Path,
    },
    /// Continue an upload of `size` bytes to `path`.
    Resume {
        /// The whole file's size.
        size: u64,
        /// The file to create or replace.
        path: Path,
    },
    /// Remove a file.
    Delete(Path),
    /// Create a directory.
    Mkdir(Path),
    /// Remove an empty directory.
    Rmdir(Path),
    /// Move a file or directory.
    Rename {
        /// What to move.
        from: Path,
        /// Where it goes.
        to: Path,
    },
    /// SHA-256 of a file.
    Hash(Path),
    /// Name the account to log in as.
    User(String),
    /// The account's password.
    Pass(Password),
    /// Do nothing (keeps the connection alive).
    Noop,
    /// List the verbs.
    Help,
    /// End the session.
    Quit,
}

impl Command {
    /// Parses a command line (without its line ending).
    pub fn parse(line: &[u8]) -> Result<Command, ProtoError> {
        let (word, argument) = split_at_space(line);
        let verb = Verb::parse(word).ok_or(ProtoError::UnknownCommand)?;
        // An empty argument ("LIST " or "RETR ") counts as no argument.
        let argument = Argument {
            verb,
            bytes: argument.filter(|a| !a.is_empty()),
        };
        argument.parse()
    }

    /// The verb a command line starts with, without parsing its argument
    /// (for rules that come before the argument's, such as a server's
    /// `530 Not logged in`); `None` for an unknown verb.
    pub fn verb_of(line: &[u8]) -> Option<Verb> {
        Verb::parse(split_at_space(line).0)
    }

    /// The verb of this command.
    pub fn verb(&self) -> Verb {
        match self {
            Command::List(_) => Verb::List,
            Command::Retrieve(_) => Verb::Retrieve,
            Command::Read { .. } => Verb::Read,
            Command::Stat(_) => Verb::Stat,
            Command::Store { .. } => Verb::Store,
            Command::Resume { .. } => Verb::Resume,
            Command::Delete(_) => Verb::Delete,
            Command::Mkdir(_) => Verb::Mkdir,
            Command::Rmdir(_) => Verb::Rmdir,
            Command::Rename { .. } => Verb::Rename,
            Command::Hash(_) => Verb::Hash,
            Command::User(_) => Verb::User,
            Command::Pass(_) => Verb::Pass,
            Command::Noop => Verb::Noop,
            Command::Help => Verb::Help,
            Command::Quit => Verb::Quit,
        }
    }

    /// The command as wire bytes, CRLF included (a password in clear).
    pub fn encode(&self) -> Vec<u8> {
        let mut line = match self {
            Command::Pass(password) => format!("PASS {}", password.expose()),
            other => other.to_string(),
        }
        .into_bytes();
        line.extend_from_slice(b"\r\n");
        line
    }
}

/// The argument of a command line, with the verb it belongs to.
struct Argument<'a> {
    verb: Verb,
    bytes: Option<&'a [u8]>,
}

impl<'a> Argument<'a> {
    fn parse(self) -> Result<Command, ProtoError> {
        let verb = self.verb;
        match verb {
            Verb::List => Ok(Command::List(self.bytes.map(Path::from_bytes).transpose()?)),
            Verb::Noop => self.none(Command::Noop),
            Verb::Help => self.none(Command::Help),
            Verb::Quit => self.none(Command::Quit),
            Verb::Retrieve => Ok(Command::Retrieve(self.path()?)),
            Verb::Stat => Ok(Command::Stat(self.path()?)),
            Verb::Delete => Ok(Command::Delete(self.path()?)),
            Verb::Mkdir => Ok(Command::Mkdir(self.path()?)),
            Verb::Rmdir => Ok(Command::Rmdir(self.path()?)),
            Verb::Hash => Ok(Command::Hash(self.path()?)),
            Verb::Store | Verb::Resume => {
                let (size, rest) = self.number("a size")?;
                let path = rest.path()?;
                Ok(match verb {
                    Verb::Store => Command::Store { size, path },
                    _ => Command::Resume { size, path },
                })
            }
            Verb::Read => {
                let (offset, rest) = self.number("an offset")?;
                let (length, rest) = rest.number("a length")?;
                let path = rest.path()?;
                Ok(Command::Read {
                    offset,
                    length,
                    path,
                })
            }
            Verb::Rename => {
                let bytes = self.required("two paths separated by TAB")?;
                let tab = bytes.iter().position(|&b| b == b'\t').ok_or_else(|| {
                    ProtoError::BadArgument("RENAME needs <from> TAB <to>".into())
                })?;
                // A second TAB stays in <to>, which makes it invalid (553).
                Ok(Command::Rename {
                    from: Path::from_bytes(&bytes[..tab])?,
                    to: Path::from_bytes(&bytes[tab + 1..])?,
                })
            }
            Verb::User => Ok(Command::User(self.text("an account name")?)),
            Verb::Pass => Ok(Command::Pass(Password(self.text("a password")?))),
        }
    }

    fn none(self, command: Command) -> Result<Command, ProtoError> {
        match self.bytes {
            None => Ok(command),
            Some(_) => Err(ProtoError::BadArgument(format!(
                "{} takes no argument",
                self.verb
            ))),
        }
    }

    fn required(&self, what: &str) -> Result<&'a [u8], ProtoError> {
        self.bytes
            .ok_or_else(|| ProtoError::BadArgument(format!("{} needs {what}", self.verb)))
    }

    fn path(&self) -> Result<Path, ProtoError> {
        Path::from_bytes(self.required("a path")?)
    }

    fn text(&self, what: &str) -> Result<String, ProtoError> {
        let bytes = self.required(what)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| ProtoError::BadArgument(format!("{} needs {what} in UTF-8", self.verb)))
    }

    /// A number, then the rest of the argument after one space.
    fn number(&self, what: &str) -> Result<(u64, Argument<'a>), ProtoError> {
        let (digits, rest) = split_at_space(self.required(what)?);
        let number = parse_number(digits)?;
        let rest = Argument {
            verb: self.verb,
            bytes: rest.filter(|r| !r.is_empty()),
        };
        Ok((number, rest))
    }
}

/// `(before, Some(after))` around the first space, or `(all, None)`.
fn split_at_space(bytes: &[u8]) -> (&[u8], Option<&[u8]>) {
    match bytes.iter().position(|&b| b == b' ') {
        Some(space) => (&bytes[..space], Some(&bytes[space + 1..])),
        None => (bytes, None),
    }
}

/// A number of the contract: decimal digits only, at most 2^64 − 1.
fn parse_number(digits: &[u8]) -> Result<u64, ProtoError> {
    let bad = || {
        ProtoError::BadArgument(format!(
            "bad number {}: expected decimal digits up to 18446744073709551615",
            quoted(&String::from_utf8_lossy(digits))
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

/// `text` in double quotes, as `{:?}` writes it for ASCII: `\\`, `\"`,
/// `\t`, `\r`, `\n`, `\0` and other control characters as `\u{1b}`. Other
/// characters are kept as they are (`{:?}` would also escape the
/// non-printable ones, but its Unicode tables are 3 KB of the web page's
/// WebAssembly, which parses typed commands with this crate and quotes
/// with this function too).
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\0' => out.push_str("\\0"),
            c if c.is_ascii_control() => {
                out.push_str("\\u{");
                let code = c as u8;
                if code >= 16 {
                    out.push(char::from_digit(u32::from(code >> 4), 16).unwrap_or('0'));
                }
                out.push(char::from_digit(u32::from(code & 15), 16).unwrap_or('0'));
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for Command {
    /// The command line without its line ending, a password hidden (for
    /// logs and consoles; [`Command::encode`] is what goes on the wire).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = self.verb();
        match self {
            Command::List(Some(path))
            | Command::Retrieve(path)
            | Command::Stat(path)
            | Command::Delete(path)
            | Command::Mkdir(path)
            | Command::Rmdir(path)
            | Command::Hash(path) => write!(f, "{verb} {path}"),
            Command::Read {
                offset,
                length,
                path,
            } => write!(f, "{verb} {offset} {length} {path}"),
            Command::Store { size, path } | Command::Resume { size, path } => {
                write!(f, "{verb} {size} {path}")
            }
            Command::Rename { from, to } => write!(f, "{verb} {from}\t{to}"),
            Command::User(account) => write!(f, "{verb} {account}"),
            Command::Pass(_) => write!(f, "{verb} ***"),
            Command::List(None) | Command::Noop | Command::Help | Command::Quit => {
                f.write_str(verb.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests;
