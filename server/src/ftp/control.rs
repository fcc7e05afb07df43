//! The door's own handle on an FTP control connection: a duplicate of the
//! socket's descriptor, taken before libunftp gets the stream.
//!
//! Two things need it that libunftp has no hook for. The commit rule of
//! STOR (§6): a client killed mid-upload closes its data connection with
//! an ordinary FIN, indistinguishable from a finished upload, but its
//! control connection ends too; so after the data connection's end the
//! control connection must still be open ([`Control::is_open`]: nothing
//! but an end of stream or an error in its receive queue after a short
//! grace). And the §3.5 lockout: the failed login that reaches the limit,
//! or a login with no home to go to, gets `421` and the connection closes
//! ([`Control::close_with`]), where libunftp could only answer `530`.

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::{RecvFlags, Shutdown};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long after a data connection's end the control connection's end
/// may still be on its way. Both end at once when a client dies, so a
/// few round trips are plenty; every STOR waits this long before its
/// commit, as a client that is alive sends nothing until the reply.
pub(crate) const COMMIT_GRACE: Duration = Duration::from_millis(25);

/// A duplicate of the control connection's socket.
#[derive(Debug, Clone)]
pub(crate) struct Control {
    socket: Arc<OwnedFd>,
    /// Set once the control channel is TLS: bytes can no longer be written
    /// on the side.
    encrypted: Arc<AtomicBool>,
}

impl Control {
    /// Duplicates the descriptor of `stream`.
    pub(crate) fn of(stream: &tokio::net::TcpStream) -> std::io::Result<Control> {
        use std::os::fd::AsFd;
        let socket = stream.as_fd().try_clone_to_owned()?;
        Ok(Control {
            socket: Arc::new(socket),
            encrypted: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Notes that the control channel now runs over TLS.
    pub(crate) fn set_encrypted(&self) {
        self.encrypted.store(true, Ordering::Relaxed);
    }

    /// Whether the client still holds its control connection: waits up to
    /// [`COMMIT_GRACE`] for something to arrive, and says no if that is an
    /// end of stream or an error (a reset). Bytes waiting (a pipelined
    /// command) or nothing at all mean it is open.
    pub(crate) async fn is_open(&self) -> bool {
        let socket = Arc::clone(&self.socket);
        tokio::task::spawn_blocking(move || still_open(&socket, COMMIT_GRACE))
            .await
            .unwrap_or(false)
    }

    /// Writes `reply` (a whole reply line, CRLF included) straight to the
    /// socket unless the channel is encrypted, then shuts the connection
    /// down both ways, so libunftp's own next reply fails and its session
    /// ends.
    pub(crate) fn close_with(&self, reply: &str) {
        if !self.encrypted.load(Ordering::Relaxed) {
            let _ = rustix::net::send(
                &*self.socket,
                reply.as_bytes(),
                rustix::net::SendFlags::DONTWAIT,
            );
        }
        let _ = rustix::net::shutdown(&*self.socket, Shutdown::Both);
    }
}

fn still_open(socket: &OwnedFd, grace: Duration) -> bool {
    let mut fds = [PollFd::new(socket, PollFlags::IN | PollFlags::RDHUP)];
    let timeout = Timespec::try_from(grace).unwrap_or(Timespec {
        tv_sec: 0,
        tv_nsec: 25_000_000,
    });
    loop {
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => return true,
            Ok(_) => break,
            Err(Errno::INTR) => continue,
            Err(_) => return false,
        }
    }
    let revents = fds[0].revents();
    if revents.intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::RDHUP) {
        return false;
    }
    let mut byte = [0u8; 1];
    match rustix::net::recv(socket, &mut byte, RecvFlags::PEEK | RecvFlags::DONTWAIT) {
        Ok((0, _)) => false,
        Ok(_) => true,
        Err(Errno::AGAIN) => true,
        Err(_) => false,
    }
}
