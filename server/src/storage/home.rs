//! Accounts' homes (docs/PROTOCOL.md §3.5): made with their parents at the
//! first login, and measured for quotas.
//!
//! A home is made one directory at a time from the root down, each
//! through [`Storage::mkdir`] (its parent opened beneath the root, no link
//! followed), and each then opened as a directory the same way: a link or
//! a file where a directory of the home should be makes the home
//! unavailable, never followed.
//!
//! A home's usage is measured by walking it, at every STORE and RESUME of
//! an account with a quota (never without one). No cache: homes may
//! overlap (an account whose home is the root writes into everyone's, and
//! so do anonymous sessions there), and files change behind the server's
//! back (an administrator's copy, a restore), so a cached figure is wrong
//! in ways nobody would notice until a quota let too much in or refused
//! an upload that fits. The walk costs one `getdents` per directory and
//! one `fstatat` per entry: 10,000 files in 100 directories take 35 ms
//! (best) to 48 ms (median) from the page cache in a release build on the
//! development machine (2 cores shared with builds; the ignored test
//! `walk_cost` below measures it), so about 4 ms per thousand files. Next
//! to an upload's own cost (its bytes, a flush to disk) that is small for
//! the homes quotas are meant for; a home of a million files would pay
//! seconds per upload and want a cache kept by the server's own writes.

use super::{from_errno, reject_reserved, size, storage_error, Storage, TEMP_DIR};
use crate::ServerError;
use ferry_proto::{Name, Path};
use rustix::fs::{AtFlags, FileType, OFlags};
use rustix::io::Errno;

impl Storage {
    /// Creates the directory `home` and its missing parents; a directory
    /// already there is fine.
    pub(crate) fn make_home(&self, home: &Path) -> Result<(), ServerError> {
        reject_reserved(home)?;
        let mut made: Option<Path> = None;
        for name in home.names() {
            let name = Name::new(name)?;
            let next = match &made {
                None => Path::from(name),
                Some(parent) => parent.join(&name)?,
            };
            match self.mkdir(&next) {
                Ok(()) | Err(ServerError::Unavailable(_)) => {}
                Err(error) => return Err(error),
            }
            self.beneath
                .open(Some(&next), OFlags::PATH | OFlags::DIRECTORY)
                .map_err(|errno| match errno {
                    rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP => {
                        ServerError::Unavailable("Not a directory")
                    }
                    other => from_errno(other),
                })?;
            made = Some(next);
        }
        Ok(())
    }
}

