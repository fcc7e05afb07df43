//! Failed logins per client address (docs/PROTOCOL.md §3.5): the N-th
//! failure within the window, counted from the first failure, locks the
//! address out until that window ends. One table for the whole server, so
//! every listener (the main one, the proxy listener, the FTP door) counts
//! into the same place and the admission of new connections looks there.
//!
//! Why not `governor`: it is a GCRA rate limiter, a bucket that refills
//! continuously, so a client held back would get one more attempt every
//! window/N instead of none until the window ends; checking it spends a
//! cell, so "is this address locked out?" at connect time cannot be asked
//! without counting as an attempt; a success cannot be left out of the
//! count without not asking at all; and its keyed store grows until someone
//! calls `retain_recent`. The rule here is a fixed window anchored at the
//! first failure, which is a map and a comparison.
//!
//! Memory is bounded: an entry lives as long as its window (it is dropped
//! when its address is next looked at after that, or when room is needed),
//! and the table holds at most [`MAX_TRACKED`] addresses. When it is full,
//! expired entries go first, and if none has expired, the one whose window
//! ends soonest.
//! (An attacker with that many addresses can push an address out early;
//! one with that many addresses is not slowed down by a per-address count
//! anyway.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most client addresses with failures remembered at once (about 3 MiB).
pub const MAX_TRACKED: usize = 65_536;

/// What a failed login means for its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Below the limit: `530 Login incorrect`.
    Counted,
    /// The limit is reached: `421 Too many failed logins`, and the address
    /// is locked out until its window ends.
    LockedOut,
}

/// The failed logins of every client address, shared by all listeners.
#[derive(Debug)]
pub(crate) struct FailedLogins {
    limit: u32,
    window: Duration,
    capacity: usize,
    table: Mutex<HashMap<IpAddr, Failures>>,
}

/// One address's failures within its current window.
#[derive(Debug, Clone, Copy)]
struct Failures {
    first: Instant,
    count: u32,
}

impl Failures {
    fn current(&self, window: Duration, now: Instant) -> bool {
        now.saturating_duration_since(self.first) < window
    }
}

impl FailedLogins {
    /// `limit` failures within `window` (from the first) lock an address out.
    pub(crate) fn new(limit: u32, window: Duration) -> FailedLogins {
        FailedLogins::with_capacity(limit, window, MAX_TRACKED)
    }

