//! Logging in (docs/PROTOCOL.md §3.5), the same for every door: the Ferry
//! protocol's `PASS` (`cmd::login`) and later the FTP door's. A door says
//! who is asking and over what ([`Attempt`]), and gets an [`Identity`] or
//! the error to answer; the rules live here once.
//!
//! The order: a clear-text password from a non-loopback peer on the main
//! listener is refused before it is looked at (`530 Log in over TLS`, not
//! a failure); an address locked out gets `421` without a check; then the
//! password is verified on a blocking thread (one Argon2id computation,
//! the same cost for an unknown account), and a failure is counted, then
//! answered no sooner than `--login-delay` after the check began, so the
//! reply's timing says nothing of why it failed; a success makes the home.
//!
//! At most one check per core runs at once (and never more than
//! [`MAX_VERIFYING`]): each holds about 19 MiB for its Argon2id memory, and
//! Tokio's blocking pool would otherwise run hundreds at once when many
//! logins arrive together, for no more throughput than one per core. The
//! wait for a turn comes before the delay is counted, so it is the same
//! for a right and a wrong password.

use crate::accounts::{Account, Home, LoginPolicy};
use crate::lockout::{FailedLogins, Failure};
use crate::session::Identity;
use crate::storage::blocking;
use crate::{ServerError, Shared, TEMP_DIR};
use ferry_proto::{Password, Path};
use std::net::IpAddr;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Most password checks running at once, however many cores there are.
pub const MAX_VERIFYING: usize = 16;

/// The server's login state, shared by every connection and every door.
#[derive(Debug)]
pub(crate) struct Logins {
    /// Failed logins per client address.
    pub(crate) failures: FailedLogins,
    verifying: Semaphore,
}

impl Logins {
    /// The state for `policy`, with no failures yet.
    pub(crate) fn new(policy: &LoginPolicy) -> Logins {
        Logins {
            failures: FailedLogins::new(policy.limit, policy.window),
            verifying: Semaphore::new(verifying_slots()),
        }
    }
}

/// One password check per core, at most [`MAX_VERIFYING`].
fn verifying_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().min(MAX_VERIFYING))
}

/// How the password reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// In clear text, straight from the socket's peer (the main listener,
    /// or the FTP door before `AUTH TLS`).
    Plain {
        /// The socket's peer: a loopback peer never crossed a network.
        peer: IpAddr,
    },
    /// Through the proxy listener: the bridge, which carries TLS for
    /// remote browsers.
    Proxied,
    /// Over the FTP door's control connection after `AUTH TLS`.
    Tls,
}

/// Whether a password arriving over `channel` is refused unseen.
pub(crate) fn refuses_password(channel: Channel, policy: &LoginPolicy) -> bool {
    match channel {
        Channel::Plain { peer } => !policy.allow_plain_login && !peer.to_canonical().is_loopback(),
        Channel::Proxied | Channel::Tls => false,
    }
}

/// One login attempt.
#[derive(Debug)]
pub(crate) struct Attempt {
    /// The client address failures count against (for a proxied
    /// connection, the one its PROXY header announced).
    pub(crate) client: IpAddr,
    /// How the password came.
    pub(crate) channel: Channel,
    /// The account name given.
    pub(crate) name: String,
    /// The password given.
    pub(crate) password: Password,
}

/// Checks `attempt` against the accounts in force and returns the
/// identity it logs in as, its home made if missing.
pub(crate) async fn log_in(shared: &Shared, attempt: Attempt) -> Result<Identity, ServerError> {
    let policy = &shared.config.login;
    let Some(accounts) = shared.accounts.clone() else {
        return Err(ServerError::LoginIncorrect);
    };
    if refuses_password(attempt.channel, policy) {
        return Err(ServerError::PlainLogin);
    }
    let logins = &shared.logins;
    if logins.failures.is_locked_out(attempt.client) {
        return Err(ServerError::TooManyFailedLogins);
    }
    let account = {
        let turn = logins
            .verifying
            .acquire()
            .await
            .map_err(|_| ServerError::ShuttingDown)?;
        let started = Instant::now();
        let Attempt { name, password, .. } = attempt;
        let checked = blocking(move || Ok(accounts.verify(&name, password.expose()))).await?;
        match checked {
            Some(account) => account,
            None => {
                let failure = logins.failures.record(attempt.client);
                drop(turn);
                if failure == Failure::LockedOut {
                    tracing::warn!(
                        client = %attempt.client,
                        limit = policy.limit,
                        window_s = policy.window.as_secs(),
                        "too many failed logins: address locked out until its window ends"
                    );
                }
                // What is left of the delay (any length, none overflows).
                tokio::time::sleep(policy.delay.saturating_sub(started.elapsed())).await;
                return Err(match failure {
                    Failure::Counted => ServerError::LoginIncorrect,
                    Failure::LockedOut => ServerError::TooManyFailedLogins,
                });
            }
        }
    };
    let home = make_home(shared, &account).await?;
    Ok(Identity::account(&account, home, &shared.config))
}

/// The account's home as a path from the root (`None`: the root),
/// created with its parents if missing.
async fn make_home(shared: &Shared, account: &Account) -> Result<Option<Path>, ServerError> {
    let Home::Below(below) = &account.home else {
        return Ok(None);
    };
    let unavailable = |why: String| ServerError::HomeUnavailable(format!("{below}: {why}"));
    let home = Path::new(below.as_str()).map_err(|error| unavailable(error.to_string()))?;
    if home.first_name() == TEMP_DIR {
        return Err(unavailable("the staging area is no home".to_owned()));
    }
    shared
        .storage
        .make_home(home.clone())
        .await
        .map_err(|error| unavailable(error.to_string()))?;
    Ok(Some(home))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(peer: &str) -> Channel {
        Channel::Plain {
            peer: peer.parse().unwrap(),
        }
    }

    #[test]
    fn a_clear_text_password_is_refused_from_non_loopback_peers_only() {
        let strict = LoginPolicy::default();
        let allowing = LoginPolicy {
            allow_plain_login: true,
            ..strict
        };
        for peer in ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"] {
            assert!(!refuses_password(plain(peer), &strict), "{peer}");
        }
        for peer in [
            "192.0.2.2",
            "10.0.0.1",
            "2001:db8::1",
            "::ffff:192.0.2.2",
            "0.0.0.0",
        ] {
            assert!(refuses_password(plain(peer), &strict), "{peer}");
            assert!(!refuses_password(plain(peer), &allowing), "{peer}");
        }
        assert!(!refuses_password(Channel::Proxied, &strict));
        assert!(!refuses_password(Channel::Tls, &strict));
    }
}
