//! The one loop that runs an exchange: send a typed command, hand its data
//! phase to the command, return the typed outcome.
//!
//! The driver ends every exchange with exactly one `Done`, and the typed
//! [`Exchange`] turns it into the command's own result, so the per-command
//! code (in `commands`) sees only what its command can answer. Every line
//! sent and every final reply is logged to the console here, once.

use crate::model::{LineKind, Model};
use crate::transport::{Conn, ConnError};
use ferry_proto::{Command, Done, Event, Exchange, ProtoError, Refusal};
use std::future::Future;
use std::pin::Pin;

/// Why an exchange did not succeed, with the connection still usable.
#[derive(Debug, Clone)]
pub enum Failed {
    /// The server refused the command.
    Refused(Refusal),
    /// The server answered with success, but not in a form this command
    /// allows (e.g. a listing that breaks the format).
    Unreadable(ProtoError),
}

/// What a command does with its data phase (between `150` and the final
/// reply). The driver announces data only for RETRIEVE and READ (a LIST's
/// bytes it gathers itself) and asks for it only for STORE, which the
/// session never sends (uploads run on their own connections), so a `150`
/// asking for bytes is only logged. Used as `dyn` so the exchange loop
/// exists once, not once per data phase.
pub trait DataPhase {
    /// RETRIEVE's `150`: `len` bytes follow.
    fn incoming(&mut self, _len: u64) {}

    /// A slice of the announced bytes (borrowed: copy only what is kept).
    fn received(&mut self, _bytes: &[u8]) {}
}

/// The data phase of a command that has none.
pub struct NoData;

impl DataPhase for NoData {}

/// What the driver's outcome of an exchange is, or `Err` when the connection is over.
pub type Outcome = Result<Result<Done, Refusal>, ConnError>;

/// Sends `command` and drives its exchange to the driver's one outcome.
/// Boxed and not generic, so its loop is compiled once and not inlined into
/// every request that runs an exchange (it was most of the page's size).
pub fn finish<'a>(
    conn: &'a mut Conn,
    model: Model,
    command: Command,
    data: &'a mut dyn DataPhase,
) -> Pin<Box<dyn Future<Output = Outcome> + 'a>> {
    Box::pin(drive(conn, model, command, data))
}

/// The exchange's own result, from the driver's outcome.
pub fn settle<E: Exchange>(
    exchange: &E,
    outcome: Result<Done, Refusal>,
) -> Result<E::Success, Failed> {
    match outcome {
        Ok(done) => exchange.success(done).map_err(Failed::Unreadable),
        Err(refusal) => Err(Failed::Refused(refusal)),
    }
}

/// An exchange as `dyn`, for the requests that keep nothing of its success
/// but whether it came (the reply is logged anyway): they are compiled
/// once, not once per exchange type.
pub trait Checked {
    /// [`Exchange::command`].
    fn line(&self) -> Command;
    /// [`Exchange::subject`].
    fn about(&self) -> Option<&str>;
    /// [`Exchange::success`], without its value.
    fn check(&self, done: Done) -> Result<(), ProtoError>;
}

impl<E: Exchange> Checked for E {
    fn line(&self) -> Command {
        self.command()
    }

    fn about(&self) -> Option<&str> {
        self.subject()
    }

    fn check(&self, done: Done) -> Result<(), ProtoError> {
        self.success(done).map(drop)
    }
}

async fn drive(
    conn: &mut Conn,
    model: Model,
    command: Command,
    data: &mut dyn DataPhase,
) -> Outcome {
    let line = command.to_string();
    model.busy_with(Some(line.clone()));
    model.log_line(LineKind::Sent, line);
    conn.start(&command).await?;
    let outcome = loop {
        match conn.next_event().await? {
            Event::Incoming { reply, len } => {
                model.log_line(LineKind::Received, reply.to_string());
                data.incoming(len);
            }
            Event::Data(bytes) => data.received(&bytes),
            Event::Send { reply, .. } => model.log_line(LineKind::Received, reply.to_string()),
            Event::Done(outcome) => break outcome,
            // The driver yields these only between exchanges.
            Event::Greeting(reply) | Event::Closing(reply) => {
                return Err(conn.broken(ProtoError::UnexpectedReply(reply.to_string())))
            }
        }
    };
    let reply = match &outcome {
        Ok(done) => &done.reply,
        Err(refusal) => &refusal.reply,
    };
    model.log_line(LineKind::Received, reply.to_string());
    Ok(outcome)
}
