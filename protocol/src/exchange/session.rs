//! The session's own exchanges: logging in, NOOP, HELP and QUIT.

use super::{expect, Exchange};
use crate::{codes, Command, Done, Password, ProtoError};

/// Where a login step left the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// `331`: send `PASS` next.
    PasswordRequired,
    /// `230`: logged in (or the server has no accounts).
    LoggedIn,
}

/// `USER <account>`: `331` (password required) or `230` (no login required).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User(pub String);

impl Exchange for User {
    type Success = Login;

    fn command(&self) -> Command {
        Command::User(self.0.clone())
    }

    fn subject(&self) -> Option<&str> {
        Some(&self.0)
    }

    fn success(&self, done: Done) -> Result<Login, ProtoError> {
        if done.reply.code == codes::PASSWORD_REQUIRED {
            return Ok(Login::PasswordRequired);
        }
        expect(&done, codes::LOGGED_IN)?;
        Ok(Login::LoggedIn)
    }
}

/// `PASS <password>`: `230` logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass(pub Password);

impl Exchange for Pass {
    type Success = ();

    fn command(&self) -> Command {
        Command::Pass(self.0.clone())
    }

    fn success(&self, done: Done) -> Result<(), ProtoError> {
        expect(&done, codes::LOGGED_IN)
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