    fn with_capacity(limit: u32, window: Duration, capacity: usize) -> FailedLogins {
        FailedLogins {
            limit,
            window,
            capacity: capacity.max(1),
            table: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `client` is locked out now: new connections get `421`
    /// instead of `220`, and a PASS gets `421` without being checked.
    pub(crate) fn is_locked_out(&self, client: IpAddr) -> bool {
        self.is_locked_out_at(key(client), Instant::now())
    }

    /// Counts a failed login from `client`.
    pub(crate) fn record(&self, client: IpAddr) -> Failure {
        self.record_at(key(client), Instant::now())
    }

    /// Also forgets the address's failures once their window is over.
    fn is_locked_out_at(&self, client: IpAddr, now: Instant) -> bool {
        let mut table = self.table.lock().expect("never poisoned");
        match table.get(&client) {
            Some(failures) if failures.current(self.window, now) => failures.count >= self.limit,
            Some(_) => {
                table.remove(&client);
                false
            }
            None => false,
        }
    }

    fn record_at(&self, client: IpAddr, now: Instant) -> Failure {
        let mut table = self.table.lock().expect("never poisoned");
        let count = match table.get_mut(&client) {
            Some(failures) if failures.current(self.window, now) => {
                failures.count = failures.count.saturating_add(1);
                failures.count
            }
            Some(failures) => {
                *failures = Failures {
                    first: now,
                    count: 1,
                };
                1
            }
            None => {
                if table.len() >= self.capacity {
                    self.make_room(&mut table, now);
                }
                table.insert(
                    client,
                    Failures {
                        first: now,
                        count: 1,
                    },
                );
                1
            }
        };
        if count >= self.limit {
            Failure::LockedOut
        } else {
            Failure::Counted
        }
    }

    /// Drops the expired entries, or if none has expired the oldest one.
    /// Linear in the table, but only when it is full, and each call comes
    /// after a failed password check (an Argon2id computation).
    fn make_room(&self, table: &mut HashMap<IpAddr, Failures>, now: Instant) {
        table.retain(|_, failures| failures.current(self.window, now));
        if table.len() >= self.capacity {
            let oldest = table
                .iter()
                .min_by_key(|(_, failures)| failures.first)
                .map(|(addr, _)| *addr);
            if let Some(oldest) = oldest {
                table.remove(&oldest);
            }
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.table.lock().expect("never poisoned").len()
    }
}

/// One key per address: an IPv4 client seen as `::ffff:a.b.c.d` (a
/// dual-stack listener) counts as `a.b.c.d`.
fn key(client: IpAddr) -> IpAddr {
    client.to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(600);

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_nth_failure_within_the_window_locks_out_until_it_ends() {
        let failures = FailedLogins::new(3, WINDOW);
        let start = Instant::now();
        let a = ip("192.0.2.1");
        assert_eq!(failures.record_at(a, start), Failure::Counted);
        assert!(!failures.is_locked_out_at(a, start));
        let later = start + Duration::from_secs(500);
        assert_eq!(failures.record_at(a, later), Failure::Counted);
        assert_eq!(failures.record_at(a, later), Failure::LockedOut);
        assert!(failures.is_locked_out_at(a, later));
        assert!(!failures.is_locked_out_at(ip("192.0.2.2"), later));
        // Counted from the first failure, not the last.
        let just_before = start + WINDOW - Duration::from_millis(1);
        assert!(failures.is_locked_out_at(a, just_before));
        assert!(!failures.is_locked_out_at(a, start + WINDOW));
        assert_eq!(failures.tracked(), 0, "forgotten once looked at");
        // A new window starts with the next failure.
        assert_eq!(failures.record_at(a, start + WINDOW), Failure::Counted);
        assert!(!failures.is_locked_out_at(a, start + WINDOW));
    }

    #[test]
    fn failures_outside_the_window_start_again() {
        let failures = FailedLogins::new(2, WINDOW);
        let start = Instant::now();
        let a = ip("2001:db8::1");
        assert_eq!(failures.record_at(a, start), Failure::Counted);
        assert_eq!(failures.record_at(a, start + WINDOW), Failure::Counted);
        assert_eq!(
            failures.record_at(a, start + WINDOW + Duration::from_secs(1)),
            Failure::LockedOut
        );
    }

    #[test]
    fn a_limit_of_one_locks_out_at_the_first_failure() {
        let failures = FailedLogins::new(1, WINDOW);
        assert_eq!(failures.record(ip("10.0.0.1")), Failure::LockedOut);
        assert!(failures.is_locked_out(ip("10.0.0.1")));
    }

    #[test]
    fn an_ipv4_mapped_address_is_its_ipv4_address() {
        let failures = FailedLogins::new(2, WINDOW);
        failures.record(ip("::ffff:192.0.2.7"));
        assert_eq!(failures.record(ip("192.0.2.7")), Failure::LockedOut);
        assert!(failures.is_locked_out(ip("::ffff:192.0.2.7")));
    }

    #[test]
    fn the_table_is_bounded_dropping_expired_entries_then_the_oldest() {
        let failures = FailedLogins::with_capacity(2, WINDOW, 3);
        let start = Instant::now();
        let (a, b, c, d, e) = (
            ip("10.0.0.1"),
            ip("10.0.0.2"),
            ip("10.0.0.3"),
            ip("10.0.0.4"),
            ip("10.0.0.5"),
        );
        failures.record_at(a, start);
        failures.record_at(a, start);
        failures.record_at(b, start + Duration::from_secs(1));
        failures.record_at(c, start + Duration::from_secs(2));
        assert_eq!(failures.tracked(), 3);
        // Full, nothing expired: the oldest (a, locked out) goes.
        failures.record_at(d, start + Duration::from_secs(3));
        assert_eq!(failures.tracked(), 3);
        assert!(!failures.is_locked_out_at(a, start + Duration::from_secs(3)));
        // Full again, all expired but d: they all go, d stays.
        let late = start + WINDOW + Duration::from_secs(2);
        failures.record_at(e, late);
        assert_eq!(failures.tracked(), 2);
        assert_eq!(failures.record_at(d, late), Failure::LockedOut);
    }
}
