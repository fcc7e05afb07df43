//! The Ferry wire protocol (see docs/PROTOCOL.md), without any I/O.
//!
//! Everything here works on byte slices fed in arbitrary chunks, so the same
//! code drives the tokio server, the native client and the WebAssembly client:
//!
//! * [`LineDecoder`] frames CRLF / LF terminated lines with the 8 KiB limit.
//! * [`Command`] parses and encodes command lines (server side input).
//! * [`Reply`] parses and encodes reply lines (client side input).
//! * [`ClientDriver`] is the client's one state machine: bytes in, owned
//!   [`Event`]s out; each command is a typed [`Exchange`] ending in exactly
//!   one `Result<Success, Refusal>`, and [`Refusal`] carries the one table
//!   of what each refusal means.
//! * [`Name`] is a validated file name, [`Path`] names joined by `/`;
//!   [`ListingEntry`] is a row of `LIST`, [`Status`] the answer to `STAT`.

mod address;
pub mod close;
mod command;
mod driver;
mod error;
mod exchange;
mod ip;
mod line;
mod listing;
mod name;
mod path;
mod refusal;
mod reply;
mod rfc3339;
mod status;
mod verb;

pub use address::{AddressError, HostPort};
pub use command::{quoted, Command, Password};
pub use driver::{ClientDriver, Done, Event, DEFAULT_MAX_LISTING_LEN};
pub use error::ProtoError;
pub use exchange::{
    Delete, Exchange, Hash, Help, List, Login, Mkdir, Noop, Pass, Quit, Read, Rename, Resume,
    Retrieve, Rmdir, Stat, Store, User,
};
pub use line::{LineDecoder, LineEvent, MAX_LINE_LEN};
pub use listing::{encode_listing, parse_listing, EntryKind, ListingEntry};
pub use name::{Name, MAX_NAME_LEN};
pub use path::{Path, MAX_PATH_LEN};
pub use refusal::{Refusal, RefusalKind};
pub use reply::{codes, Reply};
pub use rfc3339::{format_rfc3339, parse_rfc3339};
pub use status::Status;
pub use verb::Verb;

/// Default TCP port of a Ferry server (the original application's port).
pub const DEFAULT_PORT: u16 = 8888;
