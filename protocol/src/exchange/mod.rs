//! Typed exchanges: each command with the one result its success can carry.
//!
//! [`ClientDriver`](crate::ClientDriver) ends every exchange with a
//! [`Done`] or a [`Refusal`](crate::Refusal); the command's [`Exchange`]
//! turns the `Done` into its own success type and rejects a success reply
//! that cannot answer it (a `250` to HASH is a protocol error, not a branch
//! every client has to write). Transfers are in `transfer`, operations on
//! files and directories in `tree`, the session's own commands in `session`.

mod session;
mod transfer;
mod tree;

pub use session::{Help, Login, Noop, Pass, Quit, User};
pub use transfer::{List, Read, Resume, Retrieve, Store};
pub use tree::{Delete, Hash, Mkdir, Rename, Rmdir, Stat};

use crate::{Command, Done, ProtoError};

/// A command together with what its success means.
pub trait Exchange {
    /// What a successful exchange yields.
    type Success;

    /// The command line to send.
    fn command(&self) -> Command;

    /// The file or directory the command is about, for messages.
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

#[cfg(test)]
mod tests;
