//! Remote paths as people type them, turned into protocol paths.
//!
//! The protocol knows only paths below the home, with neither `.` nor `..`
//! (docs/PROTOCOL.md §3.1), so a working directory, `..` and a leading `/`
//! are the client's own business: they are resolved here and never sent.
//! `..` at the home stays at the home, as in FTP. Each name is still
//! validated by ferry-proto before anything reaches the server.

use crate::ClientError;
use ferry_proto::{Name, Path};
use std::fmt;

/// The client's remote working directory: the home or a directory in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteDir(Option<Path>);

impl RemoteDir {
    /// The home directory.
    pub fn home() -> RemoteDir {
        RemoteDir(None)
    }

    /// The directory as a protocol path (`None` for the home).
    pub fn path(&self) -> Option<&Path> {
        self.0.as_ref()
    }

    /// Resolves what was typed against this directory: `None` is the home.
    pub fn resolve(&self, typed: &str) -> Result<Option<Path>, ClientError> {
        resolve(self.0.as_ref(), typed)
    }

    /// Resolves what was typed to a path that must name an entry below the
    /// home (the home itself cannot be a file, nor removed or renamed).
    pub fn resolve_entry(&self, typed: &str) -> Result<Path, ClientError> {
        self.resolve(typed)?
            .ok_or_else(|| ClientError::InvalidName {
                name: typed.to_owned(),
                reason: "that is the home directory itself, not an entry in it".to_owned(),
            })
    }

    /// This directory after `CD typed` (not checked with the server here).
    pub fn join(&self, typed: &str) -> Result<RemoteDir, ClientError> {
        Ok(RemoteDir(self.resolve(typed)?))
    }
}

impl From<Option<Path>> for RemoteDir {
    fn from(path: Option<Path>) -> RemoteDir {
        RemoteDir(path)
    }
}

impl fmt::Display for RemoteDir {
    /// `/` for the home, `/a/b` below it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("/"),
            Some(path) => write!(f, "/{path}"),
        }
    }
}

/// Resolves `typed` against `cwd` (`None`: the home): `/` starts at the
/// home, `.` and empty names are skipped, `..` goes up (never above the
/// home). `None` is the home itself.
pub fn resolve(cwd: Option<&Path>, typed: &str) -> Result<Option<Path>, ClientError> {
    let invalid = |reason: String| ClientError::InvalidName {
        name: typed.to_owned(),
        reason,
    };
    if typed.is_empty() {
        return Err(invalid("it is empty".to_owned()));
    }
    let mut names: Vec<&str> = match (typed.starts_with('/'), cwd) {
        (false, Some(cwd)) => cwd.names().collect(),
        _ => Vec::new(),
    };
    for name in typed.split('/') {
        match name {
            "" | "." => {}
            ".." => {
                names.pop();
            }
            name => {
                Name::new(name).map_err(|error| invalid(reason_of(error)))?;
                names.push(name);
            }
        }
    }
    if names.is_empty() {
        return Ok(None);
    }
    Path::new(names.join("/"))
        .map(Some)
        .map_err(|error| invalid(reason_of(error)))
}

/// Validates a path typed for a one-shot command (relative to the home).
pub fn remote_path(typed: &str) -> Result<Path, ClientError> {
    RemoteDir::home().resolve_entry(typed)
}

/// The words of a ferry-proto validation error.
fn reason_of(error: ferry_proto::ProtoError) -> String {
    match error {
        ferry_proto::ProtoError::InvalidName(reason)
        | ferry_proto::ProtoError::InvalidPath(reason) => reason.to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(path: &str) -> RemoteDir {
        RemoteDir::home().join(path).unwrap()
    }

    fn shown(cwd: &RemoteDir, typed: &str) -> String {
        cwd.join(typed).unwrap().to_string()
    }

    #[test]
    fn paths_resolve_against_the_working_directory() {
        let cwd = dir("a/b");
        assert_eq!(cwd.to_string(), "/a/b");
        assert_eq!(shown(&cwd, "c d"), "/a/b/c d");
        assert_eq!(shown(&cwd, ".."), "/a");
        assert_eq!(shown(&cwd, "../../.."), "/");
        assert_eq!(shown(&cwd, "/x/./y/"), "/x/y");
        assert_eq!(shown(&cwd, "../c/../d"), "/a/d");
        assert_eq!(shown(&RemoteDir::home(), ".."), "/");
        assert_eq!(cwd.resolve("/").unwrap(), None);
        assert_eq!(cwd.resolve_entry("f.txt").unwrap().as_str(), "a/b/f.txt");
        assert_eq!(remote_path("/top/f").unwrap().as_str(), "top/f");
    }

    #[test]
    fn bad_names_and_the_home_are_refused_in_words() {
        let cwd = RemoteDir::home();
        for bad in ["", "a\tb", "x/\u{7f}"] {
            assert!(
                matches!(cwd.resolve(bad), Err(ClientError::InvalidName { .. })),
                "{bad:?}"
            );
        }
        let error = cwd.resolve_entry("a/..").unwrap_err().to_string();
        assert!(error.contains("home directory itself"), "{error}");
        let long = vec!["n"; 3000].join("/");
        assert!(cwd.resolve(&long).unwrap_err().to_string().contains("4096"));
    }
}
