//! Letting a client connection in, and bounding what it holds before it
//! becomes a relay.
//!
//! Measured from outside, connections that send half a request head used
//! to stay open for good (about 25 KiB each, the descriptor limit the only
//! cap), so one client could lock everyone out. Three bounds close that:
//!
//! * a connection is refused at once (closed, nothing read) when its
//!   address already holds `max_per_address` connections, relays included
//!   ([`PerAddress`]);
//! * at most `max_pending` connections are open that have not become
//!   relays. When that many are open, a new one takes the place of the
//!   oldest that has not sent a complete head yet, which is closed
//!   ([`PendingBook`]); only when every pending connection has sent one
//!   (plain HTTP, kept alive) is the new one refused. A plain cap let 16
//!   addresses × 64 silent connections shut everyone out for the header
//!   timeout, and a per-address share of it still yields to enough
//!   addresses (an IPv6 /64 is 2^64 of them). Evicting the oldest means
//!   that to keep a newcomer out an attacker must open `max_pending`
//!   connections within the newcomer's own head time (milliseconds: about
//!   a million a second at the default), and each of its connections then
//!   lives only until `max_pending` newer ones arrived;
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
//!
//! Refusals and evictions are logged at info, but at most once a second
//! with the counts since the last line ([`Notices`]): under a flood, one
//! line per connection would be a second flood, into the logs.

use ferry_program::{AddressSlot, PerAddress};
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// The bounds every new connection passes.
#[derive(Debug, Clone)]
pub(crate) struct Door {
    /// The connections that are not relays yet.
    pending: Arc<PendingBook>,
    /// Connections per client address.
    per_address: PerAddress,
    /// Time from the accept to a complete first request head.
    header_timeout: Duration,
    notices: Arc<Notices>,
}

/// Counts of connections turned away, logged at most once a second.
#[derive(Debug, Default)]
struct Notices(Mutex<NoticeCounts>);

#[derive(Debug, Default)]
struct NoticeCounts {
    /// When the last line was logged.
    logged: Option<Instant>,
    address_full: u64,
    pending_full: u64,
    evicted: u64,
}

/// What happened to a connection turned away.
#[derive(Debug, Clone, Copy)]
enum TurnedAway {
    Refused(Refused),
    /// Closed before its head for a newer connection.
    Evicted,
}

/// Least time between two lines of [`Notices`].
const NOTICE_INTERVAL: Duration = Duration::from_secs(1);

/// Why a connection was closed at once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refused {
    /// The address holds `max_per_address` connections.
    AddressFull,
    /// `max_pending` connections are not relays yet, and each has sent a
    /// complete head (none can be evicted).
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
    /// Resolves when a newer connection took this one's pending place.
    evicted: Pin<Box<WaitForCancellationFutureOwned>>,
    /// Most time the writes of a connection that is not a relay may make
    /// no progress (the header timeout: a client must read what it asked
    /// for about as promptly as it must send its head).
    stall_limit: Duration,
    /// Armed while such writes make no progress.
    write_stall: Option<Pin<Box<Sleep>>>,
}

/// The connections that are not relays yet, at most `max` of them: those
/// still waiting for their first head, oldest first (the ones a newcomer
/// may evict), and a count of those past it.
#[derive(Debug)]
struct PendingBook {
    max: usize,
    book: Mutex<Book>,
}

#[derive(Debug, Default)]
struct Book {
    /// Numbers connections in accept order.
    next: u64,
    /// Waiting for their first head, by number, each with its eviction.
    awaiting_head: BTreeMap<u64, CancellationToken>,
    /// Pending connections whose first head arrived.
    heads_seen: usize,
}

/// The connection's place among those that are not relays yet; shared with
/// its requests (as an extension) so the head and the upgrade are seen.
#[derive(Debug, Clone)]
pub(crate) struct PendingSlot(Arc<PendingState>);

#[derive(Debug)]
struct PendingState {
    /// Its number in the book.
    id: u64,
    book: Arc<PendingBook>,
    /// Set by the first HTTP/1 request: the deadline no longer applies.
    head_seen: AtomicBool,
    /// Set once its place is given back (on upgrade, or with the
    /// connection), or taken by a newer connection.
    released: AtomicBool,
}

impl Door {
    pub(crate) fn new(
        max_pending: usize,
        max_per_address: usize,
        header_timeout: Duration,
    ) -> Door {
        Door {
            pending: Arc::new(PendingBook {
                max: max_pending,
                book: Mutex::default(),
            }),
            per_address: PerAddress::new(max_per_address),
            header_timeout,
            notices: Arc::default(),
        }
    }

    /// A ticket for a new connection from `addr`, or why it is refused.
    pub(crate) fn admit(&self, addr: IpAddr) -> Result<Ticket, Refused> {
        let refused = |why| {
            self.notices
                .note(TurnedAway::Refused(why), addr, Instant::now());
            why
        };
        let address = self
            .per_address
            .try_acquire(addr)
            .map_err(|_| refused(Refused::AddressFull))?;
        let (id, evicted, made_room) = self.pending.enter().map_err(refused)?;
        if made_room {
            self.notices.note(TurnedAway::Evicted, addr, Instant::now());
        }
        Ok(Ticket {
            _address: address,
            pending: PendingSlot(Arc::new(PendingState {
                id,
                book: Arc::clone(&self.pending),
                head_seen: AtomicBool::new(false),
                released: AtomicBool::new(false),
            })),
            deadline: Some(Box::pin(tokio::time::sleep(self.header_timeout))),
            evicted: Box::pin(evicted.cancelled_owned()),
            stall_limit: self.header_timeout,
            write_stall: None,
        })
    }
}

