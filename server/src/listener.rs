//! The server's listening sockets: the main listener, where clients speak
//! the protocol from their first byte, the optional proxy listener,
//! where a trusted proxy first names the client (see `proxy`), and the
//! optional FTP door (see `ftp`). One accept call waits on all of them, so the server keeps one accept loop, and each
//! connection knows which door it came through.

use crate::ServerError;
use std::io;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Pending connections the kernel queues before `accept`.
const LISTEN_BACKLOG: u32 = 4096;

/// Which listener a connection came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Door {
    Main,
    Proxy,
    Ftp,
}

/// Who a connection is for: the address that logs, limits and lockouts
/// use, and the proxy that announced it, if it came through one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Client {
    pub addr: SocketAddr,
    pub via: Option<SocketAddr>,
}

impl Client {
    /// A client on the main listener: the socket's peer.
    pub(crate) fn direct(peer: SocketAddr) -> Client {
        Client {
            addr: peer,
            via: None,
        }
    }
}

/// The bound listeners.
#[derive(Debug)]
pub(crate) struct Listeners {
    main: TcpListener,
    main_addr: SocketAddr,
    proxy: Option<(TcpListener, SocketAddr)>,
    ftp: Option<(TcpListener, SocketAddr)>,
}

impl Listeners {
    /// Binds the main listener on `main` and, if asked, the proxy listener
    /// and the FTP door.
    pub(crate) fn bind(
        main: SocketAddr,
        proxy: Option<SocketAddr>,
        ftp: Option<SocketAddr>,
    ) -> Result<Listeners, ServerError> {
        let (main, main_addr) = listen(main)?;
        let proxy = proxy.map(listen).transpose()?;
        let ftp = ftp.map(listen).transpose()?;
        Ok(Listeners {
            main,
            main_addr,
            proxy,
            ftp,
        })
    }

    /// The main listener's address (the real port when bound to port 0).
    pub(crate) fn main_addr(&self) -> SocketAddr {
        self.main_addr
    }

    /// The proxy listener's address, if there is one.
    pub(crate) fn proxy_addr(&self) -> Option<SocketAddr> {
        self.proxy.as_ref().map(|(_, addr)| *addr)
    }

    /// The FTP door's address, if there is one.
    pub(crate) fn ftp_addr(&self) -> Option<SocketAddr> {
        self.ftp.as_ref().map(|(_, addr)| *addr)
    }

    /// The next connection on any listener. Cancel-safe.
    pub(crate) async fn accept(&self) -> (Door, io::Result<(TcpStream, SocketAddr)>) {
        let proxied = async {
            match &self.proxy {
                Some((listener, _)) => listener.accept().await,
                None => std::future::pending().await,
            }
        };
        let ftp = async {
            match &self.ftp {
                Some((listener, _)) => listener.accept().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = self.main.accept() => (Door::Main, accepted),
            accepted = proxied => (Door::Proxy, accepted),
            accepted = ftp => (Door::Ftp, accepted),
        }
    }
}

/// A listening socket with a large backlog, so bursts of thousands of
/// connections are queued rather than refused by the kernel.
fn listen(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServerError> {
    let bound = || -> io::Result<(TcpListener, SocketAddr)> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(LISTEN_BACKLOG)?;
        let local_addr = listener.local_addr()?;
        Ok((listener, local_addr))
    };
    bound().map_err(|source| ServerError::Bind { addr, source })
}

/// Errors of `accept` that concern only the connection being accepted.
pub(crate) fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}
