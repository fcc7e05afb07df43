//! The session API the components call: connect, list, download, upload,
//! delete, a typed console command, disconnect.
//!
//! Each call only queues a [`Request`] for the connection's task
//! ([`task`]), which runs one exchange at a time; what happens shows up in
//! the [`Model`]. Components get the [`Session`] from context ([`use_session`]).

mod commands;
mod download;
mod exchange;
mod task;
mod upload;

pub use exchange::Failed;

use crate::browser;
use crate::endpoint::EndpointSignal;
use crate::model::{ConnState, Direction, LineKind, Model, Transfer};
use crate::transport::Conn;
use ferry_proto::{close, Command, Name, Path};
use futures::channel::mpsc::{unbounded, UnboundedSender};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::File;

/// Where a listing's rows go besides the file table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Also printed in the console (LIST typed there).
    InConsole,
    /// Only the file table.
    TableOnly,
}

/// What the connection's task is asked to do: one exchange each.
enum Request {
    List(Rows),
    Retrieve {
        name: Name,
        transfer: Transfer,
    },
    Store {
        file: File,
        name: Name,
        transfer: Transfer,
    },
    Delete(Name),
    Hash(Name),
    Noop,
    Help,
    Quit,
}

impl Request {
    /// The transfer row this request drives, if any.
    fn transfer(&self) -> Option<Transfer> {
        match self {
            Request::Retrieve { transfer, .. } | Request::Store { transfer, .. } => Some(*transfer),
            _ => None,
        }
    }
}

/// The session as the components use it. `Copy`: every field is an arena handle.
#[derive(Clone, Copy)]
pub struct Session {
    model: Model,
    /// Where the transfers' connections go: set once the greeting arrived.
    endpoint: EndpointSignal,
    requests: StoredValue<Option<UnboundedSender<Request>>, LocalStorage>,
    /// The open socket, so "disconnect" can close it even while a transfer runs.
    socket: StoredValue<Option<web_sys::WebSocket>, LocalStorage>,
    /// Set when the user closed the socket (disconnect during a command), so the close reads as intended.
    closed_by_user: StoredValue<bool>,
}

/// The page's session, from context (provided by the app).
pub fn use_session() -> Session {
    expect_context::<Session>()
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
        let (sender, receiver) = unbounded();
        self.requests.set_value(Some(sender));
        self.socket.set_value(Some(conn.raw()));
        self.closed_by_user.set_value(false);
        let session = *self;
        spawn_local(task::run(conn, receiver, session, bridge));
    }

    /// Queues `request`; says so and returns `false` when not connected.
    fn request(&self, request: Request) -> bool {
        let transfer = request.transfer();
        let sent = self
            .requests
            .with_value(|sender| sender.as_ref().map(|s| s.unbounded_send(request).is_ok()))
            .unwrap_or(false);
        if !sent {
            if let Some(transfer) = transfer {
                transfer.fail("not connected");
            }
            self.model
                .error("Not connected: connect to a server first.");
        }
        sent
    }

    /// Refreshes the file table.
    pub fn list(&self, rows: Rows) {
        self.request(Request::List(rows));
    }

    /// Downloads `name`.
    pub fn retrieve(&self, name: Name) {
        let transfer = self
            .model
            .new_transfer(name.as_str(), Direction::Download, None);
        self.request(Request::Retrieve { name, transfer });
    }

    /// Uploads each file under its own name, one after the other.
    pub fn store_files(&self, files: Vec<File>) {
        for file in files {
            let size = file.size() as u64;
            let transfer = self
                .model
                .new_transfer(&file.name(), Direction::Upload, Some(size));
            match Name::new(file.name()) {
                Ok(name) => {
                    self.request(Request::Store {
                        file,
                        name,
                        transfer,
                    });
                }
                Err(e) => {
                    let why = format!("cannot upload “{}”: {e}", file.name());
                    transfer.fail(why.clone());
                    self.model.error(format!("Upload failed: {why}."));
                }
            }
        }
    }

    /// Deletes `name` on the server.
    pub fn delete(&self, name: Name) {
        self.request(Request::Delete(name));
    }

    /// Runs a protocol command typed in the console.
    pub fn command(&self, command: Command) {
        let request = match command {
            Command::List(None) => Request::List(Rows::InConsole),
            Command::Retrieve(path) => match top_level(&path) {
                Some(name) => return self.retrieve(name),
                None => return self.model.error(NO_FOLDERS_YET),
            },
            Command::Store { .. } => {
                return self
                    .model
                    .error("STORE needs a file: use the upload button.")
            }
            Command::Delete(path) | Command::Hash(path) if top_level(&path).is_none() => {
                return self.model.error(NO_FOLDERS_YET)
            }
            Command::Delete(path) => Request::Delete(path.last_name()),
            Command::Hash(path) => Request::Hash(path.last_name()),
            Command::Noop => Request::Noop,
            Command::Help => Request::Help,
            Command::Quit => Request::Quit,
            other => {
                return self.model.error(format!(
                    "{} is not available in the web console yet.",
                    other.verb()
                ))
            }
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

/// What the console says to a path in a folder: the web client shows the
/// top of the server's tree only, for now.
const NO_FOLDERS_YET: &str = "The web client does not open folders yet: use a name at the top.";

/// The name of an entry at the top of the tree, or `None` for a path in a folder.
fn top_level(path: &Path) -> Option<Name> {
    path.parent().is_none().then(|| path.last_name())
}
