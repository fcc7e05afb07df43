//! A download's data phase: each slice is copied out of WASM memory into a
//! JS `Uint8Array` as it arrives, and the parts become one `Blob` at the end,
//! so the page never holds the file in WASM memory.

use super::exchange::DataPhase;
use crate::browser;
use crate::model::Transfer;

/// Progress is shown about every 1/200 of the file, within these bounds.
const PROGRESS_STEP_MIN: u64 = 64 * 1024;
const PROGRESS_STEP_MAX: u64 = 1024 * 1024;

/// The parts of one download received so far.
pub struct Download {
    transfer: Transfer,
    parts: js_sys::Array,
    received: u64,
    reported: u64,
}

impl Download {
    /// An empty download shown in `transfer`.
    pub fn new(transfer: Transfer) -> Download {
        Download {
            transfer,
            parts: js_sys::Array::new(),
            received: 0,
            reported: 0,
        }
    }

    /// Bytes received so far.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    /// Hands the whole file to the browser to save as `name`.
    pub fn save(&self, name: &str) -> Result<(), String> {
        self.transfer.progress(self.received);
        browser::save_download(&self.parts, name)
    }
}

impl DataPhase for Download {
    fn incoming(&mut self, len: u64) {
        self.transfer.set_total(len);
    }

    fn received(&mut self, bytes: &[u8]) {
        self.parts.push(&js_sys::Uint8Array::from(bytes));
        self.received += bytes.len() as u64;
        let total = self.transfer.total_untracked().unwrap_or(0);
        let step = (total / 200).clamp(PROGRESS_STEP_MIN, PROGRESS_STEP_MAX);
        if self.received - self.reported >= step || self.received == total {
            self.transfer.progress(self.received);
            self.reported = self.received;
        }
    }
}
