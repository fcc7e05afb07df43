//! One download or upload as the transfer list shows it: its own signals,
//! so a progress update redraws one row, not the list.

use leptos::prelude::*;

/// Which way a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// RETRIEVE.
    Download,
    /// STORE.
    Upload,
}

/// Where a transfer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferStatus {
    /// Waiting for earlier commands to finish.
    Queued,
    /// Bytes are moving.
    Running,
    /// Finished; the text says how.
    Done(String),
    /// Did not finish; the text says why, in plain words.
    Failed(String),
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
}

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
        }
    }

    /// The file's name.
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

    /// Queued, running, done or failed (tracked).
    pub fn status(&self) -> TransferStatus {
        self.status.get()
    }

    /// Whether the transfer is over, one way or the other.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.status.get_untracked(),
            TransferStatus::Done(_) | TransferStatus::Failed(_)
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

    /// `moved` bytes are through so far.
    pub fn progress(&self, moved: u64) {
        self.moved.set(moved);
    }

    /// Finished; `how` says how.
    pub fn succeed(&self, how: impl Into<String>) {
        self.status.set(TransferStatus::Done(how.into()));
    }

    /// Did not finish; `why` says why.
    pub fn fail(&self, why: impl Into<String>) {
        self.status.set(TransferStatus::Failed(why.into()));
    }
}
