//! Accounts (docs/PROTOCOL.md §3.5): who may log in, with which password,
//! into which home, with which access and quota.
//!
//! - `account`: the validated parts of an account ([`Account`]);
//! - `password`: Argon2id hashes, and why their parameters ([`PasswordHash`]);
//! - `file`: the TOML accounts file, read and written ([`AccountsFile`]);
//! - `store`: writing it atomically with mode 0600;
//! - `live` and `watch`: the running server's accounts ([`Accounts`]),
//!   read again when the file changes;
//! - `policy`: the login settings the flags give ([`LoginPolicy`],
//!   [`AnonymousAccess`]);
//! - `prompt` and `tool`: `ferry-server accounts add|passwd|remove|list`.
//!
//! The login flow asks [`Accounts::verify`] (on a blocking thread: it costs
//! one Argon2id computation, whether the account exists or not).

mod account;
mod file;
mod live;
mod password;
mod policy;
mod prompt;
mod store;
mod tool;
mod watch;

pub use account::{Access, Account, AccountName, Home};
pub use file::{AccountsFile, AccountsFileError};
pub use live::{Accounts, Reload};
pub use password::{PasswordHash, LANES, MEMORY_KIB, PASSES};
pub use policy::{
    AnonymousAccess, LoginPolicy, DEFAULT_LOGIN_DELAY, DEFAULT_LOGIN_LIMIT, DEFAULT_LOGIN_WINDOW,
};
pub use tool::{run as run_tool, AccountsCommand};
pub use watch::RELOAD_CHECK_INTERVAL;
