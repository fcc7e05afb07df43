//! The one test kit of the Ferry workspace: what the server, client and
//! bridge tests and the bench start and generate, written once.
//!
//! - [`TestServer`]: ferry-server in this process on 127.0.0.1:0 with a
//!   temporary root and [`ServerOptions`] (a proxy listener too, with
//!   [`ProxyOptions`]); [`TestBridge`]: ferry-bridge in
//!   this process on port 0 in front of a server, with [`BridgeOptions`].
//!   An asynchronous test starts them on its own runtime; a synchronous one
//!   (blocking on child processes) on a thread of their own
//!   (`start_on_thread`). Dropped, they stop at once. With
//!   [`ServerOptions::accounts`] the server has an accounts file of
//!   [`TestAccount`]s, changed while it runs with
//!   [`TestServer::set_accounts`].
//! - [`ChildProcess`]: a real binary (`ferry-server`, `ferry-bridge`, any
//!   program) as a child process, for what only a process shows (memory);
//!   [`LoggedProcess`]: one watched through its log, for its start-up,
//!   signals and exit; [`run_to_end`]: one run to its exit with some
//!   standard input, for one-shot tools.
//! - [`Swift`]: a real OpenStack Swift on loopback (Swift and S3 APIs),
//!   from `scripts/swift.sh`; [`Haproxy`]: HAProxy in TCP mode in front of
//!   several instances, telling which one took a connection.
//! - [`closed_port`], [`data`], [`STEP_TIMEOUT`], [`within`] and
//!   [`raise_open_file_limit`].
//!
//! The crates under test dev-depend on this one while it depends on them, so
//! in their tests their types and this crate's copies of them need not be
//! the same: the API here takes and gives only its own types and std types.

mod accounts;
mod bridge;
pub mod data;
pub mod haproxy;
mod logged;
mod one_shot;
mod process;
mod server;
mod service;
pub mod swift;

pub use accounts::{write_accounts_file, Anonymous, LoginOptions, TestAccount};
pub use bridge::{BridgeOptions, TestBridge, TlsPaths};
pub use haproxy::{BackendState, Haproxy, HaproxyOptions};
pub use logged::LoggedProcess;
pub use one_shot::{run_to_end, run_to_end_within};
pub use process::{ChildProcess, Memory};
pub use server::{
    kept_entries, kept_records, FtpOptions, ProxyOptions, ServerOptions, Stopping, TestServer,
};
pub use service::Stopped;
pub use swift::{Swift, SwiftOptions};

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

/// Longest a test waits for any one step (a reply, a read, a start, a stop)
/// before it fails instead of hanging.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// Awaits `future` for at most [`STEP_TIMEOUT`], panicking after that.
pub async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(STEP_TIMEOUT, future)
        .await
        .expect("timed out waiting")
}

/// Raises this process's open file limit to its hard limit: a test or bench
/// that holds both ends of many connections needs two descriptors for each
/// (the usual soft limit is 1024). Child processes inherit the raised limit.
pub fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    if let Some(maximum) = getrlimit(Resource::Nofile).maximum {
        let raised = Rlimit {
            current: Some(maximum),
            maximum: Some(maximum),
        };
        let _ = setrlimit(Resource::Nofile, raised);
    }
}

/// An address on 127.0.0.1 where nothing listens: bound to port 0, then
/// released. Dialled, it refuses; handed to a child process, it is free for
/// the child to listen on.
pub fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
}
