//! The page's transfers: each download and upload on its own connection
//! (§1 of the contract), at most [`MAX_RUNNING`] at once with a FIFO queue
//! behind, so the session's connection stays free for browsing and
//! cancelling a transfer is closing its socket.
//!
//! An upload whose connection drops (bridge or server gone) tries again by
//! itself with a growing pause, and its `RESUME` sends only what the server
//! lacks; a download that drops fails and saves nothing.

mod download;
mod link;
mod tree;
mod upload;
mod verify;

pub use tree::{dropped, picked};
pub use verify::Verify;

use crate::browser;
use crate::endpoint::{Endpoint, EndpointSignal};
use crate::format;
use crate::model::{Direction, Model, Transfer};
use ferry_proto::{close, Name, Path};
use leptos::prelude::*;
use leptos::task::spawn_local;
use link::{Socket, Stop};
use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use web_sys::File;

/// Transfers running at once; the rest wait in order.
pub const MAX_RUNNING: usize = 3;
/// Pauses between attempts of a cut upload: doubling from the first to the last.
const RETRY_FIRST_MS: i32 = 500;
const RETRY_LAST_MS: i32 = 8_000;
/// Attempts of one upload before it is given up (about ten minutes of pauses).
const MAX_ATTEMPTS: u32 = 80;

/// What a queued transfer will do.
enum Work {
    Download(Path),
    Upload { file: File, path: Path },
}

struct Job {
    transfer: Transfer,
    work: Work,
    handle: Handle,
}

/// What Cancel needs of a transfer: its socket now, and a flag its task reads.
#[derive(Clone, Default)]
struct Handle {
    socket: Socket,
    cancelled: Rc<Cell<bool>>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Job>,
    running: Vec<(u64, Handle)>,
    /// Stored uploads, for Verify: the local file and where it went.
    stored: Vec<(Transfer, File, Path)>,
}

/// The transfers as components use them. `Copy`: every field is an arena handle.
#[derive(Clone, Copy)]
pub struct Transfers {
    model: Model,
    endpoint: EndpointSignal,
    queue: StoredValue<Queue, LocalStorage>,
    /// Bumped each time an upload or a new folder changed the server's files.
    changed: RwSignal<u64>,
    /// Whether finished uploads are checked with SHA-256 against `HASH`.
    verify_uploads: RwSignal<bool>,
}

/// The page's transfers, from context (provided by the app). Not
/// `expect_context`, whose message formats the caller's location and the
/// type's name with `{:?}` (0.6 KB of WebAssembly per context type).
pub fn use_transfers() -> Transfers {
    use_context::<Transfers>().expect("the app provides the transfers")
}

impl Transfers {
    /// Transfers that connect to `endpoint` and show themselves in `model`.
    pub fn new(model: Model, endpoint: EndpointSignal) -> Transfers {
        Transfers {
            model,
            endpoint,
            queue: StoredValue::new_local(Queue::default()),
            changed: RwSignal::new(0),
            verify_uploads: RwSignal::new(false),
        }
    }

    /// Downloads `path` on its own connection and saves it under its last name.
    pub fn download(&self, path: Path) {
        let transfer =
            self.model
                .new_transfer(path.last_name().as_str(), Direction::Download, None);
        self.enqueue(transfer, Work::Download(path));
    }

    /// Uploads each file under its own name into the directory `into`
    /// (`None`: the home).
    pub fn upload_files(&self, files: Vec<File>, into: Option<Path>) {
        for file in files {
            let path = Name::new(file.name())
                .and_then(|name| match &into {
                    Some(dir) => dir.join(&name),
                    None => Ok(name.into()),
                })
                .map_err(|e| e.to_string());
            let label = file.name();
            self.upload(file, path, label);
        }
    }