impl Storage {
    /// The sum of the sizes of the regular files under `home` (the root
    /// when `None`), at any depth. Links are never followed, and the staging
    /// area is not counted (kept uploads are counted by their owner).
    /// Entries that vanish during the walk count nothing.
    pub(crate) fn usage(&self, home: Option<&Path>) -> Result<u64, ServerError> {
        let mut total = 0u64;
        let mut pending = vec![home.cloned()];
        while let Some(dir) = pending.pop() {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY;
            let fd = match self.beneath.open(dir.as_ref(), flags) {
                Ok(fd) => fd,
                // Removed or swapped for a link since it was listed.
                Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::XDEV) => continue,
                Err(errno) => return Err(from_errno(errno)),
            };
            let mut reader = rustix::fs::Dir::new(fd).map_err(storage_error)?;
            while let Some(entry) = reader.next() {
                let entry = entry.map_err(storage_error)?;
                let Some(name) = entry
                    .file_name()
                    .to_str()
                    .ok()
                    .and_then(|name| Name::new(name).ok())
                else {
                    continue;
                };
                if dir.is_none() && name.as_str() == TEMP_DIR {
                    continue;
                }
                let at = reader.fd().map_err(storage_error)?;
                let stat = match rustix::fs::statat(at, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(stat) => stat,
                    Err(Errno::NOENT) => continue,
                    Err(errno) => return Err(storage_error(errno)),
                };
                match FileType::from_raw_mode(stat.st_mode) {
                    FileType::RegularFile => total = total.saturating_add(size(&stat)),
                    FileType::Directory => {
                        // A directory too deep for a path of the protocol
                        // cannot be reached by a client, nor counted here.
                        let below = match &dir {
                            None => Some(Path::from(name)),
                            Some(dir) => dir.join(&name).ok(),
                        };
                        pending.extend(below.map(Some));
                    }
                    _ => {}
                }
            }
        }
        Ok(total)
    }

    /// The size of the regular file at `path`, or 0 when there is none (an
    /// upload there replaces that many bytes).
    pub(crate) fn replaced_size(&self, path: &Path) -> Result<u64, ServerError> {
        match self.stat(path) {
            Ok(ferry_proto::Status {
                kind: ferry_proto::EntryKind::File { size },
                ..
            }) => Ok(size),
            Ok(_) | Err(ServerError::NoSuchFile) => Ok(0),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_home_is_made_with_its_parents_and_never_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let storage = Storage::open(&root, std::time::Duration::ZERO).unwrap();
        let home = Path::new("teams/blue/alice").unwrap();
        storage.make_home(&home).unwrap();
        assert!(root.join("teams/blue/alice").is_dir());
        storage.make_home(&home).unwrap();

        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("linked")).unwrap();
        assert!(storage
            .make_home(&Path::new("linked/bob").unwrap())
            .is_err());
        assert!(!outside.join("bob").exists());

        std::fs::write(root.join("file"), b"x").unwrap();
        assert!(storage
            .make_home(&Path::new("file/carol").unwrap())
            .is_err());
        let staging = Path::new(crate::TEMP_DIR)
            .unwrap()
            .join(&Name::new("x").unwrap());
        assert!(storage.make_home(&staging.unwrap()).is_err());
    }

    #[test]
    fn usage_sums_regular_files_at_any_depth_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let storage = Storage::open(&root, std::time::Duration::ZERO).unwrap();
        for sample in std::fs::read_dir(&root).unwrap() {
            let sample = sample.unwrap().path();
            if sample.is_file() {
                std::fs::remove_file(sample).unwrap();
            }
        }
        std::fs::create_dir_all(root.join("h/a/b")).unwrap();
        std::fs::write(root.join("h/one"), vec![0; 10]).unwrap();
        std::fs::write(root.join("h/a/b/two"), vec![0; 32]).unwrap();
        std::fs::write(root.join("outside"), vec![0; 1000]).unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("big"), vec![0; 5000]).unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join("h/a/link")).unwrap();
        std::os::unix::fs::symlink(elsewhere.join("big"), root.join("h/big")).unwrap();
        std::fs::write(root.join(TEMP_DIR).join("upload"), vec![0; 700]).unwrap();
        let home = Path::new("h").unwrap();
        assert_eq!(storage.usage(Some(&home)).unwrap(), 42);
        assert_eq!(storage.usage(None).unwrap(), 1042, "not the staging area");
        let one = Path::new("h/one").unwrap();
        assert_eq!(storage.replaced_size(&one).unwrap(), 10);
        assert_eq!(
            storage
                .replaced_size(&Path::new("h/none").unwrap())
                .unwrap(),
            0
        );
        assert_eq!(
            storage.replaced_size(&Path::new("h/a").unwrap()).unwrap(),
            0
        );
        assert_eq!(
            storage.replaced_size(&Path::new("h/big").unwrap()).unwrap(),
            0
        );
        assert_eq!(storage.usage(Some(&Path::new("gone").unwrap())).unwrap(), 0);
    }
}

#[cfg(test)]
mod cost {
    use super::*;

    /// `cargo test -p ferry-server --release --lib walk_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, not a check"]
    fn walk_cost() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let storage = Storage::open(&root, std::time::Duration::ZERO).unwrap();
        for d in 0..100 {
            let sub = root.join(format!("h/d{d}"));
            std::fs::create_dir_all(&sub).unwrap();
            for f in 0..100 {
                std::fs::write(sub.join(format!("f{f}")), b"x").unwrap();
            }
        }
        let home = Path::new("h").unwrap();
        assert_eq!(storage.usage(Some(&home)).unwrap(), 10_000);
        let mut times = Vec::new();
        for _ in 0..20 {
            let started = std::time::Instant::now();
            storage.usage(Some(&home)).unwrap();
            times.push(started.elapsed());
        }
        times.sort();
        eprintln!(
            "10,000 files in 100 directories: best {:?}, median {:?}",
            times[0], times[10]
        );
    }
}
