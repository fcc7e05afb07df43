//! FTP paths to Ferry paths (docs/PROTOCOL.md §6).
//!
//! libunftp hands the back-end the client's argument joined to the working
//! directory (`/docs` + `../a/./b`), absolute or not. Here `.` and `..` are
//! applied lexically and never above the top, which is the session's home
//! (so `RETR ../../etc/passwd` names `etc/passwd` in the home); then every
//! remaining name must be a valid §3.1 name (`553` otherwise). The result
//! is a Ferry path under the home, which the identity puts the home in
//! front of and storage resolves beneath the root without following any
//! link, so confinement does not rest on this lexical step alone.

use crate::session::Identity;
use crate::ServerError;
use ferry_proto::{Name, Path, ProtoError};
use std::path::Component;

/// The entry an FTP path names, from the root: `None` for the root itself
/// (a session whose home is the root, at its top).
pub(crate) fn resolve(
    identity: &Identity,
    ftp: &std::path::Path,
) -> Result<Option<Path>, ServerError> {
    match below_home(ftp)? {
        Some(path) => identity.resolve(&path).map(Some),
        None => Ok(identity.home().cloned()),
    }
}

/// Like [`resolve`], for commands that need an entry inside the home (not
/// the home itself): `550` for the home.
pub(crate) fn resolve_entry(
    identity: &Identity,
    ftp: &std::path::Path,
) -> Result<Path, ServerError> {
    match below_home(ftp)? {
        Some(path) => identity.resolve(&path),
        None => Err(ServerError::Unavailable(
            "Not a file or directory in the home",
        )),
    }
}

/// The path under the home that `ftp` names (`None`: the home).
fn below_home(ftp: &std::path::Path) -> Result<Option<Path>, ServerError> {
    let mut names: Vec<Name> = Vec::new();
    for component in ftp.components() {
        match component {
            Component::Normal(name) => {
                let text = name.to_str().ok_or(ProtoError::InvalidName("not UTF-8"))?;
                names.push(Name::new(text)?);
            }
            Component::ParentDir => {
                names.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    if names.is_empty() {
        return Ok(None);
    }
    let joined: Vec<&str> = names.iter().map(Name::as_str).collect();
    Ok(Some(Path::new(joined.join("/"))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn below(text: &str) -> Option<String> {
        below_home(std::path::Path::new(text))
            .unwrap()
            .map(|path| path.as_str().to_owned())
    }

    #[test]
    fn dots_apply_and_never_climb_above_the_home() {
        assert_eq!(below("/"), None);
        assert_eq!(below("/.."), None);
        assert_eq!(below("/a/../../.."), None);
        assert_eq!(below("/../../etc/passwd").as_deref(), Some("etc/passwd"));
        assert_eq!(below("/a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(below("a/b/").as_deref(), Some("a/b"));
        assert_eq!(below("//a//b").as_deref(), Some("a/b"));
    }

    #[test]
    fn names_are_validated() {
        for bad in [
            "/a\\b",
            "/tab\there",
            "/cr\rlf",
            &format!("/{}", "x".repeat(256)),
        ] {
            assert!(
                matches!(
                    below_home(std::path::Path::new(bad)),
                    Err(ServerError::BadCommand(_))
                ),
                "{bad:?}"
            );
        }
    }
}
