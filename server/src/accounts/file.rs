//! The accounts file: TOML, one table per account, read with serde.
//!
//! ```toml
//! [accounts.alice]
//! password = "$argon2id$v=19$m=19456,t=2,p=1$…$…"
//! home = "alice"        # below the root; left out: the root itself
//! read_only = false
//! quota = 10737418240   # bytes; left out: no quota
//! ```
//!
//! Names are table keys, so a name given twice is a TOML error, and unknown
//! fields are refused: a misspelt `read-only = true` must not silently
//! leave an account read-write. Every error names the file and the line.
//! The server only reads the file; `ferry-server accounts` writes it (see
//! `store`), so comments added by hand are not kept across its edits.

use super::account::{Access, Account, AccountName, Home};
use super::password::{dummy, PasswordHash};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The first lines of a file the tool writes.
const HEADER: &str =
    "# Ferry accounts: edit with `ferry-server accounts add|passwd|remove|list`.\n\
                      # A running ferry-server picks up changes within a second or so.\n\n";

/// The accounts of one file, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountsFile {
    accounts: BTreeMap<AccountName, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default)]
    accounts: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    password: PasswordHash,
    #[serde(default, with = "home_field", skip_serializing_if = "Home::is_root")]
    home: Home,
    #[serde(default)]
    read_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quota: Option<u64>,
}

/// A file that cannot be read or does not parse, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountsFileError {
    /// The accounts file.
    pub path: PathBuf,
    /// The line at fault, when there is one (from 1).
    pub line: Option<usize>,
    /// What is wrong, on one line.
    pub message: String,
}

impl fmt::Display for AccountsFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for AccountsFileError {}

impl AccountsFile {
    /// Reads and validates the file at `path`.
    pub fn read(path: &Path) -> Result<AccountsFile, AccountsFileError> {
        let text = std::fs::read_to_string(path).map_err(|error| AccountsFileError {
            path: path.to_owned(),
            line: None,
            message: format!("cannot read the accounts file: {error}"),
        })?;
        AccountsFile::parse(&text, path)
    }

    /// Reads the file at `path`, or an empty set if there is none yet.
    pub fn read_or_empty(path: &Path) -> Result<AccountsFile, AccountsFileError> {
        match path.try_exists() {
            Ok(false) => Ok(AccountsFile::default()),
            _ => AccountsFile::read(path),
        }
    }

    /// Validates `text`, the content of the file at `path` (named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<AccountsFile, AccountsFileError> {
        let error_at = |span: Option<std::ops::Range<usize>>, message: String| AccountsFileError {
            path: path.to_owned(),
            line: span.map(|span| line_of(text, span.start)),
            message,
        };
        let document: Document = toml::from_str(text)
            .map_err(|error| error_at(error.span(), flatten(error.message())))?;
        let mut accounts = BTreeMap::new();
        for (name, entry) in document.accounts {
            let name = name.parse::<AccountName>().map_err(|message| {
                let span = find_table(text, &name).map(|at| at..at);
                error_at(span, message)
            })?;
            accounts.insert(name, entry);
        }
        Ok(AccountsFile { accounts })
    }

    /// The file's text, as the tool writes it.
    pub fn render(&self) -> String {
        let document = Document {
            accounts: self
                .accounts
                .iter()
                .map(|(name, entry)| (name.to_string(), entry.clone()))
                .collect(),
        };
        let body = toml::to_string(&document).expect("accounts always serialize");
        format!("{HEADER}{body}")
    }

    /// The account called `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<Account> {
        let (name, entry) = self.accounts.get_key_value(&name.parse().ok()?)?;
        Some(entry.account(name))
    }

    /// Every account, by name.
    pub fn accounts(&self) -> impl Iterator<Item = Account> + '_ {
        self.accounts
            .iter()
            .map(|(name, entry)| entry.account(name))
    }

    /// How many accounts there are.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The account if `password` is its password. An unknown name costs the
    /// same as a wrong password (a verification against a dummy hash), so
    /// the caller's reply and its timing say nothing about which it was.
    /// Costs one Argon2id computation: call it on a blocking thread.
    pub fn verify(&self, name: &str, password: &str) -> Option<Account> {
        let found = name
            .parse::<AccountName>()
            .ok()
            .and_then(|name| self.accounts.get_key_value(&name));
        match found {
            Some((name, entry)) => entry.password.verify(password).then(|| entry.account(name)),
            None => {
                let _ = dummy().verify(password);
                None
            }
        }
    }

    /// Adds `account` with `password`; refused if the name is taken.
    pub fn add(&mut self, account: Account, password: PasswordHash) -> Result<(), String> {
        if self.accounts.contains_key(&account.name) {
            return Err(format!(
                "there is already an account named {}",
                account.name
            ));
        }
        let entry = Entry {
            password,
            home: account.home,
            read_only: account.access == Access::ReadOnly,
            quota: account.quota,
        };
        self.accounts.insert(account.name, entry);
        Ok(())
    }

    /// Gives the account `name` a new password.
    pub fn set_password(
        &mut self,
        name: &AccountName,
        password: PasswordHash,
    ) -> Result<(), String> {
        let entry = self.accounts.get_mut(name).ok_or_else(|| no_such(name))?;
        entry.password = password;
        Ok(())
    }

    /// Removes the account `name`.
    pub fn remove(&mut self, name: &AccountName) -> Result<(), String> {
        self.accounts
            .remove(name)
            .map(drop)
            .ok_or_else(|| no_such(name))
    }
}

impl Entry {
    fn account(&self, name: &AccountName) -> Account {
        Account {
            name: name.clone(),
            home: self.home.clone(),
            access: if self.read_only {
                Access::ReadOnly
            } else {
                Access::ReadWrite
            },
            quota: self.quota,
        }
    }
}

