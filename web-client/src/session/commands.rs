//! What each request does around its exchange: which typed exchange it runs,
//! and what its success or failure changes on the page. The requests that
//! walk folders (delete, move, the access check) are in `tree`, previews in
//! `preview`.

use super::exchange::{self, Checked, DataPhase, Failed, NoData};
use super::task::Task;
use super::{Request, Rows};
use crate::endpoint::Login as EndpointLogin;
use crate::format;
use crate::messages;
use crate::model::{Access, LineKind, MoveBrowse};
use crate::transport::ConnError;
use ferry_proto::{
    Command, Delete, Exchange, Hash, Help, List, ListingEntry, Login, Mkdir, Noop, Pass, Password,
    Path, Quit, Read, Refusal, RefusalKind, Rename, Rmdir, Stat, User,
};
use futures::FutureExt;
use leptos::prelude::Update;
use std::future::Future;

/// Bytes of a `READ` typed in the console shown as text; the rest is counted.
const CONSOLE_READ_SHOWN: usize = 16 * 1024;

impl Task<'_> {
    /// Runs one request; `Ok(true)` when it changed the server's files.
    pub(super) async fn execute(&mut self, request: Request) -> Result<bool, ConnError> {
        match request {
            Request::List { dir, rows } => self.list(dir, rows).await,
            Request::Browse(dir) => self.browse(dir).await,
            Request::PlanDelete(entries) => self.plan_delete(entries).await,
            Request::Remove(entries) => self.remove(entries).await,
            Request::Mkdir(path) => self.simple(&Mkdir(path), true).await,
            Request::Rename { from, to } => self.simple(&Rename { from, to }, true).await,
            Request::Move { paths, into } => self.move_into(paths, into).await,
            Request::Preview { path, size } => self.preview(path, size).await,
            Request::Login { account, password } => self.login(account, password).await,
            Request::CheckAccess => self.check_access().await,
            Request::Typed(command) => self.typed(command).await,
            Request::Quit => self.quit().await,
        }
    }

    /// Runs `exchange`; `Err` means the connection is over. Only the
    /// settling of the outcome is per exchange type: the loop is shared.
    pub(super) fn exchange<'a, E: Exchange>(
        &'a mut self,
        exchange: &'a E,
        data: &'a mut dyn DataPhase,
    ) -> impl Future<Output = Result<Result<E::Success, Failed>, ConnError>> + 'a {
        exchange::finish(self.conn, self.model, exchange.command(), data)
            .map(move |outcome| outcome.map(|outcome| exchange::settle(exchange, outcome)))
    }

    /// Runs `exchange`, keeping only whether it succeeded.
    pub(super) fn checked<'a>(
        &'a mut self,
        exchange: &'a dyn Checked,
        data: &'a mut dyn DataPhase,
    ) -> impl Future<Output = Result<Result<(), Failed>, ConnError>> + 'a {
        exchange::finish(self.conn, self.model, exchange.line(), data).map(move |outcome| {
            outcome.map(|outcome| match outcome {
                Ok(done) => exchange.check(done).map_err(Failed::Unreadable),
                Err(refusal) => Err(Failed::Refused(refusal)),
            })
        })
    }

    /// Shows why `exchange` failed; returns the words for a transfer row.
    pub(super) fn show_failure(&self, exchange: &dyn Checked, failure: &Failed) -> String {
        let (verb, subject) = (exchange.line().verb(), exchange.about());
        let read_only = self.model.access_untracked().is_read_only();
        let why = match failure {
            Failed::Refused(refusal) if read_only && messages::changes_files(verb) => {
                messages::read_only(verb, subject, refusal)
            }
            Failed::Refused(refusal) if refusal.kind() == RefusalKind::NotLoggedIn => {
                self.model.set_access(Access::LoginRequired);
                messages::failed(verb, subject, failure)
            }
            _ => messages::failed(verb, subject, failure),
        };
        self.model.error(why.clone());
        why
    }

    /// A command whose success is just its reply line: one that changes
    /// the files when it succeeds (MKDIR, RENAME, … with `changes`), or
    /// not (HASH, NOOP, HELP, STAT).
    async fn simple(&mut self, exchange: &dyn Checked, changes: bool) -> Result<bool, ConnError> {
        match self.checked(exchange, &mut NoData).await? {
            Ok(()) => Ok(changes),
            Err(failure) => {
                self.show_failure(exchange, &failure);
                Ok(false)
            }
        }
    }

    /// Lists `dir`; `None` when the listing failed (and was reported).
    pub(super) async fn entries(
        &mut self,
        dir: &Option<Path>,
    ) -> Result<Result<Vec<ListingEntry>, Failed>, ConnError> {
        self.exchange(&List(dir.clone()), &mut NoData).await
    }

    async fn list(&mut self, dir: Option<Path>, rows: Rows) -> Result<bool, ConnError> {
        match self.entries(&dir).await? {
            Ok(entries) => {
                if rows == Rows::InConsole {
                    for entry in &entries {
                        self.model
                            .log_line(LineKind::Data, format::listing_line(entry));
                    }
                }
                self.model.set_files(&dir, entries);
            }
            Err(Failed::Refused(refusal))
                if refusal.kind() == RefusalKind::NotLoggedIn && rows == Rows::TableOnly =>
            {
                // A server with accounts: the session starts logged out.
                self.model.set_access(Access::LoginRequired);
            }
            Err(failure) => {
                let why = self.show_failure(&List(dir.clone()), &failure);
                self.model.listing_failed(&dir, why);
            }
        }
        Ok(false)
    }

    async fn browse(&mut self, dir: Option<Path>) -> Result<bool, ConnError> {
        match self.entries(&dir).await? {
            Ok(entries) => {
                let folders = entries
                    .iter()
                    .filter(|e| e.is_dir())
                    .map(|e| e.name.as_str().to_owned())
                    .collect();
                if self.model.move_browse_open() {
                    self.model.set_move_browse(Some(MoveBrowse {
                        dir,
                        folders: Some(folders),
                    }));
                }
            }
            Err(failure) => {
                self.show_failure(&List(dir), &failure);
            }
        }
        Ok(false)
    }

    async fn login(&mut self, account: String, password: String) -> Result<bool, ConnError> {
        let user = User(account.clone());
        match self.exchange(&user, &mut NoData).await? {
            Ok(Login::LoggedIn) => {
                // A server without accounts: nothing to log in to.
                self.model.notify("This server needs no login.");
                return self.check_access().await;
            }
            Ok(Login::PasswordRequired) => {}
            Err(failure) => {
                self.show_failure(&user, &failure);
                return Ok(false);
            }
        }
        self.pass(account, Password::new(password)).await
    }

    /// `PASS` for `account`; on success the session and every transfer are
    /// that account from now on.
    async fn pass(&mut self, account: String, password: Password) -> Result<bool, ConnError> {
        let exchange = Pass(password.clone());
        match self.checked(&exchange, &mut NoData).await? {
            Ok(()) => {
                self.endpoint.update(|endpoint| {
                    if let Some(endpoint) = endpoint {
                        endpoint.login = Some(EndpointLogin {
                            account: account.clone(),
                            password: password.expose().to_owned(),
                        });
                    }
                });
                self.model.set_access(Access::LoggedIn {
                    account: account.clone(),
                    read_only: false,
                });
                self.model.notify(format!("Logged in as “{account}”."));
                self.check_access().await?;
                Ok(true)
            }
            Err(Failed::Refused(refusal)) => {
                self.model.error(login_failed(&refusal));
                Ok(false)
            }
            Err(failure) => {
                self.show_failure(&exchange, &failure);
                Ok(false)
            }
        }
    }

    /// A protocol command typed in the console (LIST, RETRIEVE, STORE and
    /// QUIT are requests of their own).
    async fn typed(&mut self, command: Command) -> Result<bool, ConnError> {
        // The exchange and whether it changes the files; one call runs them all.
        let (exchange, changes): (Box<dyn Checked>, bool) = match command {
            Command::Stat(path) => (Box::new(Stat(path)), false),
            Command::Hash(path) => (Box::new(Hash(path)), false),
            Command::Noop => (Box::new(Noop), false),
            Command::Help => (Box::new(Help), false),
            Command::Delete(path) => (Box::new(Delete(path)), true),
            Command::Mkdir(path) => (Box::new(Mkdir(path)), true),
            Command::Rmdir(path) => (Box::new(Rmdir(path)), true),
            Command::Rename { from, to } => (Box::new(Rename { from, to }), true),
            Command::Read {
                offset,
                length,
                path,
            } => {
                return self
                    .read_to_console(Read {
                        offset,
                        length,
                        path,
                    })
                    .await
            }
            Command::User(account) => {
                let user = User(account.clone());
                match self.exchange(&user, &mut NoData).await? {
                    Ok(Login::PasswordRequired) => self.user = Some(account),
                    Ok(Login::LoggedIn) => self.user = None,
                    Err(failure) => {
                        self.show_failure(&user, &failure);
                    }
                }
                return Ok(false);
            }
            Command::Pass(password) => match self.user.take() {
                Some(account) => return self.pass(account, password).await,
                // Let the server answer (503, or 230 without accounts).
                None => (Box::new(Pass(password)), false),
            },
            Command::List(_)
            | Command::Retrieve(_)
            | Command::Store { .. }
            | Command::Resume { .. }
            | Command::Quit => return Ok(false),
        };
        self.simple(&*exchange, changes).await
    }

    async fn read_to_console(&mut self, exchange: Read) -> Result<bool, ConnError> {
        let mut shown = ConsoleRead::default();
        match self.checked(&exchange, &mut shown).await? {
            Ok(()) => {
                let text = String::from_utf8_lossy(&shown.bytes);
                for line in text.lines() {
                    self.model.log_line(LineKind::Data, line);
                }
                if shown.more > 0 {
                    self.model.log_line(
                        LineKind::Info,
                        format!("… and {} more not shown.", format::human_size(shown.more)),
                    );
                }
            }
            Err(failure) => {
                self.show_failure(&exchange, &failure);
            }
        }
        Ok(false)
    }

    async fn quit(&mut self) -> Result<bool, ConnError> {
        match self.checked(&Quit, &mut NoData).await? {
            Ok(()) => self.quitting = true,
            Err(failure) => {
                self.show_failure(&Quit, &failure);
            }
        }
        Ok(false)
    }
}

/// The first bytes of a READ typed in the console.
#[derive(Default)]
struct ConsoleRead {
    bytes: Vec<u8>,
    more: u64,
}

impl DataPhase for ConsoleRead {
    fn received(&mut self, bytes: &[u8]) {
        let room = CONSOLE_READ_SHOWN - self.bytes.len();
        let kept = bytes.len().min(room);
        self.bytes.extend_from_slice(&bytes[..kept]);
        self.more += (bytes.len() - kept) as u64;
    }
}

/// Why a login failed, in words.
fn login_failed(refusal: &Refusal) -> String {
    match refusal.kind() {
        RefusalKind::LoginIncorrect => {
            "Login incorrect: check the account name and the password.".into()
        }
        _ => format!("Login failed: {}.", refusal.describe(None)),
    }
}
