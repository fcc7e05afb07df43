//! Who a connection acts as (docs/PROTOCOL.md §3.5): logged out, the
//! anonymous account, or a logged-in account, with that one's home, access
//! and quota.
//!
//! Commands past the login gate get an [`Identity`], never the session
//! itself, so a command cannot run without one; and every path a client
//! names goes through [`Identity::resolve`] (or [`Identity::dir`]) before
//! storage sees it, the one place where the home is put in front of it.
//! Storage then resolves the joined path beneath the root as before, so
//! confinement to the home follows from §3.1 paths having no `..` and no
//! leading `/`: home/path can only go down from the home.

use crate::accounts::{Access, Account, AccountName, AnonymousAccess};
use crate::storage::ANONYMOUS_OWNER;
use crate::{Config, ServerError};
use ferry_proto::{Path, ProtoError, Verb};
use std::fmt;

/// Who owns what a session leaves behind, such as kept partial uploads
/// (§3.3): an account, by name; every anonymous session shares one owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Owner {
    /// Every anonymous session.
    Anonymous,
    /// The account of that name.
    Account(AccountName),
}

impl Owner {
    /// The owner as a key for maps or file names: the account name, or
    /// [`ANONYMOUS_OWNER`] (`-`; no account name can be that: a name starts
    /// with a letter or a digit).
    pub(crate) fn key(&self) -> &str {
        match self {
            Owner::Anonymous => ANONYMOUS_OWNER,
            Owner::Account(name) => name.as_str(),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// What a session may do once it is past the login gate: the anonymous
/// account's rights or an account's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    owner: Owner,
    /// Where its paths start: `None` for the root.
    home: Option<Path>,
    /// The account's (or anonymous) access, with the server's
    /// `--read-only` already applied.
    access: Access,
    /// Most bytes its home may hold, if limited.
    quota: Option<u64>,
}

impl Identity {
    /// What a session acts as before it logs in: the anonymous account with
    /// the access `--anonymous` gives it (always, without `--accounts`), or
    /// nobody (`None`: `530` for all but the login verbs). The FTP door's
    /// anonymous login (`USER anonymous`) gets this identity too.
    pub(crate) fn before_login(config: &Config) -> Option<Identity> {
        let has_accounts = config.accounts.is_some();
        let access = match (config.anonymous, has_accounts) {
            (AnonymousAccess::Off, true) => return None,
            // No way to log in: the command line refuses `--anonymous off`
            // without accounts, and the library serves as version 1 did.
            (AnonymousAccess::Off, false) => Access::ReadWrite,
            (AnonymousAccess::ReadOnly, _) => Access::ReadOnly,
            (AnonymousAccess::ReadWrite, _) => Access::ReadWrite,
        };
        Some(Identity::anonymous(access, config))
    }

    /// The anonymous identity with `access`, in the root.
    fn anonymous(access: Access, config: &Config) -> Identity {
        Identity {
            owner: Owner::Anonymous,
            home: None,
            access: server_bound(access, config),
            quota: None,
        }
    }

    /// The identity of a logged-in `account`, whose home is `home` (the
    /// account's home as a path, `None` for the root).
    pub(crate) fn account(account: &Account, home: Option<Path>, config: &Config) -> Identity {
        Identity {
            owner: Owner::Account(account.name.clone()),
            home,
            access: server_bound(account.access, config),
            quota: account.quota,
        }
    }

    /// Who owns this session's kept uploads.
    pub(crate) fn owner(&self) -> &Owner {
        &self.owner
    }

    /// The home, as a path from the root (`None`: the root itself).
    pub(crate) fn home(&self) -> Option<&Path> {
        self.home.as_ref()
    }

    /// Most bytes the home may hold, if limited.
    pub(crate) fn quota(&self) -> Option<u64> {
        self.quota
    }

    /// `550 Read-only` for a change, from the account or the server.
    pub(crate) fn check_writable(&self) -> Result<(), ServerError> {
        match self.access {
            Access::ReadWrite => Ok(()),
            Access::ReadOnly => Err(ServerError::ReadOnly),
        }
    }

    /// The path from the root that the client's `path` names. A home and
    /// path too long together for one path are an invalid path (`553`):
    /// no file there could be opened anyway (the kernel's limit is 4096).
    pub(crate) fn resolve(&self, path: &Path) -> Result<Path, ServerError> {
        match &self.home {
            None => Ok(path.clone()),
            Some(home) => Path::new(format!("{home}/{path}")).map_err(|_| {
                ServerError::BadCommand(ProtoError::InvalidPath(
                    "too long with the home in front of it",
                ))
            }),
        }
    }

    /// The directory a `LIST` names: the home without an argument.
    pub(crate) fn dir(&self, dir: Option<&Path>) -> Result<Option<Path>, ServerError> {
        match dir {
            Some(dir) => self.resolve(dir).map(Some),
            None => Ok(self.home.clone()),
        }
    }
}

/// An account's access, narrowed by the server's `--read-only`.
fn server_bound(access: Access, config: &Config) -> Access {
    if config.read_only {
        Access::ReadOnly
    } else {
        access
    }
}

/// One connection's login state.
#[derive(Debug)]
pub(crate) struct Session {
    /// Who the session acts as: `None` while it is logged out with no
    /// anonymous access.
    identity: Option<Identity>,
    /// What it acts as until it logs in (to return to when a new `USER`
    /// starts another login).
    before_login: Option<Identity>,
    /// The account named by `USER`, waiting for `PASS`.
    user: Option<String>,
}

impl Session {
    /// A new connection's session: logged out on a server with accounts
    /// (acting as anonymous if `--anonymous` allows it), anonymous with the
    /// server's access without accounts.
    pub(crate) fn new(config: &Config) -> Session {
        let identity = Identity::before_login(config);
        Session {
            identity: identity.clone(),
            before_login: identity,
            user: None,
        }
    }

    /// `530 Not logged in` for `verb` when the session has no identity:
    /// only the verbs of the login itself, `NOOP`, `HELP` and `QUIT` work
    /// without one.
    pub(crate) fn gate(&self, verb: Verb) -> Result<(), ServerError> {
        let open = matches!(
            verb,
            Verb::User | Verb::Pass | Verb::Noop | Verb::Help | Verb::Quit
        );
        if open || self.identity.is_some() {
            Ok(())
        } else {
            Err(ServerError::NotLoggedIn)
        }
    }

    /// Who the session acts as now, if anyone.
    pub(crate) fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// `USER`: starts a login as `name`. Whatever login came before ends
    /// here (as in FTP), so the session acts as it did before any login
    /// until `PASS` succeeds.
    pub(crate) fn begin_login(&mut self, name: String) {
        self.identity = self.before_login.clone();
        self.user = Some(name);
    }

    /// `PASS`: the account name `USER` gave, which this `PASS` uses up, or
    /// `503` when there was none.
    pub(crate) fn take_user(&mut self) -> Result<String, ServerError> {
        self.user.take().ok_or(ServerError::NoUser)
    }

    /// A successful login.
    pub(crate) fn logged_in(&mut self, identity: Identity) {
        self.identity = Some(identity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Home;

    fn account(access: Access) -> Account {
        Account {
            name: "alice".parse().unwrap(),
            home: Home::Below("users/alice".into()),
            access,
            quota: Some(10),
        }
    }

    fn path(text: &str) -> Path {
        Path::new(text).unwrap()
    }

    #[test]
    fn owners_never_collide_with_an_account_name() {
        assert_eq!(Owner::Anonymous.key(), "-");
        assert!("-".parse::<AccountName>().is_err());
        let named = Owner::Account("anonymous".parse().unwrap());
        assert_eq!(named.key(), "anonymous");
        assert_ne!(named, Owner::Anonymous);
    }

    #[test]
    fn the_gate_before_login() {
        let mut config = Config::new("root");
        config.accounts = Some("accounts.toml".into());
        config.anonymous = AnonymousAccess::Off;
        let session = Session::new(&config);
        for verb in Verb::ALL {
            let open = matches!(
                verb,
                Verb::User | Verb::Pass | Verb::Noop | Verb::Help | Verb::Quit
            );
            assert_eq!(session.gate(verb).is_ok(), open, "{verb}");
        }
        config.anonymous = AnonymousAccess::ReadOnly;
        let session = Session::new(&config);
        assert!(session.gate(Verb::Store).is_ok());
        let identity = session.identity().unwrap();
        assert_eq!(identity.owner(), &Owner::Anonymous);
        assert!(identity.check_writable().is_err());
        assert_eq!(identity.dir(None).unwrap(), None);
    }

    #[test]
    fn without_accounts_the_session_is_anonymous_with_the_servers_access() {
        let mut config = Config::new("root");
        let session = Session::new(&config);
        let identity = session.identity().unwrap();
        assert!(identity.check_writable().is_ok());
        config.read_only = true;
        let session = Session::new(&config);
        assert!(session.identity().unwrap().check_writable().is_err());
        config.read_only = false;
        config.anonymous = AnonymousAccess::ReadOnly;
        let session = Session::new(&config);
        assert!(session.identity().unwrap().check_writable().is_err());
    }

    #[test]
    fn paths_are_joined_to_the_home() {
        let config = Config::new("root");
        let identity = Identity::account(
            &account(Access::ReadWrite),
            Some(path("users/alice")),
            &config,
        );
        assert_eq!(
            identity.resolve(&path("a/b")).unwrap(),
            path("users/alice/a/b")
        );
        assert_eq!(identity.dir(None).unwrap(), Some(path("users/alice")));
        // 4090 bytes: valid alone, too long behind "users/alice/".
        let long = format!(
            "{}/{}",
            vec!["x".repeat(255); 15].join("/"),
            "y".repeat(250)
        );
        assert_eq!(long.len(), 4090);
        assert!(matches!(
            identity.resolve(&path(&long)),
            Err(ServerError::BadCommand(ProtoError::InvalidPath(_)))
        ));
        assert_eq!(identity.quota(), Some(10));
        assert_eq!(identity.owner().key(), "alice");
    }

    #[test]
    fn the_servers_read_only_narrows_every_account() {
        let mut config = Config::new("root");
        config.read_only = true;
        let identity = Identity::account(&account(Access::ReadWrite), None, &config);
        assert!(identity.check_writable().is_err());
        config.read_only = false;
        let identity = Identity::account(&account(Access::ReadOnly), None, &config);
        assert!(identity.check_writable().is_err());
    }

    #[test]
    fn pass_needs_a_user_and_user_ends_a_login() {
        let mut config = Config::new("root");
        config.accounts = Some("accounts.toml".into());
        config.anonymous = AnonymousAccess::ReadOnly;
        let mut session = Session::new(&config);
        assert!(matches!(session.take_user(), Err(ServerError::NoUser)));
        session.begin_login("alice".into());
        assert_eq!(session.take_user().unwrap(), "alice");
        assert!(session.take_user().is_err(), "one PASS per USER");
        let identity = Identity::account(&account(Access::ReadWrite), None, &config);
        session.logged_in(identity);
        assert_eq!(session.identity().unwrap().owner().key(), "alice");
        session.begin_login("bob".into());
        assert_eq!(session.identity().unwrap().owner(), &Owner::Anonymous);
    }
}
