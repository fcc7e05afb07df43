//! A download on its own connection. The bytes stay in the browser: each
//! message's data is a `Uint8Array` view handed to a list of parts, and
//! every [`COMPACT_EVERY`] bytes the parts are folded into one `Blob`
//! (which the browser keeps in its blob store, on disk when large), so
//! neither WASM memory nor the JS heap ever holds more than a few MiB of
//! the file. Cancelled or cut short, the parts are dropped: nothing is saved.

use super::link::{self, Socket, Step, Stop};
use crate::browser;
use crate::endpoint::Endpoint;
use crate::model::Transfer;
use ferry_proto::{Path, Retrieve};
use js_sys::Array;
use wasm_bindgen::JsValue;
use web_sys::{Blob, BlobPropertyBag};

/// Parts are folded into the blob each time this many bytes came in.
const COMPACT_EVERY: u64 = 8 * 1024 * 1024;
/// Progress is shown about every 1/200 of the file, within these bounds.
const PROGRESS_STEP_MIN: u64 = 64 * 1024;
const PROGRESS_STEP_MAX: u64 = 1024 * 1024;

/// The file so far: a blob and the parts received since it was made.
struct Received {
    blob: Option<Blob>,
    parts: Array,
    pending: u64,
    total: u64,
    reported: u64,
}

impl Received {
    fn push(&mut self, bytes: &js_sys::Uint8Array) -> Result<(), Stop> {
        self.parts.push(bytes);
        self.pending += u64::from(bytes.length());
        self.total += u64::from(bytes.length());
        if self.pending >= COMPACT_EVERY {
            self.compact()?;
        }
        Ok(())
    }

    /// One blob of everything so far (the parts' bytes are copied out of the JS heap).
    fn compact(&mut self) -> Result<(), Stop> {
        if let Some(blob) = self.blob.take() {
            self.parts.unshift(&blob);
        }
        let options = BlobPropertyBag::new();
        options.set_type("application/octet-stream");
        let blob = Blob::new_with_u8_array_sequence_and_options(&self.parts, &options)
            .map_err(|e| Stop::Broken(browser::js_error_text(&e)))?;
        self.blob = Some(blob);
        self.parts = Array::new();
        self.pending = 0;
        Ok(())
    }
}

/// Downloads `path` and saves it as its last name; `Ok` with the words for the row.
pub async fn run(
    endpoint: &Endpoint,
    socket: &Socket,
    path: &Path,
    transfer: Transfer,
) -> Result<String, Stop> {
    let mut conn = link::open(endpoint, socket).await?;
    transfer.start();
    let mut received = Received {
        blob: None,
        parts: Array::new(),
        pending: 0,
        total: 0,
        reported: 0,
    };
    let exchange = Retrieve(path.clone());
    link::run(&mut conn, &exchange, |_, step| {
        match step {
            Step::Incoming(len) => transfer.set_total(len),
            Step::Bytes(bytes) => {
                received.push(bytes)?;
                let total = transfer.total_untracked().unwrap_or(0);
                let step = (total / 200).clamp(PROGRESS_STEP_MIN, PROGRESS_STEP_MAX);
                if received.total - received.reported >= step || received.total == total {
                    transfer.progress(received.total);
                    received.reported = received.total;
                }
            }
        }
        Ok(())
    })
    .await?;
    conn.close(ferry_proto::close::NORMAL, "download complete");
    received.compact()?;
    transfer.progress(received.total);
    let name = path.last_name().into_string();
    let parts = Array::of1(&JsValue::from(received.blob.take()));
    browser::save_download(&parts, &name).map_err(Stop::Broken)?;
    Ok(format!("saved as “{name}”"))
}