fn no_such(name: &AccountName) -> String {
    format!("there is no account named {name}")
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

/// Where the table of account `name` starts, for an error about its key.
fn find_table(text: &str, name: &str) -> Option<usize> {
    [
        format!("[accounts.{name}]"),
        format!("[accounts.\"{name}\"]"),
    ]
    .iter()
    .find_map(|header| text.find(header.as_str()))
}

/// toml's messages sometimes span lines; the file's error is one line.
fn flatten(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `home` in the file: a relative path, validated; absent for the root.
mod home_field {
    use super::Home;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(home: &Home, serializer: S) -> Result<S::Ok, S::Error> {
        match home {
            Home::Root => serializer.serialize_none(),
            Home::Below(path) => serializer.serialize_str(path),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Home, D::Error> {
        let path = String::deserialize(deserializer)?;
        path.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::accounts::password::cheap_hash;

    fn parse(text: &str) -> Result<AccountsFile, AccountsFileError> {
        AccountsFile::parse(text, Path::new("accounts.toml"))
    }

    fn entry(name: &str, extra: &str) -> String {
        let hash = cheap_hash("pw");
        format!("[accounts.{name}]\npassword = \"{hash}\"\n{extra}")
    }

    #[test]
    fn every_field_is_read() {
        let text = format!(
            "{}\n{}",
            entry("alice", "home = \"users/alice\"\nquota = 1000\n"),
            entry("bob", "read_only = true\n")
        );
        let file = parse(&text).unwrap();
        assert_eq!(file.len(), 2);
        let alice = file.get("alice").unwrap();
        assert_eq!(alice.home, Home::Below("users/alice".to_owned()));
        assert_eq!(alice.access, Access::ReadWrite);
        assert_eq!(alice.quota, Some(1000));
        let bob = file.get("bob").unwrap();
        assert_eq!(
            (bob.home, bob.access, bob.quota),
            (Home::Root, Access::ReadOnly, None)
        );
        assert!(file.get("carol").is_none());
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn rendering_reads_back_the_same_accounts() {
        let text = format!(
            "{}\n{}",
            entry("alice", "home = \"a/b\"\nquota = 7\n"),
            entry("bob", "read_only = true\n")
        );
        let file = parse(&text).unwrap();
        let rendered = file.render();
        assert!(rendered.starts_with("# Ferry accounts"), "{rendered}");
        assert_eq!(parse(&rendered).unwrap(), file);
    }

    #[test]
    fn errors_name_the_file_and_the_line() {
        let cases = [
            (
                "[accounts.alice]\npassword = \"x\"\n",
                2,
                "not a PHC password hash",
            ),
            (
                &entry("alice", "home = \"../etc\"\n") as &str,
                3,
                "invalid home",
            ),
            (&entry("alice", "home = \"/etc\"\n"), 3, "not absolute"),
            (&entry("alice", "read-only = true\n"), 3, "unknown field"),
            (&entry("alice", "quota = -1\n"), 3, ""),
            (&entry("alice", "read_only = \"yes\"\n"), 3, ""),
            (
                "[accounts.alice]\nhome = \"a\"\n",
                1,
                "missing field `password`",
            ),
            ("[accounts.alice\n", 1, ""),
            (&format!("\n{}", entry("-x", "")), 2, "invalid account name"),
            (
                &format!("{}\n{}", entry("a", ""), entry("a", "")),
                4,
                "duplicate",
            ),
            ("[users.alice]\n", 1, "unknown field"),
        ];
        for (text, line, says) in cases {
            let error = parse(text).unwrap_err();
            assert_eq!(error.line, Some(line), "{text:?}: {error}");
            assert!(error.message.contains(says), "{text:?}: {error}");
            let shown = error.to_string();
            assert!(
                shown.starts_with(&format!("accounts.toml, line {line}: ")),
                "{shown}"
            );
            assert!(!shown.contains('\n'), "{shown:?}");
        }
    }

    #[test]
    fn a_missing_file_is_empty_for_the_tool_and_an_error_for_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.toml");
        assert!(AccountsFile::read_or_empty(&path).unwrap().is_empty());
        let error = AccountsFile::read(&path).unwrap_err();
        assert!(
            error.to_string().contains("none.toml: cannot read"),
            "{error}"
        );
    }

    #[test]
    fn verify_returns_the_account_for_its_password_only() {
        let file = parse(&entry("alice", "home = \"alice\"\n")).unwrap();
        let alice = file.verify("alice", "pw").unwrap();
        assert_eq!(alice.name.as_str(), "alice");
        assert_eq!(alice.home, Home::Below("alice".to_owned()));
        assert!(file.verify("alice", "wrong").is_none());
        assert!(file.verify("Alice", "pw").is_none());
        assert!(file.verify("nobody", "pw").is_none());
        assert!(file.verify("not a name", "pw").is_none());
    }

    #[test]
    fn add_set_password_and_remove() {
        let mut file = AccountsFile::default();
        let hash = cheap_hash("pw");
        let account = Account {
            name: "alice".parse().unwrap(),
            home: Home::Root,
            access: Access::ReadWrite,
            quota: None,
        };
        file.add(account.clone(), hash.clone()).unwrap();
        assert!(file.add(account.clone(), hash).is_err());
        let other = PasswordHash::new("other").unwrap();
        file.set_password(&account.name, other).unwrap();
        assert!(file.verify("alice", "other").is_some());
        assert!(file.verify("alice", "pw").is_none());
        file.remove(&account.name).unwrap();
        assert!(file.remove(&account.name).is_err());
        assert!(file.set_password(&account.name, cheap_hash("pw")).is_err());
    }
}
