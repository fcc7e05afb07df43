//! Typed exchanges: each command with the one result its success can carry.
//!
//! [`ClientDriver`](crate::ClientDriver) ends every exchange with a
//! [`Done`] or a [`Refusal`](crate::Refusal); the command's [`Exchange`]
//! turns the `Done` into its own success type and rejects a success reply
//! that cannot answer it (a `250` to HASH is a protocol error, not a branch
//! every client has to write).

use crate::{codes, Command, Done, ListingEntry, Name, ProtoError};

/// A command together with what its success means.
pub trait Exchange {
    /// What a successful exchange yields.
    type Success;

    /// The command line to send.
    fn command(&self) -> Command;

    /// The file the command is about, for messages.
    fn subject(&self) -> Option<&str> {
        None
    }

    /// The success result, from the exchange's final reply.
    fn success(&self, done: Done) -> Result<Self::Success, ProtoError>;
}

/// Checks that `done` is the one success reply `code` of its verb.
fn expect(done: &Done, code: u16) -> Result<(), ProtoError> {
    if done.reply.code == code {
        Ok(())
    } else {
        Err(ProtoError::UnexpectedReply(format!(
            "{} in answer to {}",
            done.reply, done.verb
        )))
    }
}

/// `LIST`: the regular files of the root, sorted by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct List;

impl Exchange for List {
    type Success = Vec<ListingEntry>;

    fn command(&self) -> Command {
        Command::List
    }

    fn success(&self, done: Done) -> Result<Vec<ListingEntry>, ProtoError> {
        expect(&done, codes::TRANSFER_COMPLETE)?;
        crate::parse_listing(&done.body)
    }
}

/// `RETRIEVE`: the file's bytes arrive as [`Event::Data`](crate::Event::Data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrieve(pub Name);

impl Exchange for Retrieve {
    type Success = ();

    fn command(&self) -> Command {
        Command::Retrieve(self.0.clone())
    }

    fn subject(&self) -> Option<&str> {
        Some(self.0.as_str())
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::TRANSFER_COMPLETE)
    }
}

/// `STORE`: after [`Event::Send`](crate::Event::Send) the client writes `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// The name to store the file under.
    pub name: Name,
    /// The file's exact size in bytes.
    pub size: u64,
}

impl Exchange for Store {
    type Success = ();

    fn command(&self) -> Command {
        Command::Store {
            size: self.size,
            name: self.name.clone(),
        }
    }

    fn subject(&self) -> Option<&str> {
        Some(self.name.as_str())
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::TRANSFER_COMPLETE)
    }
}

/// `DELETE`: removes a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete(pub Name);

impl Exchange for Delete {
    type Success = ();

    fn command(&self) -> Command {
        Command::Delete(self.0.clone())
    }

    fn subject(&self) -> Option<&str> {
        Some(self.0.as_str())
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::DELETED)
    }
}

/// `HASH`: the file's SHA-256 as 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hash(pub Name);

impl Exchange for Hash {
    type Success = String;

    fn command(&self) -> Command {
        Command::Hash(self.0.clone())
    }

    fn subject(&self) -> Option<&str> {
        Some(self.0.as_str())
    }

    fn success(&self, done: Done) -> Result<String, ProtoError> {
        expect(&done, codes::HASH)?;
        done.reply
            .sha256_hex()
            .map(str::to_owned)
            .ok_or_else(|| ProtoError::MalformedReply(done.reply.to_string()))
    }
}

/// `NOOP`: checks that the connection is alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noop;

impl Exchange for Noop {
    type Success = ();

    fn command(&self) -> Command {
        Command::Noop
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::OK)
    }
}

/// `HELP`: the verbs the server knows, space-separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Help;

impl Exchange for Help {
    type Success = String;

    fn command(&self) -> Command {
        Command::Help
    }

    fn success(&self, done: Done) -> Result<String, ProtoError> {
        expect(&done, codes::HELP)?;
        Ok(done.reply.text)
    }
}

/// `QUIT`: the server says goodbye and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quit;

impl Exchange for Quit {
    type Success = ();

    fn command(&self) -> Command {
        Command::Quit
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::GOODBYE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Reply, Verb};

    fn done(verb: Verb, code: u16, text: &str, body: &[u8]) -> Done {
        Done {
            verb,
            reply: Reply::new(code, text),
            body: body.to_vec(),
        }
    }

    #[test]
    fn each_success_is_typed_and_checked() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let name = Name::new("f").unwrap();
        let hash = Hash(name.clone());
        let ok = done(Verb::Hash, 213, &format!("SHA-256 {hex}"), b"");
        assert_eq!(hash.success(ok), Ok(hex.to_owned()));
        assert!(hash.success(done(Verb::Hash, 250, "Deleted", b"")).is_err());
        assert!(hash
            .success(done(Verb::Hash, 213, "SHA-256 xyz", b""))
            .is_err());
        let listed = List.success(done(
            Verb::List,
            226,
            "1 entries",
            b"5\t2026-11-24T16:13:25Z\ta.txt\n",
        ));
        assert_eq!(listed.unwrap()[0].name.as_str(), "a.txt");
        assert!(Delete(name)
            .success(done(Verb::Delete, 226, "x", b""))
            .is_err());
        assert_eq!(
            Help.success(done(Verb::Help, 214, "LIST QUIT", b"")),
            Ok("LIST QUIT".into())
        );
    }
}
