//! The prompt's one connection and its remote working directory, shared
//! between the commands and Tab completion (which lists directories on the
//! same connection while a line is edited). The prompt is one thread and
//! completion never runs during a command, so a `RefCell` is all the
//! sharing needs.

use ferry_client::{RemoteDir, Session, Target};
use std::cell::RefCell;
use std::rc::Rc;

/// The open session, if any, and where paths typed at the prompt start.
#[derive(Default)]
pub struct Connection {
    /// The session; `None` before CONNECT or after the connection was lost.
    pub session: Option<Session>,
    /// The remote working directory (the home after CONNECT and LOGIN).
    pub cwd: RemoteDir,
    /// Where the session is connected, for deciding where a password may go.
    pub target: Option<Target>,
}

/// The connection as the prompt and its completer share it.
pub type Shared = Rc<RefCell<Connection>>;
