//! The session API the components call: connect, log in and out, list a
//! folder, make, rename, move and delete entries, preview a file, a typed
//! console command, disconnect. Downloads and uploads are not here: each
//! runs on its own connection (`crate::transfers`).
//!
//! Each call only queues a [`Request`] for the connection's task
//! ([`task`]), which runs one exchange at a time (a delete of a folder is a
//! walk of many); what happens shows up in the [`Model`]. Components get the
//! [`Session`] from context ([`use_session`]).

mod commands;
mod exchange;
mod preview;
mod queue;
mod task;
mod tree;

pub use exchange::Failed;
pub use preview::TEXT_PREVIEW_BYTES;

use crate::browser;
use crate::endpoint::EndpointSignal;
use crate::model::{ConnState, Entry, LineKind, Model, MoveBrowse};
use crate::transport::Conn;
use ferry_proto::{close, Command, Path};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Where a listing's rows go besides the file table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Also printed in the console (LIST typed there).
    InConsole,
    /// Only the file table.
    TableOnly,
}

/// What the connection's task is asked to do.
enum Request {
    List {
        dir: Option<Path>,
        rows: Rows,
    },
    /// The subfolders of a folder, for the "Move to…" dialog.
    Browse(Option<Path>),
    /// Counts what deleting these would remove, then asks the user.
    PlanDelete(Vec<Entry>),
    /// Deletes these, folders with everything in them.
    Remove(Vec<Entry>),
    Mkdir(Path),
    Rename {
        from: Path,
        to: Path,
    },
    /// Moves these into a folder (`None`: the home).
    Move {
        paths: Vec<Path>,
        into: Option<Path>,
    },
    Preview {
        path: Path,
        size: u64,
    },
    Login {
        account: String,
        password: String,
    },
    /// Finds out whether the session may change files.
    CheckAccess,
    /// A protocol command typed in the console.
    Typed(Command),
    Quit,
}

/// The session as the components use it. `Copy`: every field is an arena handle.
#[derive(Clone, Copy)]
pub struct Session {
    model: Model,
    /// Where the transfers' connections go: set once the greeting arrived.
    endpoint: EndpointSignal,
    requests: StoredValue<Option<queue::Sender>, LocalStorage>,
    /// The open socket, so "disconnect" can close it even while a transfer runs.
    socket: StoredValue<Option<web_sys::WebSocket>, LocalStorage>,
    /// Set when the user closed the socket (disconnect during a command), so the close reads as intended.
    closed_by_user: StoredValue<bool>,
    /// The bridge target of the last connection, for reconnecting after Log out.
    target: StoredValue<Option<String>>,
    /// Set by Log out: once the session has ended, a new one starts (logged out).
    reconnect: StoredValue<bool>,
}

/// The page's session, from context (provided by the app). Not
/// `expect_context`, whose message formats the caller's location and the
/// type's name with `{:?}` (0.6 KB of WebAssembly per context type).
pub fn use_session() -> Session {
    use_context::<Session>().expect("the app provides the session")
}

impl Session {
    /// A disconnected session showing its state in `model`.
    pub fn new(model: Model, endpoint: EndpointSignal) -> Session {
        Session {
            model,
            endpoint,
            requests: StoredValue::new_local(None),
            socket: StoredValue::new_local(None),
            closed_by_user: StoredValue::new(false),
            target: StoredValue::new(None),
            reconnect: StoredValue::new(false),
        }
    }

    /// Opens a connection through the bridge of the model's bridge URL, to
    /// `target` (`host:port`) or, when `None`, to the bridge's default server.
    pub fn connect(&self, target: Option<String>) {
        let model = self.model;
        if model.state_untracked() != ConnState::Disconnected {
            model.error("Already connected: disconnect first.");
            return;
        }
        let bridge = model.bridge_url_untracked();
        let url = match browser::connect_url(&bridge, target.as_deref()) {
            Ok(url) => url,
            Err(e) => return model.error(format!("Cannot connect: {e}.")),
        };
        let conn = match Conn::open(&url) {
            Ok(conn) => conn,
            Err(e) => return model.error(format!("Cannot connect to {url}: {e}.")),
        };
        let peer = match &target {
            Some(t) => format!("{t} via {bridge}"),
            None => format!("the bridge's default server via {bridge}"),
        };
        model.log_line(LineKind::Info, format!("Connecting to {peer} …"));
        model.connecting(peer);
        let (sender, receiver) = queue::channel();
        self.requests.set_value(Some(sender));
        self.socket.set_value(Some(conn.raw()));
        self.closed_by_user.set_value(false);
        self.reconnect.set_value(false);
        self.target.set_value(target);
        let session = *self;
        spawn_local(task::run(conn, receiver, session, bridge));
    }