    /// Uploads files found under folders, each `(relative path, file)`,
    /// into `into`, creating the folders (`dirs`, relative, parents first) with MKDIR first.
    pub fn upload_tree(&self, dirs: Vec<String>, files: Vec<(String, File)>, into: Option<Path>) {
        let Some(endpoint) = self.endpoint.get_untracked() else {
            return self
                .model
                .error("Not connected: connect to a server first.");
        };
        let transfers = *self;
        spawn_local(async move {
            let created = tree::make_dirs(&endpoint, &dirs, into.as_ref()).await;
            if let Err(why) = created {
                return transfers
                    .model
                    .error(format!("Folder upload stopped: {why}."));
            }
            if !dirs.is_empty() {
                transfers.bump();
            }
            for (relative, file) in files {
                let path = under(into.as_ref(), &relative);
                transfers.upload(file, path, relative);
            }
        });
    }

    fn upload(&self, file: File, path: Result<Path, String>, label: String) {
        let size = file.size() as u64;
        let transfer = self
            .model
            .new_transfer(&label, Direction::Upload, Some(size));
        match path {
            Ok(path) => self.enqueue(transfer, Work::Upload { file, path }),
            Err(e) => {
                let why = format!("cannot upload “{}”: {e}", file.name());
                transfer.fail(why.clone());
                self.model.error(format!("Upload failed: {why}."));
            }
        }
    }

    /// Cancels transfer `id`: a queued one never starts; a running one's
    /// socket is closed, so the server keeps nothing visible of an upload
    /// and a download saves nothing.
    pub fn cancel(&self, id: u64) {
        if let Some(transfer) = self.find(id).filter(Transfer::all_sent_untracked) {
            return self.model.notify(format!(
                "“{}” has been sent in full and is being stored: too late to cancel.",
                transfer.name()
            ));
        }
        self.queue.update_value(|queue| {
            if let Some(at) = queue.waiting.iter().position(|job| job.transfer.id == id) {
                if let Some(job) = queue.waiting.remove(at) {
                    job.transfer.cancelled();
                }
            }
            if let Some((_, handle)) = queue.running.iter().find(|(running, _)| *running == id) {
                handle.cancelled.set(true);
                if let Some(socket) = handle.socket.borrow().as_ref() {
                    let _ = socket.close_with_code_and_reason(close::CLIENT_ABORTED, "cancelled");
                }
            }
        });
        if let Some(transfer) = self.find(id) {
            if !transfer.is_finished() {
                transfer.cancelled();
            }
        }
    }

    /// Cancels every queued and running transfer (e.g. on Disconnect).
    pub fn cancel_all(&self) {
        for transfer in untrack(|| self.model.transfers()) {
            if !transfer.is_finished() {
                self.cancel(transfer.id);
            }
        }
    }

    /// Compares finished upload `id` with the server's `HASH`.
    pub fn verify(&self, id: u64) {
        let Some(endpoint) = self.endpoint.get_untracked() else {
            return self
                .model
                .error("Not connected: connect to a server first.");
        };
        let stored = self.queue.with_value(|queue| {
            queue
                .stored
                .iter()
                .find(|(transfer, _, _)| transfer.id == id)
                .cloned()
        });
        if let Some((transfer, file, path)) = stored {
            spawn_local(verify::run(endpoint, transfer, file, path));
        }
    }

    /// Whether uploads are checked with SHA-256 once stored (for a checkbox).
    pub fn verify_uploads(&self) -> RwSignal<bool> {
        self.verify_uploads
    }

    /// Changes each time transfers changed the server's files (tracked),
    /// so the file table can list its folder again.
    pub fn files_changed(&self) -> u64 {
        self.changed.get()
    }

    fn bump(&self) {
        self.changed.update(|n| *n += 1);
    }

    fn find(&self, id: u64) -> Option<Transfer> {
        untrack(|| self.model.transfers())
            .into_iter()
            .find(|t| t.id == id)
    }

    fn enqueue(&self, transfer: Transfer, work: Work) {
        self.queue.update_value(|queue| {
            queue.waiting.push_back(Job {
                transfer,
                work,
                handle: Handle::default(),
            })
        });
        self.pump();
    }

