//! Letting a client connection in, and bounding what it holds before it
//! becomes a relay.
//!
//! Measured from outside, connections that send half a request head used
//! to stay open for good (about 25 KiB each, the descriptor limit the only
//! cap), so one client could lock everyone out. Three bounds close that:
//!
//! * a connection is refused at once (closed, nothing read) when its
//!   address already holds `max_per_address` connections, relays included
//!   ([`PerAddress`]), or when `max_pending` connections are open that have
//!   not become relays;
//! * the first request head must be complete within `header_timeout` of
//!   the accept. hyper's own header timeout starts only once it reads the
//!   head, after hyper-util has sniffed the first bytes for an HTTP/2
//!   preface with no timeout at all, so the deadline is kept here, on the
//!   socket's reads ([`Ticket::poll_in_time`]); later heads on a kept-alive
//!   connection are hyper's (`header_read_timeout`, set to the same). An
//!   HTTP/2 request does not lift the deadline: relays need HTTP/1.1, and
//!   an HTTP/2 connection would otherwise idle unbounded;
//! * a head larger than `max_request_head` gets 431 from hyper (its read
//!   buffer is capped at that size).
//!
//! A connection leaves the pending count when its WebSocket upgrade is done
//! ([`PendingSlot::upgraded`]); from then on the relay limits apply.

use ferry_program::{AddressSlot, PerAddress};
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

/// The bounds every new connection passes.
#[derive(Debug, Clone)]
pub(crate) struct Door {
    /// One permit per connection that is not a relay yet.
    pending: Arc<Semaphore>,
    /// Connections per client address.
    per_address: PerAddress,
    /// Time from the accept to a complete first request head.
    header_timeout: Duration,
}

/// Why a connection was closed at once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refused {
    /// The address holds `max_per_address` connections.
    AddressFull,
    /// `max_pending` connections are not relays yet.
    TooManyPending,
}

/// What an admitted connection carries until it closes: its address slot,
/// its pending slot, and the first head's deadline.
#[derive(Debug)]
pub(crate) struct Ticket {
    _address: AddressSlot,
    pending: PendingSlot,
    /// `None` once the first HTTP/1 head arrived.
    deadline: Option<Pin<Box<Sleep>>>,
}

/// The connection's place among those that are not relays yet; shared with
/// its requests (as an extension) so the head and the upgrade are seen.
#[derive(Debug, Clone)]
pub(crate) struct PendingSlot(Arc<PendingState>);

#[derive(Debug)]
struct PendingState {
    /// Given back on upgrade or with the connection.
    permit: Mutex<Option<OwnedSemaphorePermit>>,
    /// Set by the first HTTP/1 request: the deadline no longer applies.
    head_seen: AtomicBool,
}

impl Door {
    pub(crate) fn new(
        max_pending: usize,
        max_per_address: usize,
        header_timeout: Duration,
    ) -> Door {
        Door {
            pending: Arc::new(Semaphore::new(max_pending)),
            per_address: PerAddress::new(max_per_address),
            header_timeout,
        }
    }

    /// A ticket for a new connection from `addr`, or why it is refused.
    pub(crate) fn admit(&self, addr: IpAddr) -> Result<Ticket, Refused> {
        let address = self
            .per_address
            .try_acquire(addr)
            .map_err(|_| Refused::AddressFull)?;
        let permit = Arc::clone(&self.pending)
            .try_acquire_owned()
            .map_err(|_| Refused::TooManyPending)?;
        Ok(Ticket {
            _address: address,
            pending: PendingSlot(Arc::new(PendingState {
                permit: Mutex::new(Some(permit)),
                head_seen: AtomicBool::new(false),
            })),
            deadline: Some(Box::pin(tokio::time::sleep(self.header_timeout))),
        })
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::AddressFull => "too many connections from this address (--max-per-address)",
            Refused::TooManyPending => "too many connections not yet relays (--max-pending)",
        })
    }
}

impl Ticket {
    /// The slot to hand to the connection's requests.
    pub(crate) fn pending(&self) -> PendingSlot {
        self.pending.clone()
    }

    /// Before each read: an error once the first head's deadline has
    /// passed without it (the read then fails and hyper closes the
    /// connection); otherwise ready, with the deadline's wake-up registered.
    pub(crate) fn poll_in_time(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(deadline) = &mut self.deadline else {
            return Poll::Ready(Ok(()));
        };
        if self.pending.0.head_seen.load(Ordering::Acquire) {
            self.deadline = None;
            return Poll::Ready(Ok(()));
        }
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request head did not arrive in time (--header-timeout)",
            ))),
            Poll::Pending => Poll::Ready(Ok(())),
        }
    }
}

impl PendingSlot {
    /// A request head arrived; an HTTP/1 one lifts the first head's deadline.
    pub(crate) fn head_received(&self, version: axum::http::Version) {
        if version < axum::http::Version::HTTP_2 {
            self.0.head_seen.store(true, Ordering::Release);
        }
    }

    /// The connection is a relay now: it no longer counts as pending.
    pub(crate) fn upgraded(&self) {
        let permit = self
            .0
            .permit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(permit);
    }
}