    /// Queues `request`; says so and returns `false` when not connected.
    fn request(&self, request: Request) -> bool {
        let sent = self
            .requests
            .with_value(|sender| sender.as_ref().map(|s| s.send(request)))
            .unwrap_or(false);
        if !sent {
            self.model
                .error("Not connected: connect to a server first.");
        }
        sent
    }

    /// Lists the folder shown in the file table.
    pub fn refresh(&self) {
        self.list(self.model.cwd_untracked(), Rows::TableOnly);
    }

    /// Lists `dir` (the table shows it if it is the folder shown).
    pub fn list(&self, dir: Option<Path>, rows: Rows) {
        self.request(Request::List { dir, rows });
    }

    /// Lists `dir`'s subfolders for the "Move to…" dialog.
    pub fn browse(&self, dir: Option<Path>) {
        self.model.set_move_browse(Some(MoveBrowse {
            dir: dir.clone(),
            folders: None,
        }));
        self.request(Request::Browse(dir));
    }

    /// Counts what deleting `entries` removes and asks for confirmation.
    pub fn plan_delete(&self, entries: Vec<Entry>) {
        if !entries.is_empty() {
            self.request(Request::PlanDelete(entries));
        }
    }

    /// Deletes `entries` (confirmed), folders with all they hold.
    pub fn remove(&self, entries: Vec<Entry>) {
        self.request(Request::Remove(entries));
    }

    /// Makes the folder `path`.
    pub fn mkdir(&self, path: Path) {
        self.request(Request::Mkdir(path));
    }

    /// Renames (or moves) `from` to `to`.
    pub fn rename(&self, from: Path, to: Path) {
        self.request(Request::Rename { from, to });
    }

    /// Moves `paths` into the folder `into` (`None`: the home).
    pub fn move_into(&self, paths: Vec<Path>, into: Option<Path>) {
        if !paths.is_empty() {
            self.request(Request::Move { paths, into });
        }
    }

    /// Shows the start of `path` (text) or all of it (an image).
    pub fn preview(&self, path: Path, size: u64) {
        self.request(Request::Preview { path, size });
    }

    /// Logs in as `account`.
    pub fn login(&self, account: String, password: String) {
        self.request(Request::Login { account, password });
    }

    /// Ends the session and starts a new one, logged out.
    pub fn logout(&self) {
        if self.model.state_untracked() == ConnState::Disconnected {
            return;
        }
        self.reconnect.set_value(true);
        self.disconnect();
    }

    /// Runs a protocol command typed in the console.
    pub fn command(&self, command: Command) {
        let request = match command {
            Command::List(dir) => Request::List {
                dir,
                rows: Rows::InConsole,
            },
            Command::Retrieve(_) | Command::Store { .. } | Command::Resume { .. } => {
                return self.model.error(
                    "Transfers run on their own connections: type RETRIEVE <path> or STORE alone.",
                )
            }
            Command::Quit => Request::Quit,
            other => Request::Typed(other),
        };
        self.request(request);
    }

    /// Ends the session: QUIT when idle, or closing the socket at once when a
    /// command is running (the protocol cannot cancel a transfer).
    pub fn disconnect(&self) {
        let model = self.model;
        match model.state_untracked() {
            ConnState::Disconnected => {}
            ConnState::Connected if !model.is_busy_untracked() => {
                self.request(Request::Quit);
            }
            _ => self.socket.with_value(|socket| {
                if let Some(socket) = socket {
                    self.closed_by_user.set_value(true);
                    model.log_line(
                        LineKind::Info,
                        "Closing the connection now (the protocol cannot cancel a running command) …",
                    );
                    let _ =
                        socket.close_with_code_and_reason(close::NORMAL, "disconnected by the user");
                }
            }),
        }
    }
}
