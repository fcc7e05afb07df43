//! `USER` and `PASS` on a server without accounts: every session is
//! anonymous with the server's own access, so both answer
//! `230 No login required` (docs/PROTOCOL.md §3, §3.5), PASS even without
//! USER first (the `503` is for servers with accounts).

use ferry_proto::{codes, Reply};

/// The answer to USER and to PASS.
pub(crate) fn no_login_required() -> Reply {
    Reply::new(codes::LOGGED_IN, "No login required")
}
