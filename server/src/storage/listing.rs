//! LIST's reading of one directory. The names come from one pass of
//! `getdents`; each entry's size and time then need a `statat`, the bulk of
//! the cost (a few µs each, nearly all in the kernel), so a large
//! directory's entries are statted by several threads at once: a listing
//! of 100,000 files takes about half the time on two cores.

use super::{from_errno, modified, reject_reserved, size, storage_error, Storage, TEMP_DIR};
use crate::ServerError;
use ferry_proto::{ListingEntry, Name, Path};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, OFlags};
use rustix::io::Errno;

/// Below this many names one thread stats them all: starting threads costs
/// more than it saves.
const PARALLEL_FROM: usize = 4096;
/// The most threads one listing uses.
const MAX_THREADS: usize = 4;

impl Storage {
    /// The entries of the root (`None`) or of a directory in it: regular
    /// files and directories with valid names, unsorted.
    pub(crate) fn list(&self, dir: Option<&Path>) -> Result<Vec<ListingEntry>, ServerError> {
        if let Some(dir) = dir {
            reject_reserved(dir)?;
        }
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        let fd: OwnedFd = self.beneath.open(dir, flags).map_err(|errno| match errno {
            Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::XDEV => {
                ServerError::Unavailable("No such directory")
            }
            other => from_errno(other),
        })?;
        let names = read_names(&fd, dir.is_none())?;
        let threads = if names.len() < PARALLEL_FROM {
            1
        } else {
            std::thread::available_parallelism()
                .map_or(1, usize::from)
                .min(MAX_THREADS)
        };
        if threads == 1 {
            return stat_all(fd.as_fd(), names);
        }
        let chunk = names.len().div_ceil(threads);
        let mut chunks = Vec::with_capacity(threads);
        let mut rest = names;
        while rest.len() > chunk {
            let tail = rest.split_off(chunk);
            chunks.push(rest);
            rest = tail;
        }
        chunks.push(rest);
        let dir_fd = fd.as_fd();
        let parts: Vec<Result<Vec<ListingEntry>, ServerError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|names| scope.spawn(move || stat_all(dir_fd, names)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(ServerError::Storage(std::io::Error::other(
                            "a listing thread panicked",
                        )))
                    })
                })
                .collect()
        });
        let mut entries = Vec::new();
        for part in parts {
            entries.extend(part?);
        }
        Ok(entries)
    }
}

/// The valid names of the directory that may be files or directories (the
/// staging area left out at the top).
fn read_names(fd: &OwnedFd, at_top: bool) -> Result<Vec<Name>, ServerError> {
    let reader = rustix::fs::Dir::read_from(fd).map_err(storage_error)?;
    let mut names = Vec::new();
    for entry in reader {
        let entry = entry.map_err(storage_error)?;
        let Some(name) = entry
            .file_name()
            .to_str()
            .ok()
            .and_then(|n| Name::new(n).ok())
        else {
            continue; // ".", "..", and names the protocol cannot express
        };
        if at_top && name.as_str() == TEMP_DIR {
            continue;
        }
        if matches!(
            entry.file_type(),
            FileType::RegularFile | FileType::Directory | FileType::Unknown
        ) {
            names.push(name);
        }
    }
    Ok(names)
}

/// The rows of `names` in the directory `dir`: each statted without
/// following a link, and kept only if it is a regular file or a directory.
fn stat_all(dir: BorrowedFd<'_>, names: Vec<Name>) -> Result<Vec<ListingEntry>, ServerError> {
    let mut entries = Vec::with_capacity(names.len());
    for name in names {
        let stat = match rustix::fs::statat(dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            // Removed since the directory was read.
            Err(Errno::NOENT) => continue,
            Err(errno) => return Err(storage_error(errno)),
        };
        let modified = modified(&stat);
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => entries.push(ListingEntry::file(name, size(&stat), modified)),
            FileType::Directory => entries.push(ListingEntry::directory(name, modified)),
            _ => {}
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A directory large enough to be statted by several threads lists
    /// every file and directory once, with its size, and nothing else.
    #[test]
    fn large_directory_lists_each_entry_once() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().join("root");
        let storage = Storage::open(&root, Duration::from_secs(60)).unwrap();
        let big = root.join("big");
        std::fs::create_dir(&big).unwrap();
        let files = PARALLEL_FROM * 2 + 7;
        for index in 0..files {
            std::fs::write(big.join(format!("f{index}")), vec![b'x'; index % 5]).unwrap();
        }
        std::fs::create_dir(big.join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", big.join("link")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            big.join("fifo"),
            FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let entries = storage.list(Some(&Path::new("big").unwrap())).unwrap();
        assert_eq!(entries.len(), files + 1);
        let mut names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), files + 1, "an entry listed twice");
        for entry in &entries {
            match entry.name.as_str() {
                "sub" => assert!(entry.is_dir()),
                name => {
                    let index: usize = name[1..].parse().unwrap();
                    assert_eq!(entry.size(), Some((index % 5) as u64), "{name}");
                }
            }
        }
    }
}
