//! The page's transfers: each download and upload on its own connection
//! (§1 of the contract), at most three at once with a queue behind, so the
//! session's connection stays free for browsing and cancelling a transfer is
//! closing its socket.
// Being built (issue 10): until the file table and the transfer panel move
// onto this module, nothing calls it yet.
#![allow(dead_code)]

use crate::endpoint::EndpointSignal;
use crate::model::Model;
use leptos::prelude::*;

/// The transfers as components use them. `Copy`: every field is an arena handle.
#[derive(Clone, Copy)]
pub struct Transfers {
    model: Model,
    endpoint: EndpointSignal,
}

/// The page's transfers, from context (provided by the app).
pub fn use_transfers() -> Transfers {
    expect_context::<Transfers>()
}

impl Transfers {
    /// Transfers that connect to `endpoint` and show themselves in `model`.
    pub fn new(model: Model, endpoint: EndpointSignal) -> Transfers {
        Transfers { model, endpoint }
    }
}
