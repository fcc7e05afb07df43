//! What an account is: its name, its home, its access and its quota, each
//! validated when read so the rest of the server never sees a bad one.
//!
//! A home is the root or a path below it made of valid names (§3.1): never
//! absolute, never `..`, so an account can never be given a home outside
//! the root, whatever the file says.

use ferry_proto::Name;
use std::fmt;
use std::str::FromStr;

/// Longest account name, in bytes.
pub const MAX_ACCOUNT_NAME_LEN: usize = 64;
/// Longest home, in bytes (the longest path of §3.1).
pub const MAX_HOME_LEN: usize = 4096;

/// An account as the server uses it after a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The name given to `USER`.
    pub name: AccountName,
    /// Where the account's paths start.
    pub home: Home,
    /// Whether the account may change files.
    pub access: Access,
    /// Most bytes the account may keep under its home, if limited.
    pub quota: Option<u64>,
}

/// A valid account name: 1 to 64 ASCII letters, digits, `.`, `_`, `-` or
/// `@`, starting with a letter or a digit. Narrow on purpose: a name shows
/// up in logs, in the `USER` line and in the tool's arguments, and this set
/// is safe in all three (no spaces, no look-alike Unicode, never a flag).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountName(String);

impl AccountName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AccountName {
    type Err = String;

    fn from_str(name: &str) -> Result<AccountName, String> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
        let starts_well = name.starts_with(|c: char| c.is_ascii_alphanumeric());
        if name.is_empty()
            || name.len() > MAX_ACCOUNT_NAME_LEN
            || !starts_well
            || !name.chars().all(allowed)
        {
            return Err(format!(
                "invalid account name {name:?}: use 1 to {MAX_ACCOUNT_NAME_LEN} letters, digits, '.', '_', '-' or '@', starting with a letter or digit"
            ));
        }
        Ok(AccountName(name.to_owned()))
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an account's paths start: the root, or a directory below it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Home {
    /// The server's root.
    #[default]
    Root,
    /// A relative path of valid names below the root (created at the first
    /// login if missing).
    Below(String),
}

impl Home {
    /// The names from the root down to the home (none for the root).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let path = match self {
            Home::Root => None,
            Home::Below(path) => Some(path.as_str()),
        };
        path.into_iter().flat_map(|path| path.split('/'))
    }

    /// Whether this is the root itself.
    pub fn is_root(&self) -> bool {
        matches!(self, Home::Root)
    }
}

impl FromStr for Home {
    type Err = String;

    fn from_str(path: &str) -> Result<Home, String> {
        let refuse = |why: &str| Err(format!("invalid home {path:?}: {why}"));
        if path.is_empty() {
            return refuse("empty (leave the home out for the root)");
        }
        if path.starts_with('/') {
            return refuse("must be relative to the root, not absolute");
        }
        if path.len() > MAX_HOME_LEN {
            return refuse("longer than 4096 bytes");
        }
        for name in path.split('/') {
            if name.is_empty() {
                return refuse("holds an empty name (a leading, trailing or double '/')");
            }
            if let Err(error) = Name::new(name) {
                return refuse(&format!("{name:?} is not a valid name ({error})"));
            }
        }
        Ok(Home::Below(path.to_owned()))
    }
}

impl fmt::Display for Home {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Home::Root => f.write_str("(root)"),
            Home::Below(path) => f.write_str(path),
        }
    }
}

/// What an account may do with the files under its home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and list only: changes get `550 Read-only`.
    ReadOnly,
    /// Every command.
    ReadWrite,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::ReadOnly => "read-only",
            Access::ReadWrite => "read-write",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names() {
        for good in ["alice", "Bob.Smith", "u_1-2@example.org", "7"] {
            assert_eq!(good.parse::<AccountName>().unwrap().as_str(), good);
        }
        let long = "a".repeat(MAX_ACCOUNT_NAME_LEN + 1);
        for bad in [
            "",
            "-rf",
            ".hidden",
            "a b",
            "é",
            "a/b",
            "a\tb",
            long.as_str(),
        ] {
            assert!(bad.parse::<AccountName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn homes_are_relative_paths_of_valid_names() {
        assert_eq!("alice".parse::<Home>(), Ok(Home::Below("alice".to_owned())));
        let nested: Home = "teams/blue team/alice".parse().unwrap();
        assert_eq!(
            nested.names().collect::<Vec<_>>(),
            ["teams", "blue team", "alice"]
        );
        assert_eq!(Home::Root.names().count(), 0);
        for bad in [
            "", "/", "/etc", "..", "../x", "a/../b", "a/./b", ".", "a//b", "a/", "a\\b", "a\nb",
        ] {
            let error = bad.parse::<Home>().unwrap_err();
            assert!(error.starts_with("invalid home"), "{bad:?}: {error}");
        }
        assert!("x".repeat(MAX_HOME_LEN + 1).parse::<Home>().is_err());
    }
}
