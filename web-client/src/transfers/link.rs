//! A transfer's own connection (§1 of the contract: one per transfer):
//! open, greeting, login as the session did, then one exchange. Every step
//! ends in a [`Stop`] that says whether trying again can help.

use crate::endpoint::Endpoint;
use crate::transport::{Conn, ConnError, Data, Piece};
use ferry_proto::{
    close, Command, Done, Event, Exchange, Login, Pass, Password, Refusal, RefusalKind, User,
};
use futures::FutureExt;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// Why a transfer's connection stopped short of success.
#[derive(Debug)]
pub enum Stop {
    /// The connection ended (dropped, bridge or server gone, `421`).
    Lost(ConnError),
    /// The server refused a command; the connection may still be open.
    Refused(Refusal),
    /// The server answered in a way the command cannot accept, or the page failed.
    Broken(String),
}

impl Stop {
    /// Whether a new connection may do better (a drop, a busy server, an
    /// upload still in progress on the connection that dropped).
    pub fn is_transient(&self) -> bool {
        match self {
            // The bridge refusing the target is not going to change.
            Stop::Lost(ConnError::Closed { code, .. }) => *code != close::POLICY_VIOLATION,
            Stop::Lost(ConnError::ServerClosing(_) | ConnError::Send(_)) => true,
            Stop::Lost(_) | Stop::Broken(_) => false,
            Stop::Refused(refusal) => matches!(
                refusal.kind(),
                RefusalKind::UploadInProgress | RefusalKind::TryLater | RefusalKind::Closing
            ),
        }
    }
}

impl From<ConnError> for Stop {
    fn from(error: ConnError) -> Stop {
        Stop::Lost(error)
    }
}

/// The socket of the connection a transfer is using right now, so Cancel
/// can close it from outside the transfer's task.
pub type Socket = Rc<RefCell<Option<web_sys::WebSocket>>>;

/// Opens a connection to `endpoint`, reads the greeting and logs in.
pub async fn open(endpoint: &Endpoint, socket: &Socket) -> Result<Conn, Stop> {
    let mut conn = Conn::open(&endpoint.url).map_err(Stop::Broken)?;
    *socket.borrow_mut() = Some(conn.raw());
    conn.greeting().await?;
    if let Some(login) = &endpoint.login {
        let user = User(login.account.clone());
        if run(&mut conn, &user, no_data).await? == Login::PasswordRequired {
            let pass = Pass(Password::new(login.password.clone()));
            run(&mut conn, &pass, no_data).await?;
        }
    }
    Ok(conn)
}

/// What the data phase of an exchange sees.
pub enum Step<'a> {
    /// `150` for RETRIEVE/READ: this many bytes follow.
    Incoming(u64),
    /// Some of them, in JS memory.
    Bytes(&'a js_sys::Uint8Array),
}

/// Runs `exchange` to its end, handing a download's data to `data`
/// (uploads send from their own loop, in `upload`).
pub fn run<'a, E: Exchange + ?Sized>(
    conn: &'a mut Conn,
    exchange: &'a E,
    data: impl FnMut(Step<'_>) -> Result<(), Stop> + 'a,
) -> impl Future<Output = Result<E::Success, Stop>> + 'a {
    drive(conn, exchange.command(), Box::new(data)).map(move |done| finish(exchange, done?))
}

/// The data phase of an exchange without one (a function, not a closure
/// per call: one type, so one vtable).
pub fn no_data(_: Step<'_>) -> Result<(), Stop> {
    Ok(())
}

/// What a download's data phase does with each step.
type OnStep<'a> = Box<dyn FnMut(Step<'_>) -> Result<(), Stop> + 'a>;

/// The driver's outcome of an exchange, or why the connection stopped.
type Outcome = Result<Result<Done, Refusal>, Stop>;

/// The exchange loop of [`run`]: boxed and not generic, so it is compiled
/// once rather than into each of the exchanges a transfer runs.
fn drive<'a>(
    conn: &'a mut Conn,
    command: Command,
    mut data: OnStep<'a>,
) -> Pin<Box<dyn Future<Output = Outcome> + 'a>> {
    Box::pin(async move {
        conn.start(&command).await?;
        loop {
            match conn.next_piece(Data::InBrowser).await? {
                Piece::Bytes(bytes) => data(Step::Bytes(&bytes))?,
                Piece::Event(Event::Data(bytes)) => {
                    data(Step::Bytes(&js_sys::Uint8Array::from(&bytes[..])))?
                }
                Piece::Event(Event::Incoming { len, .. }) => data(Step::Incoming(len))?,
                Piece::Event(Event::Done(done)) => return Ok(done),
                Piece::Event(
                    Event::Send { reply, .. } | Event::Greeting(reply) | Event::Closing(reply),
                ) => {
                    return Err(Stop::Lost(conn.broken(
                        ferry_proto::ProtoError::UnexpectedReply(reply.to_string()),
                    )))
                }
            }
        }
    })
}

/// The exchange's own success, from the driver's outcome.
pub fn finish<E: Exchange + ?Sized>(
    exchange: &E,
    done: Result<Done, Refusal>,
) -> Result<E::Success, Stop> {
    match done {
        Ok(done) => exchange
            .success(done)
            .map_err(|e| Stop::Broken(format!("unexpected answer: {e}"))),
        Err(refusal) => Err(Stop::Refused(refusal)),
    }
}

/// Plain words for a stop, about `subject`.
pub fn words(stop: &Stop, subject: &str) -> String {
    match stop {
        Stop::Lost(error) => crate::messages::transfer_cut(error),
        Stop::Refused(refusal) => refusal.describe(Some(subject)),
        Stop::Broken(why) => why.clone(),
    }
}
