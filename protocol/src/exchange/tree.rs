//! The exchanges on files and directories that move no data bytes: STAT,
//! DELETE, MKDIR, RMDIR, RENAME and HASH.

use super::{expect, Exchange};
use crate::{codes, Command, Done, Path, ProtoError, Status};

/// `STAT`: kind, size and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat(pub Path);

impl Exchange for Stat {
    type Success = Status;

    fn command(&self) -> Command {
        Command::Stat(self.0.clone())
    }

    fn subject(&self) -> Option<&str> {
        Some(self.0.as_str())
    }

    fn success(&self, done: Done) -> Result<Status, ProtoError> {
        expect(&done, codes::FILE_STATUS)?;
        Status::parse(&done.reply.text)
            .ok_or_else(|| ProtoError::MalformedReply(done.reply.to_string()))
    }
}

/// `DELETE`: removes a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete(pub Path);

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

/// `MKDIR`: creates a directory (`257`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mkdir(pub Path);

impl Exchange for Mkdir {
    type Success = ();

    fn command(&self) -> Command {
        Command::Mkdir(self.0.clone())
    }

    fn subject(&self) -> Option<&str> {
        Some(self.0.as_str())
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::CREATED)
    }
}

/// `RMDIR`: removes an empty directory (`250`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rmdir(pub Path);

impl Exchange for Rmdir {
    type Success = ();

    fn command(&self) -> Command {
        Command::Rmdir(self.0.clone())
    }

    fn subject(&self) -> Option<&str> {
        Some(self.0.as_str())
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::FILE_ACTION_OK)
    }
}

/// `RENAME`: moves a file or directory (`250`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// What to move.
    pub from: Path,
    /// Where it goes.
    pub to: Path,
}

impl Exchange for Rename {
    type Success = ();

    fn command(&self) -> Command {
        Command::Rename {
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }

    fn subject(&self) -> Option<&str> {
        Some(self.from.as_str())
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::FILE_ACTION_OK)
    }
}

/// `HASH`: the file's SHA-256 as 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hash(pub Path);

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
