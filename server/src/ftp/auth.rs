//! FTP logins (docs/PROTOCOL.md §6): `USER`/`PASS` against the same
//! accounts through [`crate::login`], so the clear-text rule, the delay,
//! the failed-login count per address and the homes are those of the Ferry
//! protocol, counted in the same table.
//!
//! libunftp asks an [`Authenticator`] for a principal and then a
//! [`UserDetailProvider`] for the user; both are this connection's
//! [`Login`], which hands the identity the check produced from the first to
//! the second. Anonymous FTP (`anonymous` or `ftp`, any password) is the
//! anonymous identity, where the server has one; without accounts every
//! login is anonymous, as every Ferry session is.

use super::control::Control;
use super::FtpUser;
use crate::login::{self, Attempt, Channel};
use crate::session::Identity;
use crate::{ServerError, Shared};
use async_trait::async_trait;
use ferry_proto::Password;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use unftp_core::auth::{
    AuthenticationError, Authenticator, ChannelEncryptionState, Credentials, Principal,
    UserDetailError, UserDetailProvider,
};

/// The user names of anonymous FTP.
const ANONYMOUS_NAMES: [&str; 2] = ["anonymous", "ftp"];

/// One connection's logins.
#[derive(Debug)]
pub(crate) struct Login {
    shared: Arc<Shared>,
    client: SocketAddr,
    control: Control,
    /// The identity of the login just checked, until libunftp asks for it.
    checked: Mutex<Option<(String, Identity)>>,
}

impl Login {
    pub(crate) fn new(shared: Arc<Shared>, client: SocketAddr, control: Control) -> Login {
        Login {
            shared,
            client,
            control,
            checked: Mutex::new(None),
        }
    }

    async fn check(&self, name: &str, creds: &Credentials) -> Result<Identity, ServerError> {
        let config = &self.shared.config;
        let anonymous = ANONYMOUS_NAMES
            .iter()
            .any(|known| known.eq_ignore_ascii_case(name));
        if anonymous || self.shared.accounts.is_none() {
            if let Some(identity) = Identity::before_login(config) {
                return Ok(identity);
            }
        }
        let channel = match creds.command_channel_security {
            ChannelEncryptionState::Tls => Channel::Tls,
            ChannelEncryptionState::Plaintext => Channel::Plain {
                peer: self.client.ip(),
            },
        };
        let attempt = Attempt {
            client: self.client.ip(),
            channel,
            name: name.to_owned(),
            password: Password::new(creds.password.clone().unwrap_or_default()),
        };
        login::log_in(&self.shared, attempt).await
    }
}

#[async_trait]
impl Authenticator for Login {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        if creds.command_channel_security == ChannelEncryptionState::Tls {
            self.control.set_encrypted();
        }
        match self.check(username, creds).await {
            Ok(identity) => {
                tracing::info!(peer = %self.client, account = %identity.owner(), "FTP: logged in");
                let principal = Principal {
                    username: username.to_owned(),
                };
                *self.checked.lock().expect("never poisoned") =
                    Some((username.to_owned(), identity));
                Ok(principal)
            }
            Err(error) => {
                tracing::info!(peer = %self.client, %error, "FTP: login refused");
                if error.closes_connection() {
                    // 421 and close, as the Ferry protocol does; libunftp
                    // alone could only answer 530 and go on.
                    if let Some(reply) = error.reply() {
                        let line = format!("{} {}\r\n", reply.code, reply.text);
                        self.control.close_with(&line);
                    }
                }
                Err(AuthenticationError::BadPassword)
            }
        }
    }

    fn name(&self) -> &str {
        "ferry accounts"
    }
}

#[async_trait]
impl UserDetailProvider for Login {
    type User = FtpUser;

    async fn provide_user_detail(&self, principal: &Principal) -> Result<FtpUser, UserDetailError> {
        let checked = self.checked.lock().expect("never poisoned").take();
        match checked {
            Some((name, identity)) if name == principal.username => Ok(FtpUser { identity }),
            _ => Err(UserDetailError::UserNotFound {
                username: principal.username.clone(),
            }),
        }
    }
}
