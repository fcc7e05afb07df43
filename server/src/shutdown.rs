//! Graceful stop in two stages, shared by the accept loop and every
//! connection.
//!
//! 1. *Stopping*: the accept loop has ended. Connections waiting for a
//!    command get `421 Server shutting down` and close; a connection in the
//!    middle of a command finishes it first.
//! 2. *Forced*: the grace period is over. Every connection is dropped where
//!    it stands (an unfinished upload's temporary file is removed).

use tokio_util::sync::CancellationToken;

/// The stop signal handed to each connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shutdown {
    stopping: CancellationToken,
    forced: CancellationToken,
}

impl Shutdown {
    /// A signal that has not fired.
    pub(crate) fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Enters stage 1: no new commands.
    pub(crate) fn begin(&self) {
        self.stopping.cancel();
    }

    /// Enters stage 2: drop everything.
    pub(crate) fn force(&self) {
        self.stopping.cancel();
        self.forced.cancel();
    }

    /// Resolves once stage 1 has begun.
    pub(crate) async fn stopping(&self) {
        self.stopping.cancelled().await;
    }

    /// Resolves once stage 2 has begun.
    pub(crate) async fn forced(&self) {
        self.forced.cancelled().await;
    }
}
