//! Letting an accepted connection in: on the proxy listener first the
//! peer's trust and its PROXY header, which decide the client address the
//! connection is served as; then that address must not be locked out by
//! failed logins (§3.5: `421` instead of `220`), it must hold fewer than
//! `--max-per-address` connections (so one client cannot take every slot
//! and lock the others out: the global cap alone would let it), and a
//! connection slot must be free. Kept apart from the accept loop so that loop only accepts, and
//! the door's rules live in one place.

use crate::listener::Client;
use crate::shutdown::Shutdown;
use crate::{proxy, refuse, serve, ServerError, Shared};
use ferry_program::{AddressSlot, PerAddress};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

/// The places an admitted connection holds until its session ends (the
/// Ferry protocol gives them back before the closing linger, so a client
/// that has seen its connection close may count its slot free).
pub(crate) struct Slot {
    _connection: OwnedSemaphorePermit,
    _address: AddressSlot,
}

/// What a new connection needs to be let in.
pub(crate) struct Admission {
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) per_address: PerAddress,
    pub(crate) shared: Arc<Shared>,
    pub(crate) stop: Shutdown,
}

impl Admission {
    /// Takes a connection slot now and serves `client` on a task of its
    /// own, or refuses it with `421` when it is locked out, its address
    /// holds `--max-per-address` connections, or every slot is taken.
    pub(crate) fn admit(self, stream: TcpStream, client: Client, tasks: &TaskTracker) {
        match self.slot_for(&client) {
            Ok(slot) => {
                tasks.spawn(async move {
                    serve(stream, client, &self.shared, &self.stop, slot).await;
                });
            }
            Err(why) => {
                tasks.spawn(refuse(stream, client, why));
            }
        }
    }

    /// Like [`Admission::admit`], for the FTP door: the same limits and
    /// lockout, counted with every other connection.
    pub(crate) fn admit_ftp(self, stream: TcpStream, client: Client, tasks: &TaskTracker) {
        match self.slot_for(&client) {
            Ok(slot) => {
                tasks.spawn(async move {
                    crate::ftp::serve(stream, client, self.shared, self.stop).await;
                    drop(slot);
                });
            }
            Err(why) => {
                tasks.spawn(refuse(stream, client, why));
            }
        }
    }

    /// A slot for `client`, unless its address is locked out by failed
    /// logins, holds `--max-per-address` connections, or every slot is
    /// taken. A refused client takes no slot of either kind.
    fn slot_for(&self, client: &Client) -> Result<Slot, ServerError> {
        let ip = client.addr.ip();
        if self.shared.logins.failures.is_locked_out(ip) {
            return Err(ServerError::TooManyFailedLogins);
        }
        let address = self
            .per_address
            .try_acquire(ip)
            .map_err(|_| ServerError::TooManyFromAddress)?;
        let connection = Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| ServerError::TooManyConnections)?;
        Ok(Slot {
            _connection: connection,
            _address: address,
        })
    }

    /// A connection on the proxy listener: closed without a reply unless it
    /// comes from a trusted proxy and begins with a valid PROXY header in
    /// time; then served (or refused) as the client the header announces.
    pub(crate) async fn identify_then_serve(self, mut stream: TcpStream, peer: SocketAddr) {
        let Some(door) = self.shared.config.proxy.as_ref() else {
            return;
        };
        if !door.trusts(peer.ip()) {
            tracing::info!(proxy = %peer, "proxied connection closed: not a trusted proxy");
            return;
        }
        let announced = tokio::select! {
            announced = proxy::read_header(&mut stream, peer, door.header_timeout) => announced,
            () = self.stop.stopping() => return,
        };
        let client = match announced {
            Ok(addr) => Client {
                addr,
                via: Some(peer),
            },
            Err(error) => {
                tracing::info!(proxy = %peer, %error, "proxied connection closed");
                return;
            }
        };
        match self.slot_for(&client) {
            Ok(slot) => serve(stream, client, &self.shared, &self.stop, slot).await,
            Err(why) => refuse(stream, client, why).await,
        }
    }
}
