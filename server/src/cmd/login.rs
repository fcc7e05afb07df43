//! `USER <account>` and `PASS <password>` (docs/PROTOCOL.md §3, §3.5).
//!
//! Without accounts every session is anonymous with the server's own
//! access, so both answer `230 No login required`, PASS even without USER
//! first. With accounts, USER names the account (`331`) and PASS checks
//! the password through [`crate::login`], the rules every door shares.

use crate::connection::Connection;
use crate::login::{self, Attempt, Channel};
use crate::session::Session;
use crate::{ServerError, Shared};
use ferry_proto::{codes, Password, Reply};

/// `331 Password required`, or `230` on a server without accounts.
pub(crate) fn user(
    shared: &Shared,
    session: &mut Session,
    name: String,
) -> Result<Reply, ServerError> {
    if shared.accounts.is_none() {
        return Ok(no_login_required());
    }
    session.begin_login(name);
    Ok(Reply::new(codes::PASSWORD_REQUIRED, "Password required"))
}

/// `230 Logged in`, or `230` on a server without accounts.
pub(crate) async fn pass(
    conn: &Connection,
    shared: &Shared,
    session: &mut Session,
    password: Password,
) -> Result<Reply, ServerError> {
    if shared.accounts.is_none() {
        return Ok(no_login_required());
    }
    let name = session.take_user()?;
    let channel = match conn.proxy() {
        Some(_) => Channel::Proxied,
        None => Channel::Plain {
            peer: conn.peer().ip(),
        },
    };
    let attempt = Attempt {
        client: conn.peer().ip(),
        channel,
        name,
        password,
    };
    let identity = login::log_in(shared, attempt).await?;
    tracing::info!(peer = %conn.peer(), account = %identity.owner(), "logged in");
    session.logged_in(identity);
    Ok(Reply::new(codes::LOGGED_IN, "Logged in"))
}

fn no_login_required() -> Reply {
    Reply::new(codes::LOGGED_IN, "No login required")
}
