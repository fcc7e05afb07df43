//! Opening a path beneath the root, resolved by the kernel so that no
//! component can be a symbolic link and nothing can lead out of the root.
//!
//! `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS` walks the whole
//! path inside one system call: there is no moment between a check and a
//! use in which someone could swap a directory for a link. Where the kernel
//! lacks `openat2` (`ENOSYS`, before Linux 5.6), the same walk is done one
//! name at a time, each an `openat` relative to the directory opened just
//! before with `O_NOFOLLOW` (what cap-std's no-follow walk does): again
//! every step holds a descriptor, never a path, so there is no race either.
//!
//! A valid [`Path`] holds neither `..` nor a leading `/`, so "beneath" is
//! already true of the text; the kernel makes it true of the tree as well.

use ferry_proto::Path;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{openat, openat2, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::sync::atomic::{AtomicBool, Ordering};

/// How often a resolution that the kernel asks to retry (`EAGAIN`: a
/// rename raced with it) is retried before the walk is done by hand.
const RETRIES: usize = 8;

/// The root directory, and how paths are resolved beneath it.
#[derive(Debug)]
pub(crate) struct Beneath {
    root: OwnedFd,
    /// False once `openat2` answered `ENOSYS`.
    kernel_resolves: AtomicBool,
}

impl Beneath {
    /// Resolves beneath `root`, a directory opened for reading.
    pub(crate) fn new(root: OwnedFd) -> Beneath {
        Beneath {
            root,
            kernel_resolves: AtomicBool::new(true),
        }
    }

    /// Opens `path` (the root when `None`) with `flags`, never following a
    /// symbolic link: one as the last name is opened itself with `O_PATH`,
    /// refused with `ELOOP` otherwise, and one in the middle is `ELOOP`
    /// (or `ENOTDIR`) whatever the flags.
    pub(crate) fn open(&self, path: Option<&Path>, flags: OFlags) -> Result<OwnedFd, Errno> {
        let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let text = path.map_or(".", Path::as_str);
        if self.kernel_resolves.load(Ordering::Relaxed) {
            let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS;
            for _ in 0..RETRIES {
                match openat2(&self.root, text, flags, Mode::empty(), resolve) {
                    Err(Errno::AGAIN) => continue,
                    Err(Errno::NOSYS) => {
                        self.kernel_resolves.store(false, Ordering::Relaxed);
                        break;
                    }
                    result => return result,
                }
            }
        }
        self.walk(path, flags)
    }

    /// The same resolution one name at a time.
    fn walk(&self, path: Option<&Path>, flags: OFlags) -> Result<OwnedFd, Errno> {
        let Some(path) = path else {
            return openat(&self.root, ".", flags, Mode::empty());
        };
        let mut names = path.names().peekable();
        let mut dir: Option<OwnedFd> = None;
        while let Some(name) = names.next() {
            let at = dir.as_ref().map_or(self.root.as_fd(), AsFd::as_fd);
            if names.peek().is_none() {
                return openat(at, name, flags, Mode::empty());
            }
            let step = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            dir = Some(openat(at, name, step, Mode::empty())?);
        }
        unreachable!("a valid path has at least one name")
    }

    /// Whether the kernel does the resolving (for tests).
    #[cfg(test)]
    pub(crate) fn uses_openat2(&self) -> bool {
        self.kernel_resolves.load(Ordering::Relaxed)
    }

    /// Forces the by-hand walk (for tests of the fallback).
    #[cfg(test)]
    pub(crate) fn without_openat2(self) -> Beneath {
        self.kernel_resolves.store(false, Ordering::Relaxed);
        self
    }
}
