//! How `ferry`, `ferry-server` and `ferry-bridge` start and stop.
//!
//! The three programs are set up the same way, from here, so a user meets
//! one set of rules: a bad flag is one line and exit status 2 ([`flags`]);
//! a `SECONDS` flag takes whole seconds or a duration such as `5m`
//! ([`duration`]); logs go to standard error under `RUST_LOG` ([`logging`]);
//! Ctrl-C or SIGTERM starts a graceful stop and a second one ends the
//! program at once ([`signals`]); and a failure to start is one
//! `program: reason` line ([`failure`]). The two servers count
//! connections per client address the same way too ([`per_address`]), and
//! the TLS servers read their certificate and key the same way ([`pem`]).
//!
//! Kept out of `ferry-proto`, which must stay free of clap and builds for
//! wasm32.

pub mod duration;
pub mod failure;
pub mod flags;
pub mod logging;
pub mod pem;
pub mod per_address;
pub mod signals;

pub use duration::parse_seconds;
pub use failure::{exit_code, one_line};
pub use flags::{parse_or_exit, BAD_ARGUMENTS};
pub use logging::init_logging;
pub use pem::read_cert_and_key;
pub use per_address::{AddressFull, AddressSlot, PerAddress};
pub use signals::{ShutdownSignals, INTERRUPTED};