    /// Starts queued transfers while fewer than [`MAX_RUNNING`] run.
    fn pump(&self) {
        loop {
            let job = self.queue.try_update_value(|queue| {
                if queue.running.len() >= MAX_RUNNING {
                    return None;
                }
                let job = queue.waiting.pop_front()?;
                queue.running.push((job.transfer.id, job.handle.clone()));
                Some(job)
            });
            let Some(Some(job)) = job else { return };
            let transfers = *self;
            spawn_local(async move {
                let id = job.transfer.id;
                transfers.run(job).await;
                transfers
                    .queue
                    .update_value(|queue| queue.running.retain(|(running, _)| *running != id));
                transfers.pump();
            });
        }
    }

    async fn run(&self, job: Job) {
        let Job {
            transfer,
            work,
            handle,
        } = job;
        let Some(endpoint) = self.endpoint.get_untracked() else {
            return transfer.fail("not connected");
        };
        match work {
            Work::Download(path) => {
                self.download_with_retries(endpoint, &handle, &path, transfer)
                    .await
            }
            Work::Upload { file, path } => {
                if self.store(endpoint, &handle, &file, &path, transfer).await {
                    self.bump();
                    let stored = (transfer, file.clone(), path.clone());
                    self.queue.update_value(|queue| queue.stored.push(stored));
                    if self.verify_uploads.get_untracked() {
                        self.verify(transfer.id);
                    }
                }
            }
        }
    }

    /// Runs a download's attempts until it is saved, refused for good,
    /// cancelled or out of attempts; a dropped connection continues with
    /// READ from the first missing byte.
    async fn download_with_retries(
        &self,
        endpoint: Endpoint,
        handle: &Handle,
        path: &Path,
        transfer: Transfer,
    ) {
        let mut download = download::Download::new(path, transfer);
        let saved = self
            .retries(endpoint, handle, path, transfer, "Download", &mut download)
            .await;
        if let Some((_, how)) = saved {
            transfer.succeed(how);
        }
    }

    /// Runs `attempts` until one succeeds (`Some` with the endpoint last
    /// used and its words for the row), is refused for good, is cancelled or
    /// none are left, pausing longer after each dropped connection. One loop
    /// for downloads and uploads (`what` names them in the error).
    async fn retries(
        &self,
        mut endpoint: Endpoint,
        handle: &Handle,
        path: &Path,
        transfer: Transfer,
        what: &str,
        attempts: &mut dyn Attempts,
    ) -> Option<(Endpoint, String)> {
        let mut pause = RETRY_FIRST_MS;
        for attempt in 1..=MAX_ATTEMPTS {
            let result = attempts.try_once(&endpoint, &handle.socket, attempt).await;
            if handle.cancelled.get() {
                transfer.cancelled();
                return None;
            }
            let stop = match result {
                Ok(how) => {
                    attempts.succeeded();
                    return Some((endpoint, how));
                }
                Err(stop) => stop,
            };
            if !stop.is_transient() || attempt == MAX_ATTEMPTS {
                let why = link::words(&stop, path.as_str());
                self.model.error(format!("{what} failed: {why}."));
                transfer.fail(why);
                return None;
            }
            if !self.pause(handle, transfer, &stop, path, pause).await {
                transfer.cancelled();
                return None;
            }
            pause = (pause * 2).min(RETRY_LAST_MS);
            // The session may have connected again meanwhile (a new login included).
            if let Some(fresh) = self.endpoint.get_untracked() {
                endpoint = fresh;
            }
        }
        None
    }

    /// Shows the drop on the row and waits `ms`; `false` when cancelled meanwhile.
    async fn pause(
        &self,
        handle: &Handle,
        transfer: Transfer,
        stop: &Stop,
        path: &Path,
        ms: i32,
    ) -> bool {
        transfer.retrying(format!(
            "connection lost ({}); trying again in {} s",
            link::words(stop, path.as_str()),
            format::seconds_tenths(ms.unsigned_abs())
        ));
        browser::sleep(ms).await;
        !handle.cancelled.get()
    }

