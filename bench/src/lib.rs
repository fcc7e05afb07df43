//! Ferry's benchmark harness.
//!
//! Every scenario runs the real binaries as child processes on loopback, so
//! the figures (and the peak RSS read from `/proc`) belong to the program
//! measured, not to the harness. Each run measures a reference (plain TCP)
//! next to the Ferry path and reports the ratio, because on a shared,
//! noisy machine only figures taken in the same run compare.

pub mod big_listing;
pub mod bridge;
pub mod cli;
pub mod direct;
pub mod fixture;
pub mod ftp;
pub mod list_latency;
pub mod logins;
pub mod process;
pub mod report;
pub mod resume;
pub mod sessions;
pub mod soak;
pub mod splice_relay;
pub mod store;
pub mod wire;
