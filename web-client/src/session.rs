//! The session: what the UI shows about the connection (signals) and the one
//! task that drives it — one command at a time, from a queue, through
//! [`Conn`] and the shared protocol codec.

use crate::browser;
use crate::format;
use crate::messages;
use crate::transport::{Conn, ConnError, Step};
use ferry_proto::{codes, parse_listing, Command, ListingEntry, Name, Reply, Verb};
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::{FutureExt, StreamExt};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::VecDeque;
use web_sys::File;

/// Bytes read from a file and sent per WebSocket message during an upload.
const UPLOAD_SLICE: u64 = 256 * 1024;
/// Upload backpressure: no new slice while the browser still buffers more than this.
const UPLOAD_HIGH_WATER: u32 = 1024 * 1024;
/// How often the upload loop re-checks `bufferedAmount` while waiting.
const BACKPRESSURE_POLL_MS: i32 = 4;
/// Console lines kept; older ones are dropped.
const LOG_LIMIT: usize = 1000;

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// No connection.
    Disconnected,
    /// WebSocket opening, greeting not yet received.
    Connecting,
    /// Greeting received; commands may be sent.
    Connected,
}

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

/// One download or upload, with its own progress signals.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    /// Unique within the page.
    pub id: u64,
    /// File name.
    pub name: StoredValue<String>,
    /// Download or upload.
    pub direction: Direction,
    /// Total bytes, once known.
    pub total: RwSignal<Option<u64>>,
    /// Bytes moved so far.
    pub done: RwSignal<u64>,
    /// Queued, running, done or failed.
    pub status: RwSignal<TransferStatus>,
}

/// The kind of a console line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A command line we sent.
    Sent,
    /// A reply line from the server.
    Received,
    /// Data shown for a command (listing rows).
    Data,
    /// A note from the client itself.
    Info,
    /// A failure, in plain words.
    Error,
}

/// One line of the console panel.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Unique within the page (used as the list key).
    pub id: u64,
    /// What kind of line.
    pub kind: LineKind,
    /// The text.
    pub text: String,
}

/// A notice shown above the page's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Something worked (e.g. "Disconnected.").
    Info(String),
    /// Something failed, in plain words.
    Error(String),
}

/// What the driver task is asked to do.
enum Request {
    /// LIST, refreshing the file table (and printing the rows when typed in the console).
    List { print: bool },
    /// A command whose only outcome is its reply (DELETE, HASH, NOOP, HELP, QUIT).
    Simple(Command),
    /// RETRIEVE into a browser download.
    Retrieve { name: Name, transfer: Transfer },
    /// STORE from a local file.
    Store {
        file: File,
        name: Name,
        transfer: Transfer,
    },
}

/// The session as the UI sees it. `Copy`: every field is an arena handle.
#[derive(Clone, Copy)]
pub struct Session {
    /// Connection state.
    pub state: RwSignal<ConnState>,
    /// Human description of where we are connected (or trying to).
    pub peer: RwSignal<String>,
    /// The server's greeting text.
    pub greeting: RwSignal<Option<String>>,
    /// The command in flight, for the status line.
    pub busy: RwSignal<Option<String>>,
    /// The latest notice (error or info).
    pub notice: RwSignal<Option<Notice>>,
    /// The server's files, as of the last LIST.
    pub files: RwSignal<Vec<ListingEntry>>,
    /// Downloads and uploads of this page, newest last.
    pub transfers: RwSignal<Vec<Transfer>>,
    /// The console's lines.
    pub log: RwSignal<Vec<LogLine>>,
    requests: StoredValue<Option<UnboundedSender<Request>>, LocalStorage>,
    /// The open socket, so "disconnect" can close it even while a transfer runs.
    socket: StoredValue<Option<web_sys::WebSocket>, LocalStorage>,
    /// Set when the user closed the socket (disconnect during a command), so the close reads as intended.
    closed_by_user: StoredValue<bool>,
    next_id: StoredValue<u64>,
}