impl PendingBook {
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for a new connection: a free one, or the place of the
    /// oldest connection still waiting for its first head (which is told
    /// to close). Its number, its own eviction, and whether another was
    /// evicted for it.
    fn enter(&self) -> Result<(u64, CancellationToken, bool), Refused> {
        let mut book = self.book();
        let full = book.awaiting_head.len() + book.heads_seen >= self.max;
        if full {
            let (_, oldest) = book
                .awaiting_head
                .pop_first()
                .ok_or(Refused::TooManyPending)?;
            oldest.cancel();
        }
        let id = book.next;
        book.next += 1;
        let evicted = CancellationToken::new();
        book.awaiting_head.insert(id, evicted.clone());
        Ok((id, evicted, full))
    }
}

impl Notices {
    /// Counts `what` (the latest from `peer`, at `now`) and logs the counts
    /// if no line was logged for [`NOTICE_INTERVAL`]; whether it logged.
    fn note(&self, what: TurnedAway, peer: IpAddr, now: Instant) -> bool {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match what {
            TurnedAway::Refused(Refused::AddressFull) => counts.address_full += 1,
            TurnedAway::Refused(Refused::TooManyPending) => counts.pending_full += 1,
            TurnedAway::Evicted => counts.evicted += 1,
        }
        if counts
            .logged
            .is_some_and(|logged| now.duration_since(logged) < NOTICE_INTERVAL)
        {
            return false;
        }
        tracing::info!(
            refused_address_full = counts.address_full,
            refused_pending_full = counts.pending_full,
            evicted_before_head = counts.evicted,
            latest_peer = %peer,
            "connections turned away (--max-per-address, --max-pending) since the last such line"
        );
        *counts = NoticeCounts {
            logged: Some(now),
            ..NoticeCounts::default()
        };
        true
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
    /// passed without it, or a newer connection took its place (the read
    /// then fails and hyper closes the connection); otherwise ready, with
    /// the wake-ups of both registered.
    pub(crate) fn poll_in_time(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(deadline) = &mut self.deadline else {
            return Poll::Ready(Ok(()));
        };
        if self.evicted.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "closed before its request head, for a newer connection (--max-pending)",
            )));
        }
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

impl Ticket {
    /// A write, flush or shutdown is waiting for the client to read: an
    /// error once that lasted the stall limit, while the connection is not
    /// a relay (relays have their own idle timeout); else pending, with the
    /// limit's wake-up registered.
    pub(crate) fn poll_write_stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if self.pending.0.released.load(Ordering::Acquire) {
            self.write_stall = None;
            return Poll::Pending;
        }
        let limit = self.stall_limit;
        let stall = self
            .write_stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stall.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not read the response (--header-timeout)",
            )),
            Poll::Pending => Poll::Pending,
        }
    }

    /// A write moved bytes (or failed): the stall, if any, is over.
    pub(crate) fn write_moved(&mut self) {
        self.write_stall = None;
    }
}

impl PendingSlot {
    /// A request head arrived; an HTTP/1 one lifts the first head's deadline.
    /// It leaves the connections a newcomer may evict (unless it has been
    /// evicted already).
    pub(crate) fn head_received(&self, version: axum::http::Version) {
        if version < axum::http::Version::HTTP_2 {
            self.0.see_head();
        }
    }

    /// The connection is a relay now: it no longer counts as pending.
    pub(crate) fn upgraded(&self) {
        self.0.release();
    }
}

impl PendingState {
    fn see_head(&self) {
        let mut book = self.book.book();
        if self.head_seen.load(Ordering::Acquire) || self.released.load(Ordering::Acquire) {
            return;
        }
        if book.awaiting_head.remove(&self.id).is_some() {
            book.heads_seen += 1;
            self.head_seen.store(true, Ordering::Release);
        }
    }

    /// Gives its place back, once; a place a newer connection took is not
    /// its own any more.
    fn release(&self) {
        let mut book = self.book.book();
        if self.released.swap(true, Ordering::AcqRel) {
            return;
        }
        if book.awaiting_head.remove(&self.id).is_none() && self.head_seen.load(Ordering::Acquire) {
            book.heads_seen -= 1;
        }
    }
}

impl Drop for PendingState {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turned_away_connections_are_logged_at_most_once_a_second_with_counts() {
        let notices = Notices::default();
        let peer: IpAddr = "127.0.0.2".parse().unwrap();
        let start = Instant::now();
        assert!(notices.note(TurnedAway::Evicted, peer, start));
        for n in 1..100u64 {
            let at = start + Duration::from_millis(n * 9);
            let what = match n % 3 {
                0 => TurnedAway::Evicted,
                1 => TurnedAway::Refused(Refused::AddressFull),
                _ => TurnedAway::Refused(Refused::TooManyPending),
            };
            assert!(!notices.note(what, peer, at), "logged again after {n}");
        }
        {
            let counts = notices.0.lock().unwrap();
            assert_eq!(
                (counts.address_full, counts.pending_full, counts.evicted),
                (33, 33, 33)
            );
        }
        assert!(notices.note(TurnedAway::Evicted, peer, start + NOTICE_INTERVAL));
        let counts = notices.0.lock().unwrap();
        assert_eq!(
            (counts.address_full, counts.pending_full, counts.evicted),
            (0, 0, 0),
            "the counts start again after each line"
        );
    }
}
