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
use crate::{ServerError, Shared};
use ferry_proto::{codes, Command, LineEvent, ProtoError, Reply, Verb};
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
pub(crate) async fn dispatch(event: LineEvent, conn: &mut Connection, shared: &Shared) -> Flow {
    let started = Instant::now();
    let (label, outcome, quit) = match event {
        LineEvent::TooLong => (
            "(line too long)".to_owned(),
            Err(ServerError::BadCommand(ProtoError::LineTooLong)),
            false,
        ),
        LineEvent::Line(line) => match Command::parse(&line) {
            Ok(command) => {
                let label = command.to_string();
                let quit = command == Command::Quit;
                (label, execute(command, conn, shared).await, quit)
            }
            Err(error) => (loggable(&line), Err(error.into()), false),
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
async fn execute(
    command: Command,
    conn: &mut Connection,
    shared: &Shared,
) -> Result<Reply, ServerError> {
    match command {
        Command::List(dir) => list::run(conn, shared, dir).await,
        Command::Retrieve(path) => retrieve::run(conn, shared, path, Range::Whole).await,
        Command::Read {
            offset,
            length,
            path,
        } => retrieve::run(conn, shared, path, Range::From { offset, length }).await,
        Command::Stat(path) => tree::stat(shared, path).await,
        Command::Store { size, path } => store::run(conn, shared, size, path, Start::Store).await,
        Command::Resume { size, path } => {
            store::run(conn, shared, size, path, Start::ResumeFromZero).await
        }
        Command::Delete(path) => delete::run(shared, path).await,
        Command::Mkdir(path) => tree::mkdir(shared, path).await,
        Command::Rmdir(path) => tree::rmdir(shared, path).await,
        Command::Rename { from, to } => tree::rename(shared, from, to).await,
        Command::Hash(path) => hash::run(shared, path).await,
        Command::User(_) | Command::Pass(_) => Ok(login::no_login_required()),
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

/// A raw command line made safe for a log line: escaped and shortened.
fn loggable(line: &[u8]) -> String {
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
