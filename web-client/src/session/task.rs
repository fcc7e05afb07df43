//! The connection's task: the greeting, then requests one at a time from a
//! queue until the connection ends; then whatever is still queued fails and
//! the page is told, in plain words, how the connection ended.
//!
//! One task owns the [`Conn`], so exchanges never interleave; while idle it
//! waits for a request and for the server's `421` at the same time.

use super::queue::Receiver;
use super::{Request, Rows, Session};
use crate::browser;
use crate::endpoint::{Endpoint, EndpointSignal};
use crate::messages::{self, Closer};
use crate::model::{LineKind, Model};
use crate::transport::{Conn, ConnError};
use ferry_proto::{close, Event};
use leptos::prelude::{GetValue, Set, SetValue};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

/// Runs the connection to its end and reports how it ended.
pub(super) async fn run(mut conn: Conn, mut requests: Receiver, session: Session, bridge: String) {
    let model = session.model;
    let mut task = Task {
        conn: &mut conn,
        session,
        bridge: &bridge,
        model,
        endpoint: session.endpoint,
        quitting: false,
        user: None,
    };
    let end = task.run(&mut requests).await;
    let closer = if task.quitting || session.closed_by_user.get_value() {
        Closer::User
    } else {
        Closer::Unasked
    };
    session.endpoint.set(None);
    session.requests.set_value(None);
    session.socket.set_value(None);
    requests.close();
    model.disconnected();
    if let ConnError::ServerClosing(reply) = &end {
        model.log_line(LineKind::Received, reply.to_string());
    }
    let text = messages::connection_end(&end, closer, &bridge);
    let normal = matches!(
        end,
        ConnError::Closed {
            code: close::NORMAL,
            ..
        }
    );
    // Disconnected by the user: a reload shows the form. Cut otherwise
    // (the bridge or server went away, the page closing), a reload tries again.
    if closer == Closer::User && !session.reconnect.get_value() {
        browser::forget_connection();
    }
    if session.reconnect.get_value() {
        // Log out: a new session, which starts logged out.
        model.log_line(LineKind::Info, "Logged out.");
        session.connect(session.target.get_value());
        model.notify("Logged out.");
    } else if closer == Closer::User && normal {
        model.info(text);
    } else {
        model.error(text);
    }
}

/// The task while its connection is open.
pub(super) struct Task<'c> {
    pub(super) conn: &'c mut Conn,
    session: Session,
    /// The bridge URL the connection was opened with.
    bridge: &'c str,
    pub(super) model: Model,
    pub(super) endpoint: EndpointSignal,
    /// The server answered our QUIT.
    pub(super) quitting: bool,
    /// The account of a `USER` typed in the console, for its `PASS`.
    pub(super) user: Option<String>,
}

impl Task<'_> {
    /// Runs the connection; returns how it ended.
    async fn run(&mut self, requests: &mut Receiver) -> ConnError {
        match self.conn.greeting().await {
            Ok(reply) => {
                self.model.connected(&reply);
                let target = self.session.target.get_value();
                browser::remember_connection(self.bridge, target.as_deref());
                self.endpoint.set(Some(Endpoint {
                    url: self.conn.raw().url(),
                    login: None,
                }));
            }
            Err(end) => return end,
        }
        let mut queue = VecDeque::from([
            Request::List {
                dir: self.model.cwd_untracked(),
                rows: Rows::TableOnly,
            },
            Request::CheckAccess,
        ]);
        let mut refresh = false;
        loop {
            while let Some(request) = requests.try_next() {
                queue.push_back(request);
            }
            let request = match queue.pop_front() {
                Some(request) => request,
                None if refresh => {
                    refresh = false;
                    Request::List {
                        dir: self.model.cwd_untracked(),
                        rows: Rows::TableOnly,
                    }
                }
                None => match self.idle(requests).await {
                    Ok(request) => request,
                    Err(end) => return end,
                },
            };
            match self.execute(request).await {
                Ok(files_changed) => refresh |= files_changed,
                Err(end) => return end,
            }
            if self.quitting {
                self.conn.close(close::NORMAL, "QUIT");
                return self.conn.wait_closed().await;
            }
            if self.conn.is_closed() {
                // The server answered with 421: it closes the connection now.
                return self.conn.wait_closed().await;
            }
        }
    }

    /// Waits for the next request, noticing meanwhile the server closing the
    /// session (`421`, e.g. idle timeout) or the connection dropping.
    async fn idle(&mut self, requests: &mut Receiver) -> Result<Request, ConnError> {
        self.model.busy_with(None);
        loop {
            // Polled by hand rather than with `select!` (whose fairness
            // needs a random source); a request ready first wins, and
            // dropping `event` loses nothing (it takes a message only to return it).
            let next = {
                let mut event = pin!(self.conn.next_event());
                poll_fn(|cx| match requests.poll_next(cx) {
                    Poll::Ready(request) => Poll::Ready(Ok(request)),
                    Poll::Pending => event.as_mut().poll(cx).map(Err),
                })
                .await
            };
            match next {
                Ok(Some(request)) => return Ok(request),
                Ok(None) => {
                    self.conn.close(close::NORMAL, "page closed");
                    return Err(self.conn.wait_closed().await);
                }
                Err(Ok(Event::Closing(reply))) => {
                    self.conn.wait_closed().await;
                    return Err(ConnError::ServerClosing(reply));
                }
                // The driver yields nothing else between exchanges.
                Err(Ok(_)) => continue,
                Err(Err(end)) => return Err(end),
            }
        }
    }
}
