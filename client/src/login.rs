//! Connecting as someone: the session, then `USER`/`PASS` when the target
//! names an account. The password is asked for only after the server's
//! `331`, so a server without accounts (`230` to USER) never makes anyone
//! type one. Shared by the prompt and the one-shot commands.

use ferry_client::{ClientError, Endpoint, Session, SessionOptions};
use ferry_proto::{Login, Password};

/// Connects to `endpoint` and logs in as its user, if it names one;
/// `password` is called with `user@target` when the server asks for one.
pub async fn connect<F>(
    endpoint: &Endpoint,
    options: SessionOptions,
    password: F,
) -> Result<Session, ClientError>
where
    F: FnOnce(&str) -> Result<Password, ClientError>,
{
    let mut session = Session::connect(&endpoint.target, options).await?;
    if let Some(user) = &endpoint.user {
        log_in(&mut session, user, &endpoint.to_string(), password).await?;
    }
    Ok(session)
}

/// `USER user` then, after `331`, `PASS` with what `password` gives.
pub async fn log_in<F>(
    session: &mut Session,
    user: &str,
    account: &str,
    password: F,
) -> Result<Login, ClientError>
where
    F: FnOnce(&str) -> Result<Password, ClientError>,
{
    session.login(user, || password(account)).await
}
