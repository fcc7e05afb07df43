//! The exchanges that move bytes: LIST, RETRIEVE and READ bring them,
//! STORE and RESUME send them.

use super::{expect, Exchange};
use crate::{codes, Command, Done, ListingEntry, Path, ProtoError};

/// `LIST` or `LIST <dir>`: the entries of the home or of a directory,
/// sorted as on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List(pub Option<Path>);

impl Exchange for List {
    type Success = Vec<ListingEntry>;

    fn command(&self) -> Command {
        Command::List(self.0.clone())
    }

    fn subject(&self) -> Option<&str> {
        self.0.as_ref().map(Path::as_str)
    }

    fn success(&self, done: Done) -> Result<Vec<ListingEntry>, ProtoError> {
        expect(&done, codes::TRANSFER_COMPLETE)?;
        crate::parse_listing(&done.body)
    }
}

/// `RETRIEVE`: the file's bytes arrive as [`Event::Data`](crate::Event::Data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrieve(pub Path);

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

/// `READ`: a byte range of a file, arriving as [`Event::Data`](crate::Event::Data)
/// like RETRIEVE's (the `150` says how many bytes the range really holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The file.
    pub path: Path,
    /// First byte wanted.
    pub offset: u64,
    /// Most bytes wanted.
    pub length: u64,
}

impl Exchange for Read {
    type Success = ();

    fn command(&self) -> Command {
        Command::Read {
            offset: self.offset,
            length: self.length,
            path: self.path.clone(),
        }
    }

    fn subject(&self) -> Option<&str> {
        Some(self.path.as_str())
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::TRANSFER_COMPLETE)
    }
}

/// `STORE`: after [`Event::Send`](crate::Event::Send) the client writes `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// The path to store the file at.
    pub path: Path,
    /// The file's exact size in bytes.
    pub size: u64,
}

impl Exchange for Store {
    type Success = ();

    fn command(&self) -> Command {
        Command::Store {
            size: self.size,
            path: self.path.clone(),
        }
    }

    fn subject(&self) -> Option<&str> {
        Some(self.path.as_str())
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::TRANSFER_COMPLETE)
    }
}

/// `RESUME`: after [`Event::Send`](crate::Event::Send) the client writes the
/// last `len` bytes of its file (the server holds the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The path to store the file at.
    pub path: Path,
    /// The whole file's size in bytes.
    pub size: u64,
}

impl Exchange for Resume {
    type Success = ();

    fn command(&self) -> Command {
        Command::Resume {
            size: self.size,
            path: self.path.clone(),
        }
    }

    fn subject(&self) -> Option<&str> {
        Some(self.path.as_str())
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::TRANSFER_COMPLETE)
    }
}
