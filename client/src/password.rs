//! Where a login password comes from, in this order: `--password-file`
//! (its first line), the `FERRY_PASSWORD` environment variable, or a prompt
//! on the terminal without echo (rpassword). Scripts use the first two; a
//! password is never taken from the command line, where `ps` shows it.
//!
//! And where it may go: only to this machine or through `wss://` unless
//! `--allow-plain-login`. The contract's servers refuse a clear-text login
//! from another machine, but only after the password has crossed the
//! network, so the client refuses first, before anyone types it.

use ferry_client::{ClientError, Target};
use ferry_proto::Password;
use std::io;
use std::path::{Path, PathBuf};

/// The environment variable a password may be given in.
pub const PASSWORD_VARIABLE: &str = "FERRY_PASSWORD";

/// Whether a password may cross the network in clear text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlainLogin {
    /// Only to this machine or through `wss://`.
    #[default]
    Refuse,
    /// Anywhere (`--allow-plain-login`).
    Allow,
}

/// The configured way to get a password, and where it may be sent.
#[derive(Debug, Clone, Default)]
pub struct PasswordSource {
    /// `--password-file`.
    pub file: Option<PathBuf>,
    /// `--allow-plain-login`.
    pub plain_login: PlainLogin,
}

impl PasswordSource {
    /// Refuses (before any password is read or asked for) to send one to
    /// `target` in clear text, unless that was allowed.
    pub fn may_send_to(&self, target: &Target, account: &str) -> Result<(), ClientError> {
        if self.plain_login == PlainLogin::Allow || target.is_confidential() {
            return Ok(());
        }
        Err(ClientError::PlainLogin {
            account: account.to_owned(),
        })
    }

    /// The password from the file or the environment, if either is set.
    pub fn configured(&self) -> Result<Option<Password>, ClientError> {
        if let Some(path) = &self.file {
            return read_first_line(path).map(Some);
        }
        Ok(std::env::var(PASSWORD_VARIABLE).ok().map(Password::new))
    }

    /// The password from the file or the environment, else asked on the
    /// terminal as `Password for USER@TARGET: ` without echo.
    pub fn get(&self, account: &str) -> Result<Password, ClientError> {
        if let Some(password) = self.configured()? {
            return Ok(password);
        }
        rpassword::prompt_password(format!("Password for {account}: "))
            .map(Password::new)
            .map_err(|error| ClientError::NoPassword {
                account: account.to_owned(),
                reason: format!(
                    "cannot ask on the terminal ({error}); give --password-file FILE or {PASSWORD_VARIABLE}"
                ),
            })
    }
}

/// The first line of `path` without its line ending.
fn read_first_line(path: &Path) -> Result<Password, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClientError::Local {
        action: "read the password file",
        path: path.to_owned(),
        source,
    })?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        let source = io::Error::new(io::ErrorKind::InvalidData, "its first line is empty");
        return Err(ClientError::Local {
            action: "use the password file",
            path: path.to_owned(),
            source,
        });
    }
    Ok(Password::new(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_text_goes_only_where_it_is_safe_or_allowed() {
        let remote = Target::parse("192.0.2.7:8888").unwrap();
        let local = Target::parse("127.0.0.1:8888").unwrap();
        let refuse = PasswordSource::default();
        let error = refuse.may_send_to(&remote, "a@192.0.2.7:8888").unwrap_err();
        assert!(
            error.to_string().contains("through a wss:// bridge"),
            "{error}"
        );
        assert!(refuse.may_send_to(&local, "a@x").is_ok());
        let allow = PasswordSource {
            plain_login: PlainLogin::Allow,
            ..PasswordSource::default()
        };
        assert!(allow.may_send_to(&remote, "a@x").is_ok());
    }

    #[test]
    fn the_file_gives_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret word\r\nsecond\n").unwrap();
        let source = PasswordSource {
            file: Some(path.clone()),
            ..PasswordSource::default()
        };
        assert_eq!(source.get("a@b").unwrap().expose(), "s3cret word");
        std::fs::write(&path, "\n").unwrap();
        assert!(source.get("a@b").unwrap_err().to_string().contains("empty"));
        let missing = PasswordSource {
            file: Some(dir.path().join("none")),
            ..PasswordSource::default()
        };
        assert!(missing
            .get("a@b")
            .unwrap_err()
            .to_string()
            .contains("cannot read the password file"));
    }
}
