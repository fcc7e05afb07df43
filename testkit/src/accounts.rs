//! Accounts for the test server (`--accounts`): written as the account
//! tool writes them, with real Argon2id hashes at the server's own cost,
//! so logins in tests take as long as they do in production.

use ferry_server::accounts::{Access, Account, AccountsFile, Home, PasswordHash};
use std::path::Path;
use std::time::Duration;

/// One account of the test server's accounts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestAccount {
    pub name: String,
    pub password: String,
    /// Relative to the root; `None`: the root itself.
    pub home: Option<String>,
    pub read_only: bool,
    /// Bytes; `None`: no quota.
    pub quota: Option<u64>,
}

impl TestAccount {
    /// A read-write account in the root without a quota.
    pub fn new(name: &str, password: &str) -> TestAccount {
        TestAccount {
            name: name.to_owned(),
            password: password.to_owned(),
            home: None,
            read_only: false,
            quota: None,
        }
    }

    /// The same account with its home at `home` below the root.
    pub fn home(mut self, home: &str) -> TestAccount {
        self.home = Some(home.to_owned());
        self
    }

    /// The same account, read-only.
    pub fn read_only(mut self) -> TestAccount {
        self.read_only = true;
        self
    }

    /// The same account with a quota of `bytes`.
    pub fn quota(mut self, bytes: u64) -> TestAccount {
        self.quota = Some(bytes);
        self
    }
}

/// What a session may do before logging in (`--anonymous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anonymous {
    Off,
    ReadOnly,
    ReadWrite,
}

impl Anonymous {
    pub(crate) fn access(self) -> ferry_server::accounts::AnonymousAccess {
        use ferry_server::accounts::AnonymousAccess;
        match self {
            Anonymous::Off => AnonymousAccess::Off,
            Anonymous::ReadOnly => AnonymousAccess::ReadOnly,
            Anonymous::ReadWrite => AnonymousAccess::ReadWrite,
        }
    }
}

/// The login flags, each defaulting to ferry-server's own default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOptions {
    /// `--login-delay`.
    pub delay: Duration,
    /// `--login-limit`.
    pub limit: u32,
    /// `--login-window`.
    pub window: Duration,
    /// `--allow-plain-login`.
    pub allow_plain_login: bool,
}

impl Default for LoginOptions {
    fn default() -> LoginOptions {
        let policy = ferry_server::accounts::LoginPolicy::default();
        LoginOptions {
            delay: policy.delay,
            limit: policy.limit,
            window: policy.window,
            allow_plain_login: policy.allow_plain_login,
        }
    }
}

impl LoginOptions {
    pub(crate) fn policy(&self) -> ferry_server::accounts::LoginPolicy {
        ferry_server::accounts::LoginPolicy {
            delay: self.delay,
            limit: self.limit,
            window: self.window,
            allow_plain_login: self.allow_plain_login,
        }
    }
}

/// Writes `accounts` to the accounts file at `path`, replacing it in one
/// step (mode 0600) as the account tool does, so a running server sees
/// either the old file or the new one.
pub fn write_accounts_file(path: &Path, accounts: &[TestAccount]) {
    let mut file = AccountsFile::default();
    for account in accounts {
        let home = match &account.home {
            None => Home::Root,
            Some(home) => home
                .parse()
                .unwrap_or_else(|error| panic!("test account home: {error}")),
        };
        let entry = Account {
            name: account
                .name
                .parse()
                .unwrap_or_else(|error| panic!("test account name: {error}")),
            home,
            access: if account.read_only {
                Access::ReadOnly
            } else {
                Access::ReadWrite
            },
            quota: account.quota,
        };
        let hash = PasswordHash::new(&account.password).expect("a password hash");
        file.add(entry, hash).expect("distinct test account names");
    }
    let dir = path.parent().expect("the accounts file's directory");
    let temp = dir.join(".accounts.toml.test-tmp");
    std::fs::write(&temp, file.render()).expect("the accounts file");
    let private = std::os::unix::fs::PermissionsExt::from_mode(0o600);
    std::fs::set_permissions(&temp, private).expect("the accounts file's mode");
    std::fs::rename(&temp, path).expect("the accounts file in place");
}
