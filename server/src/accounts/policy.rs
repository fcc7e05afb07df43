//! The server's login settings (§3.5): who may work without logging in,
//! and how failed logins are slowed down and counted.

use std::time::Duration;

/// Default `--login-delay`: the fixed pause before `530 Login incorrect`.
pub const DEFAULT_LOGIN_DELAY: Duration = Duration::from_secs(1);
/// Default `--login-limit`: the failure answered `421` instead of `530`.
pub const DEFAULT_LOGIN_LIMIT: u32 = 5;
/// Default `--login-window`: how long failures from one address count.
pub const DEFAULT_LOGIN_WINDOW: Duration = Duration::from_secs(600);

/// What a session that has not logged in may do (`--anonymous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AnonymousAccess {
    /// Nothing but `USER`, `PASS`, `NOOP`, `HELP` and `QUIT` (`530` else).
    Off,
    /// Reading and listing the root.
    ReadOnly,
    /// Everything, in the root (version 1 behaviour).
    ReadWrite,
}

impl AnonymousAccess {
    /// The contract's default: `read-write` without accounts, `off` with.
    pub fn default_for(has_accounts: bool) -> AnonymousAccess {
        if has_accounts {
            AnonymousAccess::Off
        } else {
            AnonymousAccess::ReadWrite
        }
    }
}

/// How logins are checked (enforced by the sessions' login flow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    /// Pause before every `530 Login incorrect`, the same for an unknown
    /// account and a wrong password (`--login-delay`; zero allowed).
    pub delay: Duration,
    /// The failure from one address, within the window, that is answered
    /// `421 Too many failed logins` and locks the address out
    /// (`--login-limit`).
    pub limit: u32,
    /// How long failures count, from the first one (`--login-window`).
    pub window: Duration,
    /// Accept `PASS` in clear text from non-loopback peers on the main
    /// listener (`--allow-plain-login`).
    pub allow_plain_login: bool,
}

impl Default for LoginPolicy {
    fn default() -> LoginPolicy {
        LoginPolicy {
            delay: DEFAULT_LOGIN_DELAY,
            limit: DEFAULT_LOGIN_LIMIT,
            window: DEFAULT_LOGIN_WINDOW,
            allow_plain_login: false,
        }
    }
}
