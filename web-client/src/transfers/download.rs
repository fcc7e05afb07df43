//! A download on its own connection. The bytes stay in the browser: each
//! message's data is a `Uint8Array` view handed to a list of parts, made
//! into one `Blob` at the end, as any page would. A file larger than
//! [`KEEP_WHOLE`] is instead folded into the `Blob` (which the browser keeps
//! in its blob store, on disk when large) every [`FOLD_EVERY`] bytes, so
//! the JS heap never holds much more than [`KEEP_WHOLE`] of any file, and
//! WASM memory none of it. Cancelled or cut short, the parts are dropped:
//! nothing is saved.

use super::link::{self, Socket, Step, Stop};
use crate::browser;
use crate::endpoint::Endpoint;
use crate::model::Transfer;
use ferry_proto::{EntryKind, Exchange, Path, Read, Retrieve, Stat};
use js_sys::Array;
use web_sys::{Blob, BlobPropertyBag};

/// Files up to this size are kept as received until they end; larger ones
/// are folded. Folding costs while the bytes come in, in proportion to what
/// is folded: the page's thread copies the parts and the browser moves them
/// to its blob store, beside the socket (scripts/bench.sh web: 100 MiB
/// folded every 64 MiB came in at about 0.8x the speed of the same page
/// keeping them whole, every 32 MiB slower still).
const KEEP_WHOLE: u64 = 128 * 1024 * 1024;
/// What a larger file is folded by: its page held at most about 90 MiB of
/// `ArrayBuffer`s for 256 MiB (e2e/tests/transfers.spec.js allows 128).
const FOLD_EVERY: u64 = 64 * 1024 * 1024;
/// Progress is shown about every 1/200 of the file, within these bounds.
const PROGRESS_STEP_MIN: u64 = 64 * 1024;
const PROGRESS_STEP_MAX: u64 = 1024 * 1024;

/// The file so far: a blob and the parts received since it was made.
struct Received {
    blob: Option<Blob>,
    parts: Array,
    /// Folded each time `pending` reaches this; `u64::MAX` for a small file.
    fold_every: u64,
    pending: u64,
    total: u64,
    reported: u64,
}

impl Received {
    /// Nothing received yet.
    fn new() -> Received {
        Received {
            blob: None,
            parts: Array::new(),
            fold_every: u64::MAX,
            pending: 0,
            total: 0,
            reported: 0,
        }
    }

    fn push(&mut self, bytes: &js_sys::Uint8Array) -> Result<(), Stop> {
        self.parts.push(bytes);
        self.pending += u64::from(bytes.length());
        self.total += u64::from(bytes.length());
        if self.pending >= self.fold_every {
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

/// One file's download, over as many attempts as it takes: what came in so
/// far survives a dropped connection.
pub struct Download<'p> {
    path: &'p Path,
    transfer: Transfer,
    received: Received,
    /// The file's size and time, from STAT before the first byte, so a
    /// continuation can tell the file has not changed.
    seen: Option<(u64, u64)>,
}

impl<'p> Download<'p> {
    /// Nothing received yet.
    pub fn new(path: &'p Path, transfer: Transfer) -> Download<'p> {
        Download {
            path,
            transfer,
            received: Received::new(),
            seen: None,
        }
    }

    /// One attempt: STAT, then RETRIEVE, or after a dropped connection READ
    /// from the first byte missing (§3.4: a client may keep its partial file
    /// out of sight and continue with READ), as long as the file is unchanged.
    pub async fn attempt(&mut self, endpoint: &Endpoint, socket: &Socket) -> Result<(), Stop> {
        let path = self.path;
        let mut conn = link::open(endpoint, socket).await?;
        let status = link::run(&mut conn, &Stat(path.clone()), link::no_data).await?;
        let EntryKind::File { size } = status.kind else {
            return Err(Stop::Broken(format!("“{path}” is a folder, not a file")));
        };
        if self.seen.get_or_insert((size, status.modified)) != &(size, status.modified) {
            return Err(Stop::Broken(
                "the file changed on the server while it was downloading; nothing saved".into(),
            ));
        }
        let (transfer, received) = (self.transfer, &mut self.received);
        transfer.set_total(size);
        received.fold_every = if size > KEEP_WHOLE {
            FOLD_EVERY
        } else {
            u64::MAX
        };
        transfer.start();
        let offset = received.total;
        let (retrieve, read);
        // As `dyn`: one exchange to wait for, whichever it is.
        let exchange: &dyn Exchange<Success = ()> = if offset == 0 {
            retrieve = Retrieve(path.clone());
            &retrieve
        } else {
            read = Read {
                path: path.clone(),
                offset,
                length: size - offset,
            };
            &read
        };
        link::run(&mut conn, exchange, |step| {
            on_step(received, transfer, size, step)
        })
        .await?;
        conn.close(ferry_proto::close::NORMAL, "download complete");
        Ok(())
    }

    /// Hands the whole file to the browser to save under the path's last
    /// name; the words for the row (`resumed`: dropped connections continued).
    pub fn save(&mut self, resumed: u32) -> Result<String, Stop> {
        let received = &mut self.received;
        received.compact()?;
        let name = self.path.last_name().into_string();
        let blob = received
            .blob
            .take()
            .ok_or_else(|| Stop::Broken("nothing was received".into()))?;
        browser::save_download(&blob, &name).map_err(Stop::Broken)?;
        Ok(match resumed {
            0 => format!("saved as “{name}”"),
            n => format!("saved as “{name}” (continued with READ after {n} dropped connection(s))"),
        })
    }
}

/// One step of the data phase of a file of `size` bytes.
fn on_step(
    received: &mut Received,
    transfer: Transfer,
    size: u64,
    step: Step<'_>,
) -> Result<(), Stop> {
    match step {
        Step::Incoming(len) if received.total + len != size => {
            return Err(Stop::Broken(
                "the file changed on the server while it was downloading; nothing saved".into(),
            ))
        }
        Step::Incoming(_) => {}
        Step::Bytes(bytes) => {
            received.push(bytes)?;
            let step = (size / 200).clamp(PROGRESS_STEP_MIN, PROGRESS_STEP_MAX);
            if received.total - received.reported >= step || received.total == size {
                transfer.progress(received.total);
                received.reported = received.total;
            }
        }
    }
    Ok(())
}
