//! The relay's traffic counters: bytes each way for the closing log line,
//! and the time of the last byte for the idle and shutdown timers.
//!
//! Both directions and the timers are futures of one task and share the
//! counters by reference; that task must be `Send`, so they are atomics
//! rather than `Cell`s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Byte counts and the time of the last byte, shared by both directions.
pub(super) struct Traffic {
    /// When the relay started moving bytes.
    started: Instant,
    /// Bytes from the client to the server.
    up: AtomicU64,
    /// Bytes from the server to the client.
    down: AtomicU64,
    /// Milliseconds after `started` when bytes last moved.
    last_ms: AtomicU64,
}

impl Traffic {
    /// Zero bytes, starting now.
    pub(super) fn new() -> Traffic {
        Traffic {
            started: Instant::now(),
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            last_ms: AtomicU64::new(0),
        }
    }

    /// Counts `n` bytes from the client to the server.
    pub(super) fn count_up(&self, n: usize) {
        self.moved(&self.up, n);
    }

    /// Counts `n` bytes from the server to the client.
    pub(super) fn count_down(&self, n: usize) {
        self.moved(&self.down, n);
    }

    /// Counts `n` bytes on `counter` and notes the time.
    fn moved(&self, counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
        let now = self.started.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// Bytes from the client to the server so far.
    pub(super) fn up(&self) -> u64 {
        self.up.load(Ordering::Relaxed)
    }

    /// Bytes from the server to the client so far.
    pub(super) fn down(&self) -> u64 {
        self.down.load(Ordering::Relaxed)
    }

    /// How long no byte has moved either way.
    pub(super) fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }
}
