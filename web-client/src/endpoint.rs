//! Where the page's connections go and as whom they log in.
//!
//! The session's connection (listing, folders, the console) and every
//! transfer's own connection (§1 of the contract: one connection per
//! transfer, so that cancelling is closing it) open the same URL and log in
//! with the same account. The session sets the [`Endpoint`] once it is
//! connected (and again after a login); the transfers read it. The password
//! lives here, in memory only: nothing writes it to any browser storage.

use leptos::prelude::*;
use std::fmt;

/// The bridge URL (with its `?target=`) and the login, if any.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Endpoint {
    /// The WebSocket URL every connection opens.
    pub url: String,
    /// The account the session logged in as; `None` when anonymous.
    pub login: Option<Login>,
}

/// An account and its password.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub account: String,
    pub password: String,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// The page's endpoint: `None` while disconnected.
pub type EndpointSignal = RwSignal<Option<Endpoint>>;
