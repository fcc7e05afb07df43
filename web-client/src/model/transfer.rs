//! One download or upload as the transfer list shows it: its own signals,
//! so a progress update redraws one row, not the list.

use crate::transfers::Verify;
use leptos::prelude::*;

/// Which way a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// RETRIEVE.
    Download,
    /// STORE or RESUME.
    Upload,
}

/// Where a transfer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferStatus {
    /// Waiting for a free connection (at most three transfers run at once).
    Queued,
    /// Bytes are moving.
    Running,
    /// The connection dropped; the text says when the next attempt is.
    Retrying(String),
    /// Finished; the text says how.
    Done(String),
    /// Did not finish; the text says why, in plain words.
    Failed(String),
    /// Cancelled by the user; nothing was kept.
    Cancelled,
}

/// One download or upload. `Copy`: every field is an arena handle.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    /// Unique within the page.
    pub id: u64,
    name: StoredValue<String>,
    /// Download or upload.
    pub direction: Direction,
    total: RwSignal<Option<u64>>,
    moved: RwSignal<u64>,
    status: RwSignal<TransferStatus>,
    /// Bytes per second, smoothed; `None` until measured.
    rate: RwSignal<Option<f64>>,
    /// The last progress sample: time in ms and bytes moved.
    sample: StoredValue<Option<(f64, u64)>>,
    /// When `moved` was last set (ms since the epoch).
    shown: StoredValue<f64>,
    verify: RwSignal<Option<Verify>>,
}

/// Samples closer together than this do not update the rate.
const RATE_SAMPLE_MS: f64 = 500.0;
/// Weight of the newest sample in the smoothed rate.
const RATE_WEIGHT: f64 = 0.3;
/// `moved` changes at most this often (and always at the end): every change
/// redraws the row (style, layout, paint, and a hit test for the pointer
/// resting on the page), and the page's one thread that draws also moves
/// the transfer's bytes. Drawn at the frame rate, uploads lost a good part
/// of their speed; every 100 ms still cost downloads about 7% (a Chromium
/// trace of scripts/bench.sh web: 35 frames, 240 ms of 3.5 s).
const PROGRESS_EVERY_MS: f64 = 250.0;

impl Transfer {
    /// A queued transfer of `name`; `total` is its size when already known.
    pub fn new(id: u64, name: &str, direction: Direction, total: Option<u64>) -> Transfer {
        Transfer {
            id,
            name: StoredValue::new(name.to_string()),
            direction,
            total: RwSignal::new(total),
            moved: RwSignal::new(0),
            status: RwSignal::new(TransferStatus::Queued),
            rate: RwSignal::new(None),
            sample: StoredValue::new(None),
            shown: StoredValue::new(0.0),
            verify: RwSignal::new(None),
        }
    }

    /// The file's name (for an upload of a folder, its path below the drop).
    pub fn name(&self) -> String {
        self.name.get_value()
    }

    /// Total bytes, once known (tracked).
    pub fn total(&self) -> Option<u64> {
        self.total.get()
    }

    /// Total bytes, once known, outside the reactive graph.
    pub fn total_untracked(&self) -> Option<u64> {
        self.total.get_untracked()
    }

    /// Bytes moved so far (tracked).
    pub fn moved(&self) -> u64 {
        self.moved.get()
    }

    /// Whether every byte of an upload has left the browser (untracked):
    /// closing its socket now may no longer stop it.
    pub fn all_sent_untracked(&self) -> bool {
        self.direction == Direction::Upload
            && self
                .total_untracked()
                .is_some_and(|total| self.moved.get_untracked() >= total)
            && self.status.get_untracked() == TransferStatus::Running
    }

    /// Queued, running, done or failed (tracked).
    pub fn status(&self) -> TransferStatus {
        self.status.get()
    }

    /// Bytes per second, once measured (tracked).
    pub fn rate(&self) -> Option<f64> {
        self.rate.get()
    }

    /// Seconds left at the current rate, while running (tracked).
    pub fn seconds_left(&self) -> Option<f64> {
        let rate = self.rate()?;
        let left = self.total()?.saturating_sub(self.moved());
        (rate > 0.0).then(|| left as f64 / rate)
    }

    /// The result of a SHA-256 check, if one was asked for (tracked).
    pub fn verify(&self) -> Option<Verify> {
        self.verify.get()
    }

    /// Whether the transfer is over, one way or the other.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.status.get_untracked(),
            TransferStatus::Done(_) | TransferStatus::Failed(_) | TransferStatus::Cancelled
        )
    }

    /// The size is now known (a download's `150`).
    pub fn set_total(&self, total: u64) {
        self.total.set(Some(total));
    }

    /// Bytes are moving.
    pub fn start(&self) {
        self.status.set(TransferStatus::Running);
    }

    /// `moved` bytes are through so far; the rate follows.
    pub fn progress(&self, moved: u64) {
        let now = js_sys::Date::now();
        match self.sample.get_value() {
            None => self.sample.set_value(Some((now, moved))),
            Some((at, before)) if now - at >= RATE_SAMPLE_MS => {
                let fresh = moved.saturating_sub(before) as f64 * 1000.0 / (now - at);
                let rate = match self.rate.get_untracked() {
                    Some(old) => old + RATE_WEIGHT * (fresh - old),
                    None => fresh,
                };
                self.rate.set(Some(rate));
                self.sample.set_value(Some((now, moved)));
            }
            Some(_) => {}
        }
        let end = self
            .total
            .get_untracked()
            .is_some_and(|total| moved >= total);
        if end || now - self.shown.get_value() >= PROGRESS_EVERY_MS {
            self.shown.set_value(now);
            self.moved.set(moved);
        }
    }

    /// The connection dropped; another attempt comes (`when`, in words).
    pub fn retrying(&self, when: impl Into<String>) {
        self.rate.set(None);
        self.sample.set_value(None);
        self.shown.set_value(0.0);
        self.status.set(TransferStatus::Retrying(when.into()));
    }

    /// Finished; `how` says how.
    pub fn succeed(&self, how: impl Into<String>) {
        self.status.set(TransferStatus::Done(how.into()));
    }

    /// Did not finish; `why` says why.
    pub fn fail(&self, why: impl Into<String>) {
        self.status.set(TransferStatus::Failed(why.into()));
    }

    /// Cancelled by the user.
    pub fn cancelled(&self) {
        self.status.set(TransferStatus::Cancelled);
    }

    /// A SHA-256 check started or ended.
    pub fn set_verify(&self, verify: Verify) {
        self.verify.set(Some(verify));
    }
}