impl Session {
    /// A disconnected session.
    pub fn new() -> Session {
        Session {
            state: RwSignal::new(ConnState::Disconnected),
            peer: RwSignal::new(String::new()),
            greeting: RwSignal::new(None),
            busy: RwSignal::new(None),
            notice: RwSignal::new(None),
            files: RwSignal::new(Vec::new()),
            transfers: RwSignal::new(Vec::new()),
            log: RwSignal::new(Vec::new()),
            requests: StoredValue::new_local(None),
            socket: StoredValue::new_local(None),
            closed_by_user: StoredValue::new(false),
            next_id: StoredValue::new(0),
        }
    }

    fn fresh_id(&self) -> u64 {
        self.next_id.update_value(|n| *n += 1);
        self.next_id.get_value()
    }

    /// Appends a console line.
    pub fn log_line(&self, kind: LineKind, text: impl Into<String>) {
        let line = LogLine {
            id: self.fresh_id(),
            kind,
            text: text.into(),
        };
        self.log.update(|log| {
            log.push(line);
            if log.len() > LOG_LIMIT {
                log.drain(..log.len() - LOG_LIMIT);
            }
        });
    }

    /// Shows an error notice and logs it.
    pub fn error(&self, text: impl Into<String>) {
        let text = text.into();
        self.log_line(LineKind::Error, text.clone());
        self.notice.set(Some(Notice::Error(text)));
    }

    fn info(&self, text: impl Into<String>) {
        let text = text.into();
        self.log_line(LineKind::Info, text.clone());
        self.notice.set(Some(Notice::Info(text)));
    }

    /// Opens a connection through the bridge at `bridge`, to `target`
    /// (`host:port`) or, when `None`, to the bridge's default server.
    pub fn connect(&self, bridge: &str, target: Option<String>) {
        if self.state.get_untracked() != ConnState::Disconnected {
            self.error("Already connected: disconnect first.");
            return;
        }
        let url = match browser::connect_url(bridge, target.as_deref()) {
            Ok(url) => url,
            Err(e) => return self.error(format!("Cannot connect: {e}.")),
        };
        let conn = match Conn::open(&url) {
            Ok(conn) => conn,
            Err(e) => return self.error(format!("Cannot connect to {url}: {e}.")),
        };
        let peer = match &target {
            Some(t) => format!("{t} via {bridge}"),
            None => format!("the bridge's default server via {bridge}"),
        };
        self.log_line(LineKind::Info, format!("Connecting to {peer} …"));
        self.notice.set(None);
        self.peer.set(peer);
        self.greeting.set(None);
        self.files.set(Vec::new());
        self.state.set(ConnState::Connecting);
        let (sender, receiver) = unbounded();
        self.requests.set_value(Some(sender));
        self.socket.set_value(Some(conn.raw()));
        self.closed_by_user.set_value(false);
        let session = *self;
        let bridge = bridge.to_string();
        spawn_local(async move { drive(conn, receiver, session, bridge).await });
    }

    fn request(&self, request: Request) -> bool {
        let sent = self
            .requests
            .with_value(|sender| sender.as_ref().map(|s| s.unbounded_send(request).is_ok()))
            .unwrap_or(false);
        if !sent {
            self.error("Not connected: connect to a server first.");
        }
        sent
    }

    /// Refreshes the file table; `print` also lists the rows in the console.
    pub fn list(&self, print: bool) {
        self.request(Request::List { print });
    }

    /// Downloads `name`.
    pub fn retrieve(&self, name: Name) {
        let transfer = self.new_transfer(name.as_str(), Direction::Download, None);
        if !self.request(Request::Retrieve { name, transfer }) {
            transfer
                .status
                .set(TransferStatus::Failed("not connected".into()));
        }
    }

