//! One module per command; [`dispatch`] runs a command line and sends the
//! final reply (or the error's reply, mapped in [`ServerError::reply`]).

mod delete;
mod hash;
mod list;
mod login;
mod retrieve;
mod store;
mod tree;

use crate::connection::Connection;
use crate::session::Session;
use crate::{ServerError, Shared};
use ferry_proto::{codes, Command, LineEvent, Path, ProtoError, Reply, Verb};
use retrieve::Range;
use std::time::Instant;
use store::Start;

/// Longest command text written to the log, in characters.
const LOGGED_LINE_MAX: usize = 200;

/// What the connection does after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Read the next command.
    Continue,
    /// Close the connection, for the given reason (logged).
    Close(String),
}

/// Runs one framed command line to completion, logs it, and tells whether
/// the connection goes on.
pub(crate) async fn dispatch(
    event: LineEvent,
    conn: &mut Connection,
    shared: &Shared,
    session: &mut Session,
) -> Flow {
    let started = Instant::now();
    let (label, outcome, quit) = match event {
        LineEvent::TooLong => (
            "(line too long)".to_owned(),
            Err(ServerError::BadCommand(ProtoError::LineTooLong)),
            false,
        ),
        // The login gate's 530 comes before the argument's own failures.
        LineEvent::Line(line) => match Command::verb_of(&line).map(|verb| session.gate(verb)) {
            Some(Err(refused)) => (loggable(&line), Err(refused), false),
            _ => match Command::parse(&line) {
                Ok(command) => {
                    let label = command.to_string();
                    let quit = command == Command::Quit;
                    (label, execute(command, conn, shared, session).await, quit)
                }
                Err(error) => (loggable(&line), Err(error.into()), false),
            },
        },
    };
    let (reply, mut flow) = match &outcome {
        Ok(reply) if quit => (Some(reply.clone()), Flow::Close("quit".to_owned())),
        Ok(reply) => (Some(reply.clone()), Flow::Continue),
        Err(error) if error.closes_connection() => (error.reply(), Flow::Close(error.to_string())),
        Err(error) => (error.reply(), Flow::Continue),
    };
    if let Some(reply) = &reply {
        if let Err(error) = conn.write_reply(reply).await {
            if flow == Flow::Continue {
                flow = Flow::Close(error.to_string());
            }
        }
    }
    let code = reply.as_ref().map(|reply| reply.code);
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let peer = conn.peer();
    match &outcome {
        Ok(_) => tracing::info!(%peer, command = %label, code, elapsed_ms, "command"),
        Err(error) => {
            tracing::info!(%peer, command = %label, code, elapsed_ms, %error, "command")
        }
    }
    flow
}

/// Runs a parsed command; `Ok` is its final (success) reply.
///
/// Past the login verbs, the command runs as the session's [`Identity`],
/// and this is the one place where the client's paths become paths from
/// the root (the home in front, [`Identity::resolve`]) and where a change
/// meets `550 Read-only` (after the path's `553`, before any other `550`).
async fn execute(
    command: Command,
    conn: &mut Connection,
    shared: &Shared,
    session: &mut Session,
) -> Result<Reply, ServerError> {
    // Cloned (a name and a path), so that USER and PASS may change the
    // session; `530` only reaches the commands that need an identity.
    let identity = session.identity().cloned();
    let me = || identity.as_ref().ok_or(ServerError::NotLoggedIn);
    let path = |path: &Path| me()?.resolve(path);
    let change = |path: &Path| {
        let identity = me()?;
        let path = identity.resolve(path)?;
        identity.check_writable()?;
        Ok::<Path, ServerError>(path)
    };
    match command {
        Command::List(dir) => {
            let dir = me()?.dir(dir.as_ref())?;
            list::run(conn, shared, dir).await
        }
        Command::Retrieve(file) => retrieve::run(conn, shared, path(&file)?, Range::Whole).await,
        Command::Read {
            offset,
            length,
            path: file,
        } => {
            let range = Range::From { offset, length };
            retrieve::run(conn, shared, path(&file)?, range).await
        }
        Command::Stat(file) => tree::stat(shared, path(&file)?).await,
        Command::Store { size, path: file } => {
            let file = change(&file)?;
            store::run(conn, shared, me()?, size, file, Start::Store).await
        }
        Command::Resume { size, path: file } => {
            let file = change(&file)?;
            store::run(conn, shared, me()?, size, file, Start::Resume).await
        }
        Command::Delete(file) => delete::run(shared, change(&file)?).await,
        Command::Mkdir(dir) => tree::mkdir(shared, change(&dir)?).await,
        Command::Rmdir(dir) => tree::rmdir(shared, change(&dir)?).await,
        Command::Rename { from, to } => {
            let from = path(&from)?;
            let to = change(&to)?;
            tree::rename(shared, from, to).await
        }
        Command::Hash(file) => hash::run(shared, path(&file)?).await,
        Command::User(name) => login::user(shared, session, name),
        Command::Pass(password) => login::pass(conn, shared, session, password).await,
        Command::Noop => Ok(Reply::new(codes::OK, "OK")),
        Command::Help => Ok(Reply::new(codes::HELP, Verb::help_text())),
        Command::Quit => Ok(Reply::new(codes::GOODBYE, "Goodbye")),
    }
}

/// An error met after `150` announced data bytes: no reply may follow (it
/// would be read as data), so every failure becomes one that closes the
/// connection silently, as docs/PROTOCOL.md §3.4 says.
pub(crate) fn after_preliminary(error: ServerError) -> ServerError {
    match error {
        ServerError::Peer(error) => ServerError::TransferAborted(error),
        ServerError::IdleTimeout => ServerError::TransferAborted(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the client stopped reading",
        )),
        ServerError::TransferAborted(error) => ServerError::TransferAborted(error),
        other => ServerError::TransferAborted(std::io::Error::other(other.to_string())),
    }
}

/// A raw command line (one that did not parse, or was refused before it
/// was) made safe for a log line: escaped and shortened, and a `PASS`
/// argument hidden as a parsed command's is (a password that is not UTF-8
/// is still a password).
fn loggable(line: &[u8]) -> String {
    if Command::verb_of(line) == Some(Verb::Pass) {
        return format!("{} ***", Verb::Pass);
    }
    let text = String::from_utf8_lossy(line);
    let mut chars: Vec<char> = text.escape_debug().take(LOGGED_LINE_MAX + 1).collect();
    let cut = chars.len() > LOGGED_LINE_MAX;
    chars.truncate(LOGGED_LINE_MAX);
    let mut escaped: String = chars.into_iter().collect();
    if cut {
        escaped.push('…');
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_reaches_the_log() {
        assert_eq!(loggable(b"PASS s3cret\xff"), "PASS ***");
        assert_eq!(loggable(b"pass s3cret"), "PASS ***");
        assert_eq!(loggable(b"STORE x a\tb"), "STORE x a\\tb");
        let long = loggable(&[b'x'; 300]);
        assert_eq!(long.chars().count(), LOGGED_LINE_MAX + 1);
        assert!(long.ends_with('…'));
    }
}
