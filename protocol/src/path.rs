//! Validated paths: one or more [`Name`]s joined by single `/`.
//!
//! A path names an entry inside the session's home (docs/PROTOCOL.md §3.1).
//! Every component is a valid name, so none is `.` or `..` and none is
//! empty; with no leading `/` either, a valid path can only ever go down
//! from the home, never up or sideways. A traversal is not representable.

use crate::name::validate;
use crate::{Name, ProtoError};
use std::fmt;

/// Longest valid path, in bytes of UTF-8.
pub const MAX_PATH_LEN: usize = 4096;

/// A path that satisfies docs/PROTOCOL.md §3.1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path(String);

impl Path {
    /// Validates `path` and wraps it.
    pub fn new(path: impl Into<String>) -> Result<Path, ProtoError> {
        Path::checked(path.into())
    }

    /// [`Path::new`] compiled once, not once per argument type.
    fn checked(path: String) -> Result<Path, ProtoError> {
        if path.is_empty() {
            return Err(ProtoError::InvalidPath("empty"));
        }
        if path.len() > MAX_PATH_LEN {
            return Err(ProtoError::InvalidPath("longer than 4096 bytes"));
        }
        if path.starts_with('/') {
            return Err(ProtoError::InvalidPath("starts with '/'"));
        }
        if path.ends_with('/') {
            return Err(ProtoError::InvalidPath("ends with '/'"));
        }
        for name in path.split('/') {
            if name.is_empty() {
                return Err(ProtoError::InvalidPath("holds an empty name ('//')"));
            }
            validate(name)?;
        }
        Ok(Path(path))
    }

    /// Validates raw bytes (as they come off the wire) as a path.
    pub fn from_bytes(bytes: &[u8]) -> Result<Path, ProtoError> {
        let text = std::str::from_utf8(bytes).map_err(|_| ProtoError::InvalidPath("not UTF-8"))?;
        Path::new(text)
    }

    /// The path as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Unwraps the inner string.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The names of the path, from the top down; each one a valid [`Name`].
    pub fn names(&self) -> impl DoubleEndedIterator<Item = &str> + '_ {
        self.0.split('/')
    }

    /// The first name (the entry directly in the home this path is under).
    pub fn first_name(&self) -> &str {
        self.names().next().unwrap_or(&self.0)
    }

    /// The last name (the entry the path denotes, inside its parent).
    pub fn last_name(&self) -> Name {
        let last = self.0.rsplit('/').next().unwrap_or(&self.0);
        // Every name of a valid path is valid (and `expect` would bring
        // `ProtoError`'s `Debug` into the web page's WebAssembly).
        Name::valid(last)
    }

    /// The directory holding the entry, or `None` for an entry directly in
    /// the home.
    pub fn parent(&self) -> Option<Path> {
        self.0
            .rsplit_once('/')
            .map(|(parent, _)| Path(parent.to_owned()))
    }

    /// `self/name`, if that is still short enough.
    pub fn join(&self, name: &Name) -> Result<Path, ProtoError> {
        let joined = format!("{}/{}", self.0, name);
        if joined.len() > MAX_PATH_LEN {
            return Err(ProtoError::InvalidPath("longer than 4096 bytes"));
        }
        Ok(Path(joined))
    }

    /// Whether `self` is `ancestor` or lies somewhere beneath it (by whole
    /// names: `ab` is not beneath `a`).
    pub fn is_within(&self, ancestor: &Path) -> bool {
        match self.0.strip_prefix(ancestor.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

impl From<Name> for Path {
    /// A name is a path of one name.
    fn from(name: Name) -> Path {
        Path(name.into_string())
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Path {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Path {
    type Err = ProtoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Path::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_nested_paths_of_valid_names() {
        for ok in ["a", "a/b", "dir/sub dir/ünï.txt", ".hidden/...", "a..b/c"] {
            assert_eq!(Path::new(ok).unwrap().as_str(), ok);
        }
        let deep = vec!["x".repeat(255); 16].join("/");
        assert_eq!(deep.len(), 4095);
        assert!(Path::new(&deep).is_ok());
        assert!(Path::new(format!("{deep}y")).is_err(), "4096 + 1 bytes");
    }

    #[test]
    fn rejects_what_the_contract_forbids() {
        for bad in [
            "", "/", "/a", "a/", "a//b", "..", "a/..", "a/../b", "./a", "a/./b", "a\\b", "a/b\0",
            "a\tb/c", "a/\u{7f}",
        ] {
            assert!(Path::new(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(Path::new(format!("a/{}", "n".repeat(256))).is_err());
        assert!(Path::from_bytes(b"a/\xff").is_err());
        let every_error_is_553 = [Path::new("a//b"), Path::new("a/.."), Path::new("/x")];
        for error in every_error_is_553 {
            assert_eq!(error.unwrap_err().reply_code(), Some(553));
        }
    }

    #[test]
    fn components_parent_and_last_name() {
        let path = Path::new("a/b c/d.txt").unwrap();
        assert_eq!(path.names().collect::<Vec<_>>(), ["a", "b c", "d.txt"]);
        assert_eq!(path.first_name(), "a");
        assert_eq!(path.last_name().as_str(), "d.txt");
        assert_eq!(path.parent(), Some(Path::new("a/b c").unwrap()));
        assert_eq!(Path::new("top").unwrap().parent(), None);
        let joined = Path::new("a").unwrap().join(&Name::new("b").unwrap());
        assert_eq!(joined.unwrap().as_str(), "a/b");
        assert_eq!(Path::from(Name::new("n").unwrap()).as_str(), "n");
    }

    #[test]
    fn within_is_by_whole_names() {
        let a = Path::new("a").unwrap();
        assert!(Path::new("a").unwrap().is_within(&a));
        assert!(Path::new("a/b").unwrap().is_within(&a));
        assert!(!Path::new("ab").unwrap().is_within(&a));
        assert!(!Path::new("b/a").unwrap().is_within(&a));
    }

    proptest! {
        #[test]
        fn valid_paths_round_trip_through_their_names(
            names in proptest::collection::vec("[^/\\\\\\x00-\\x1f\\x7f]{1,20}", 1..6),
        ) {
            prop_assume!(names.iter().all(|n| n != "." && n != ".."));
            let text = names.join("/");
            let path = Path::new(text.clone()).unwrap();
            prop_assert_eq!(path.names().collect::<Vec<_>>(), names.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(path.as_str(), text);
        }

        #[test]
        fn new_never_panics(text in "\\PC{0,40}") {
            let _ = Path::new(text);
        }
    }
}