    /// Uploads each file under its own name, one after the other.
    pub fn store_files(&self, files: Vec<File>) {
        for file in files {
            let size = file.size() as u64;
            let transfer = self.new_transfer(&file.name(), Direction::Upload, Some(size));
            match Name::new(file.name()) {
                Ok(name) => {
                    if !self.request(Request::Store {
                        file,
                        name,
                        transfer,
                    }) {
                        transfer
                            .status
                            .set(TransferStatus::Failed("not connected".into()));
                    }
                }
                Err(e) => {
                    let why = format!("cannot upload “{}”: {e}", file.name());
                    transfer.status.set(TransferStatus::Failed(why.clone()));
                    self.error(format!("Upload failed: {why}."));
                }
            }
        }
    }

    /// Sends a command whose outcome is just its reply (DELETE, HASH, NOOP, HELP, QUIT).
    pub fn simple(&self, command: Command) {
        self.request(Request::Simple(command));
    }

    /// Ends the session: QUIT when idle, or closing the socket at once when a
    /// command is running (the protocol cannot cancel a transfer).
    pub fn disconnect(&self) {
        match self.state.get_untracked() {
            ConnState::Disconnected => {}
            ConnState::Connected if self.busy.get_untracked().is_none() => {
                self.simple(Command::Quit)
            }
            _ => self.socket.with_value(|socket| {
                if let Some(socket) = socket {
                    self.closed_by_user.set_value(true);
                    self.log_line(LineKind::Info, "Closing the connection now (the protocol cannot cancel a running command) …");
                    let _ = socket.close_with_code_and_reason(1000, "disconnected by the user");
                }
            }),
        }
    }

    fn new_transfer(&self, name: &str, direction: Direction, total: Option<u64>) -> Transfer {
        let transfer = Transfer {
            id: self.fresh_id(),
            name: StoredValue::new(name.to_string()),
            direction,
            total: RwSignal::new(total),
            done: RwSignal::new(0),
            status: RwSignal::new(TransferStatus::Queued),
        };
        self.transfers.update(|t| t.push(transfer));
        transfer
    }

    /// Removes finished and failed transfers from the list.
    pub fn clear_finished(&self) {
        self.transfers.update(|t| {
            t.retain(|t| {
                matches!(
                    t.status.get_untracked(),
                    TransferStatus::Queued | TransferStatus::Running
                )
            })
        });
    }
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

/// The connection's task: greeting, then requests one at a time until the
/// connection ends; then it fails whatever is still queued.
async fn drive(
    mut conn: Conn,
    mut requests: UnboundedReceiver<Request>,
    s: Session,
    bridge: String,
) {
    let mut driver = Driver {
        conn: &mut conn,
        s,
        quitting: false,
    };
    let end = driver.run(&mut requests).await;
    let quitting = driver.quitting || s.closed_by_user.get_value();
    s.requests.set_value(None);
    s.socket.set_value(None);
    requests.close();
    while let Ok(request) = requests.try_recv() {
        if let Request::Retrieve { transfer, .. } | Request::Store { transfer, .. } = request {
            transfer.status.set(TransferStatus::Failed(
                "not sent: the connection closed".into(),
            ));
        }
    }
    s.busy.set(None);
    s.state.set(ConnState::Disconnected);
    let text = messages::connection_end(&end, quitting, &bridge);
    if quitting && matches!(end, ConnError::Closed { code: 1000, .. }) {
        s.info(text);
    } else {
        s.error(text);
    }
}

/// State of the driver task while a connection is open.
struct Driver<'c> {
    conn: &'c mut Conn,
    s: Session,
    quitting: bool,
}

