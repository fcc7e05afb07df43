//! CONNECT and LOGIN at the prompt. A login that fails keeps the
//! connection (the server allows another try until its limit), and every
//! login starts again in the home, which may be another directory now.

use super::{Failure, Prompt, PromptEditor};
use crate::table;
use ferry_client::{ClientError, Endpoint, RemoteDir, Session};
use ferry_proto::{Login, Password};

impl Prompt<'_> {
    /// CONNECT: replaces any open session, then logs in if a user is named.
    pub(super) fn connect(
        &mut self,
        endpoint: Endpoint,
        editor: &mut PromptEditor,
    ) -> Result<(), Failure> {
        self.disconnect();
        let options = self.settings.options.clone();
        let session =
            Self::cancellable(self.runtime, Session::connect(&endpoint.target, options))??;
        println!(
            "Connected to {}: {}",
            session.peer(),
            table::terminal_safe(&session.greeting().text)
        );
        {
            let mut connection = self.connection.borrow_mut();
            connection.session = Some(session);
            connection.target = Some(endpoint.target.clone());
        }
        match &endpoint.user {
            Some(user) => self.log_in(user, &endpoint.to_string(), editor),
            None => Ok(()),
        }
    }

    /// `LOGIN [user]`: asks for the user if none is given.
    pub(super) fn login(
        &mut self,
        user: Option<String>,
        editor: &mut PromptEditor,
    ) -> Result<(), Failure> {
        let peer = self.open()?.session.as_ref().map(|s| s.peer().to_owned());
        let user = match user {
            Some(user) => user,
            None => match editor.readline("User: ") {
                Ok(user) if !user.trim().is_empty() => user.trim().to_owned(),
                _ => {
                    println!("No user given; nothing was sent.");
                    return Ok(());
                }
            },
        };
        let account = format!("{user}@{}", peer.unwrap_or_default());
        self.log_in(&user, &account, editor)
    }

    /// USER and, after `331`, PASS with the password from the file, the
    /// environment, the terminal (without echo) or, for a script on
    /// standard input, its next line.
    fn log_in(
        &mut self,
        user: &str,
        account: &str,
        editor: &mut PromptEditor,
    ) -> Result<(), Failure> {
        let (runtime, interactive) = (self.runtime, self.interactive);
        let passwords = self.settings.passwords.clone();
        let mut connection = self.open()?;
        let target = connection.target.clone();
        let session = connection.session.as_mut().ok_or(Failure::NotConnected)?;
        let mut ask = |account: &str| -> Result<Password, ClientError> {
            if let Some(target) = &target {
                passwords.may_send_to(target, account)?;
            }
            if let Some(password) = passwords.configured()? {
                return Ok(password);
            }
            if interactive {
                return passwords.get(account);
            }
            editor
                .readline(&format!("Password for {account}: "))
                .map(|line| Password::new(line.trim_end_matches(['\r', '\n'])))
                .map_err(|_| ClientError::NoPassword {
                    account: account.to_owned(),
                    reason: "the input ended".to_owned(),
                })
        };
        let step = Self::cancellable(runtime, session.login(user, || ask(account)))??;
        connection.cwd = RemoteDir::home();
        match step {
            Login::PasswordRequired => println!("Logged in as {}.", table::terminal_safe(user)),
            Login::LoggedIn => println!("This server needs no login; go ahead."),
        }
        Ok(())
    }
}