    /// Uploads `file`; when the server already held part of it from
    /// before this transfer (a reload, an earlier cancel), the stored file
    /// is checked against the local SHA-256, since RESUME matches kept bytes
    /// by path and size only, and sent again in full with STORE if they
    /// differ. `true` when stored.
    async fn store(
        &self,
        endpoint: Endpoint,
        handle: &Handle,
        file: &File,
        path: &Path,
        transfer: Transfer,
    ) -> bool {
        let mut upload = upload::Upload::new(file, path, transfer);
        let stored = self
            .retries(endpoint, handle, path, transfer, "Upload", &mut upload)
            .await;
        let Some((endpoint, how)) = stored else {
            return false;
        };
        let size = file.size() as u64;
        if upload.first.is_some_and(|sent| sent < size) {
            transfer.set_verify(Verify::Checking);
            match verify::compare(&endpoint, file, path).await {
                Ok(Verify::Mismatch { .. }) => {
                    transfer.set_verify(Verify::Failed(
                        "the bytes the server had kept were of another file: sending it again in full"
                            .into(),
                    ));
                    upload.start = upload::Start::Store;
                    let stored = self
                        .retries(endpoint, handle, path, transfer, "Upload", &mut upload)
                        .await;
                    let Some((_, how)) = stored else {
                        return false;
                    };
                    transfer.succeed(format!("{how}, sent again in full: the bytes the server had kept were of another file"));
                    return true;
                }
                Ok(verdict) => transfer.set_verify(verdict),
                Err(why) => transfer.set_verify(Verify::Failed(why)),
            }
        }
        transfer.succeed(how);
        true
    }
}

/// One kind of transfer's attempts, for [`Transfers::retries`]: `dyn`, so
/// the retry loop is compiled once for downloads and uploads.
trait Attempts {
    /// Attempt number `attempt` (from 1) on a new connection to
    /// `endpoint`; the words for the row when it succeeded.
    fn try_once<'a>(
        &'a mut self,
        endpoint: &'a Endpoint,
        socket: &'a Socket,
        attempt: u32,
    ) -> Pin<Box<dyn Future<Output = Result<String, Stop>> + 'a>>;

    /// After a successful attempt that was not cancelled meanwhile.
    fn succeeded(&self) {}
}

impl Attempts for download::Download<'_> {
    fn try_once<'a>(
        &'a mut self,
        endpoint: &'a Endpoint,
        socket: &'a Socket,
        attempt: u32,
    ) -> Pin<Box<dyn Future<Output = Result<String, Stop>> + 'a>> {
        Box::pin(async move {
            self.attempt(endpoint, socket).await?;
            self.save(attempt - 1)
        })
    }
}

impl Attempts for upload::Upload<'_> {
    fn try_once<'a>(
        &'a mut self,
        endpoint: &'a Endpoint,
        socket: &'a Socket,
        attempt: u32,
    ) -> Pin<Box<dyn Future<Output = Result<String, Stop>> + 'a>> {
        Box::pin(async move {
            let file = self.file;
            let size = file.size() as u64;
            let sent = self.attempt(endpoint, socket).await?;
            Ok(if attempt == 1 && sent.bytes == size {
                "stored".to_string()
            } else {
                format!(
                    "stored; resumed, the last connection sent {} of {}",
                    format::human_size(sent.bytes),
                    format::human_size(size)
                )
            })
        })
    }

    fn succeeded(&self) {
        self.transfer.progress(self.file.size() as u64);
    }
}

/// The path of `relative` (names joined by `/`) under `into`.
fn under(into: Option<&Path>, relative: &str) -> Result<Path, String> {
    let joined = match into {
        Some(dir) => format!("{}/{relative}", dir.as_str()),
        None => relative.to_string(),
    };
    Path::new(joined).map_err(|e| e.to_string())
}