impl Driver<'_> {
    /// Runs the connection; returns how it ended.
    async fn run(&mut self, requests: &mut UnboundedReceiver<Request>) -> ConnError {
        match self.conn.next_step(&mut |_| {}).await {
            Ok(Step::Greeting(reply)) => {
                self.s.log_line(LineKind::Received, reply.to_string());
                self.s.greeting.set(Some(reply.text.clone()));
                self.s.state.set(ConnState::Connected);
            }
            Ok(Step::Reply(reply)) => {
                // 421 Too many connections instead of a greeting.
                self.s.log_line(LineKind::Received, reply.to_string());
                self.conn.wait_closed().await;
                return ConnError::ServerClosing(reply);
            }
            Ok(_) => return self.conn.wait_closed().await,
            Err(e) => return e,
        }
        let mut queue: VecDeque<Request> = VecDeque::from([Request::List { print: false }]);
        let mut refresh = false;
        loop {
            while let Ok(request) = requests.try_recv() {
                queue.push_back(request);
            }
            let request = match queue.pop_front() {
                Some(request) => request,
                None if refresh => {
                    refresh = false;
                    Request::List { print: false }
                }
                None => {
                    self.s.busy.set(None);
                    // Idle: wait for a request, but notice an unsolicited reply or a close meanwhile.
                    let mut ignore_data = |_: &[u8]| {};
                    let next = {
                        let idle_input = self.conn.next_step(&mut ignore_data).fuse();
                        let request = requests.next().fuse();
                        futures::pin_mut!(idle_input, request);
                        futures::select! {
                            request = request => Ok(request),
                            step = idle_input => Err(step),
                        }
                    };
                    match next {
                        Ok(Some(request)) => request,
                        Ok(None) => {
                            self.conn.close(1000, "page closed");
                            return self.conn.wait_closed().await;
                        }
                        Err(Ok(Step::Reply(reply))) => {
                            self.s.log_line(LineKind::Received, reply.to_string());
                            if reply.code == codes::CLOSING {
                                self.conn.wait_closed().await;
                                return ConnError::ServerClosing(reply);
                            }
                            continue;
                        }
                        Err(Ok(_)) => continue,
                        Err(Err(end)) => return end,
                    }
                }
            };
            let changed = matches!(
                request,
                Request::Store { .. } | Request::Simple(Command::Delete(_))
            );
            match self.execute(request).await {
                Ok(success) => refresh |= success && changed,
                Err(end) => return end,
            }
            if self.quitting {
                self.conn.close(1000, "QUIT");
                return self.conn.wait_closed().await;
            }
            if self.conn.is_closed() {
                // The server answered with 421: it closes the connection now.
                return self.conn.wait_closed().await;
            }
        }
    }

    /// Runs one request; `Ok(true)` when the server answered with success.
    async fn execute(&mut self, request: Request) -> Result<bool, ConnError> {
        match request {
            Request::List { print } => self.list(print).await,
            Request::Simple(command) => self.simple(command).await,
            Request::Retrieve { name, transfer } => {
                let result = self.retrieve(name, transfer).await;
                mark_cut(transfer, &result);
                result
            }
            Request::Store {
                file,
                name,
                transfer,
            } => {
                let result = self.store(file, name, transfer).await;
                mark_cut(transfer, &result);
                result
            }
        }
    }

    async fn send(&mut self, command: &Command) -> Result<(), ConnError> {
        self.s.busy.set(Some(command.to_string()));
        self.s.log_line(LineKind::Sent, command.to_string());
        self.conn.send_command(command).await
    }

    /// Waits for the final reply (logging it), ignoring data.
    async fn final_reply(&mut self) -> Result<Reply, ConnError> {
        loop {
            match self.conn.next_step(&mut |_| {}).await? {
                Step::Reply(reply) => {
                    self.s.log_line(LineKind::Received, reply.to_string());
                    return Ok(reply);
                }
                Step::DataStart(reply, _) | Step::SendData(reply, _) | Step::Greeting(reply) => {
                    self.s.log_line(LineKind::Received, reply.to_string());
                }
                Step::Data => {}
            }
        }
    }

    async fn simple(&mut self, command: Command) -> Result<bool, ConnError> {
        let name = match &command {
            Command::Delete(n) | Command::Hash(n) | Command::Retrieve(n) => {
                Some(n.as_str().to_string())
            }
            Command::Store { name, .. } => Some(name.as_str().to_string()),
            _ => None,
        };
        let verb = command.verb();
        self.send(&command).await?;
        let reply = self.final_reply().await?;
        if reply.is_success() {
            match verb {
                Verb::Quit => self.quitting = true,
                Verb::Delete => {
                    if let Some(name) = &name {
                        self.s
                            .files
                            .update(|files| files.retain(|f| f.name.as_str() != name));
                        self.s
                            .notice
                            .set(Some(Notice::Info(format!("Deleted “{name}”."))));
                    }
                }
                _ => {}
            }
            Ok(true)
        } else {
            self.s
                .error(messages::reply_failure(verb, name.as_deref(), &reply));
            Ok(false)
        }
    }

    async fn list(&mut self, print: bool) -> Result<bool, ConnError> {
        self.send(&Command::List).await?;
        let mut body = Vec::new();
        let reply = loop {
            match self
                .conn
                .next_step(&mut |bytes| body.extend_from_slice(bytes))
                .await?
            {
                Step::Data => {}
                Step::Reply(reply) => break reply,
                Step::DataStart(reply, _) | Step::SendData(reply, _) | Step::Greeting(reply) => {
                    self.s.log_line(LineKind::Received, reply.to_string())
                }
            }
        };
        if !reply.is_success() {
            self.s.log_line(LineKind::Received, reply.to_string());
            self.s
                .error(messages::reply_failure(Verb::List, None, &reply));
            return Ok(false);
        }
        match parse_listing(&body) {
            Ok(entries) => {
                if print {
                    for entry in &entries {
                        self.s.log_line(LineKind::Data, format::listing_line(entry));
                    }
                }
                self.s.log_line(LineKind::Received, reply.to_string());
                self.s.files.set(entries);
                Ok(true)
            }
            Err(e) => {
                self.s.log_line(LineKind::Received, reply.to_string());
                self.s.error(format!(
                    "The server sent a listing this client cannot read: {e}."
                ));
                Ok(false)
            }
        }
    }

    async fn retrieve(&mut self, name: Name, transfer: Transfer) -> Result<bool, ConnError> {
        self.send(&Command::Retrieve(name.clone())).await?;
        transfer.status.set(TransferStatus::Running);
        // Chunks are copied out of WASM memory as they arrive and kept as JS
        // Uint8Arrays; the page never holds the whole file in WASM memory.
        let parts = js_sys::Array::new();
        let mut received: u64 = 0;
        let mut reported: u64 = 0;
        let reply = loop {
            let step = self
                .conn
                .next_step(&mut |bytes| {
                    parts.push(&js_sys::Uint8Array::from(bytes));
                    received += bytes.len() as u64;
                })
                .await?;
            match step {
                Step::Data => {
                    // Throttle UI updates to about every 1/200 of the file or 1 MiB.
                    let total = transfer.total.get_untracked().unwrap_or(0);
                    if received - reported >= (total / 200).clamp(64 * 1024, 1024 * 1024)
                        || received == total
                    {
                        transfer.done.set(received);
                        reported = received;
                    }
                }
                Step::DataStart(reply, len) => {
                    self.s.log_line(LineKind::Received, reply.to_string());
                    transfer.total.set(Some(len));
                }
                Step::Reply(reply) => break reply,
                Step::SendData(reply, _) | Step::Greeting(reply) => {
                    self.s.log_line(LineKind::Received, reply.to_string())
                }
            }
        };
        self.s.log_line(LineKind::Received, reply.to_string());
        if !reply.is_success() {
            let why = messages::reply_failure(Verb::Retrieve, Some(name.as_str()), &reply);
            transfer.status.set(TransferStatus::Failed(why.clone()));
            self.s.error(why);
            return Ok(false);
        }
        transfer.done.set(received);
        match browser::save_download(&parts, name.as_str()) {
            Ok(()) => {
                transfer
                    .status
                    .set(TransferStatus::Done(format!("saved as “{name}”")));
                self.s.log_line(
                    LineKind::Info,
                    format!("Saved “{name}” ({}).", format::human_size(received)),
                );
                Ok(true)
            }
            Err(e) => {
                let why = format!("the browser could not save the file: {e}");
                transfer.status.set(TransferStatus::Failed(why.clone()));
                self.s.error(format!("Download of “{name}” failed: {why}."));
                Ok(false)
            }
        }
    }

    async fn store(
        &mut self,
        file: File,
        name: Name,
        transfer: Transfer,
    ) -> Result<bool, ConnError> {
        let size = file.size() as u64;
        self.send(&Command::Store {
            size,
            name: name.clone(),
        })
        .await?;
        // The codec hands back the size we announced: exactly what must be sent now.
        let ready = loop {
            match self.conn.next_step(&mut |_| {}).await? {
                Step::SendData(reply, announced) => {
                    self.s.log_line(LineKind::Received, reply.to_string());
                    break Ok(announced);
                }
                Step::Reply(reply) => break Err(reply),
                Step::DataStart(reply, _) | Step::Greeting(reply) => {
                    self.s.log_line(LineKind::Received, reply.to_string())
                }
                Step::Data => {}
            }
        };
        let size = match ready {
            Ok(size) => size,
            Err(reply) => {
                self.s.log_line(LineKind::Received, reply.to_string());
                let why = messages::reply_failure(Verb::Store, Some(name.as_str()), &reply);
                transfer.status.set(TransferStatus::Failed(why.clone()));
                self.s.error(why);
                return Ok(false);
            }
        };
        transfer.status.set(TransferStatus::Running);
        self.send_file(&file, size, transfer).await?;
        let reply = self.final_reply().await?;
        if reply.is_success() {
            transfer.done.set(size);
            transfer.status.set(TransferStatus::Done("stored".into()));
            Ok(true)
        } else {
            let why = messages::reply_failure(Verb::Store, Some(name.as_str()), &reply);
            transfer.status.set(TransferStatus::Failed(why.clone()));
            self.s.error(why);
            Ok(false)
        }
    }

    /// Streams `size` bytes of `file` in slices, never letting the browser
    /// buffer more than [`UPLOAD_HIGH_WATER`] bytes.
    async fn send_file(
        &mut self,
        file: &File,
        size: u64,
        transfer: Transfer,
    ) -> Result<(), ConnError> {
        let mut sent: u64 = 0;
        while sent < size {
            while self.conn.buffered_amount() > UPLOAD_HIGH_WATER {
                // bufferedAmount never drains on a closed socket: stop waiting then.
                if !self.conn.is_open() {
                    return Err(self.conn.wait_closed().await);
                }
                browser::sleep(BACKPRESSURE_POLL_MS).await;
            }
            let end = (sent + UPLOAD_SLICE).min(size);
            let slice = match browser::read_slice(file, sent, end).await {
                Ok(buffer) if buffer.byte_length() as u64 == end - sent => buffer,
                Ok(_) => return Err(self.abort_upload("the file changed size while uploading")),
                Err(e) => return Err(self.abort_upload(&e)),
            };
            self.conn.send_data(&slice).await?;
            sent = end;
            transfer
                .done
                .set(sent.saturating_sub(u64::from(self.conn.buffered_amount())));
        }
        Ok(())
    }

    fn abort_upload(&mut self, why: &str) -> ConnError {
        self.conn.close(4000, "upload aborted");
        ConnError::FileRead(why.to_string())
    }
}

/// Marks a transfer failed when the connection ended under it.
fn mark_cut(transfer: Transfer, result: &Result<bool, ConnError>) {
    if let Err(end) = result {
        transfer
            .status
            .set(TransferStatus::Failed(messages::transfer_cut(end)));
    }
}
