//! The system calls of the splice path, the only Linux-only code of the
//! bridge: a pipe, splice(2) into and out of it, and send(2) with MSG_MORE.
//!
//! Everything above this file (frame writing, the switch from copying) is
//! plain Rust and builds everywhere. Elsewhere [`SPLICE_EXISTS`] is false,
//! so no download ever switches and the [`Pipe`] that cannot be made there
//! is a type with no values.

/// Whether downloads can be spliced on this system.
pub(super) const SPLICE_EXISTS: bool = cfg!(target_os = "linux");

#[cfg(not(target_os = "linux"))]
pub(super) use elsewhere::Pipe;
#[cfg(target_os = "linux")]
pub(super) use linux::Pipe;

#[cfg(target_os = "linux")]
mod linux {
    use rustix::net::SendFlags;
    use rustix::pipe::{PipeFlags, SpliceFlags};
    use std::io;
    use std::os::fd::OwnedFd;
    use tokio::net::TcpStream;

    /// The default `/proc/sys/fs/pipe-max-size`: the most an unprivileged
    /// process may ask for, tried when a larger size is refused.
    const DEFAULT_PIPE_MAX: usize = 1 << 20;

    /// A non-blocking pipe that payload bytes pass through in the kernel.
    pub(in crate::relay) struct Pipe {
        /// Read end.
        read_end: OwnedFd,
        /// Write end.
        write_end: OwnedFd,
        /// Bytes it holds at most.
        capacity: usize,
    }

    impl Pipe {
        /// A pipe of (about) `size` bytes. Fails when no pipe can be made
        /// (file descriptor limits).
        pub(in crate::relay) fn new(size: usize) -> io::Result<Pipe> {
            let (read_end, write_end) =
                rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
            // The kernel rounds up to a power of two pages and may refuse (above
            // pipe-max-size, or a user past pipe-user-pages-soft): a smaller
            // pipe, even the default one, works too, with smaller frames.
            let capacity = rustix::pipe::fcntl_setpipe_size(&write_end, size)
                .or_else(|_| rustix::pipe::fcntl_setpipe_size(&write_end, DEFAULT_PIPE_MAX))
                .or_else(|_| rustix::pipe::fcntl_getpipe_size(&write_end))?;
            Ok(Pipe {
                read_end,
                write_end,
                capacity,
            })
        }

        /// Bytes the pipe holds at most.
        pub(in crate::relay) fn capacity(&self) -> usize {
            self.capacity
        }

        /// One splice of at most `room` bytes from `from` into the pipe.
        pub(in crate::relay) fn fill_from(
            &self,
            from: &TcpStream,
            room: usize,
        ) -> io::Result<usize> {
            rustix::pipe::splice(
                from,
                None,
                &self.write_end,
                None,
                room,
                SpliceFlags::NONBLOCK,
            )
            .map_err(io::Error::from)
        }

        /// One splice of at most `len` bytes from the pipe into `to`.
        pub(in crate::relay) fn drain_into(&self, to: &TcpStream, len: usize) -> io::Result<usize> {
            rustix::pipe::splice(&self.read_end, None, to, None, len, SpliceFlags::NONBLOCK)
                .map_err(io::Error::from)
        }

        /// Sends `bytes` (a frame header) to `to` ahead of the payload this
        /// pipe will drain into it. MORE: the header waits for the payload
        /// instead of leaving in a tiny segment of its own (the socket has
        /// TCP_NODELAY).
        pub(in crate::relay) fn send_ahead(
            &self,
            to: &TcpStream,
            bytes: &[u8],
        ) -> io::Result<usize> {
            rustix::net::send(to, bytes, SendFlags::MORE | SendFlags::NOSIGNAL)
                .map_err(io::Error::from)
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod elsewhere {
    use std::io;
    use tokio::net::TcpStream;

    /// No pipe exists here; no value of this type can be made.
    pub(in crate::relay) enum Pipe {}

    impl Pipe {
        pub(in crate::relay) fn new(_size: usize) -> io::Result<Pipe> {
            Err(io::ErrorKind::Unsupported.into())
        }

        pub(in crate::relay) fn capacity(&self) -> usize {
            match *self {}
        }

        pub(in crate::relay) fn fill_from(
            &self,
            _from: &TcpStream,
            _room: usize,
        ) -> io::Result<usize> {
            match *self {}
        }

        pub(in crate::relay) fn drain_into(
            &self,
            _to: &TcpStream,
            _len: usize,
        ) -> io::Result<usize> {
            match *self {}
        }

        pub(in crate::relay) fn send_ahead(
            &self,
            _to: &TcpStream,
            _bytes: &[u8],
        ) -> io::Result<usize> {
            match *self {}
        }
    }
}
