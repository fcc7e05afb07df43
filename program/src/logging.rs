//! Logging: one format for every program, chosen by `RUST_LOG`.
//!
//! Logs go to standard error so they never mix with a program's output
//! (the client prints listings and file data on standard output), with
//! colours only when standard error is a terminal, so redirected logs stay
//! plain text.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG`, when set and valid, decides
/// what is logged; otherwise `default_directives` (e.g. `"info"`) does.
/// Call once, early in `main`.
pub fn init_logging(default_directives: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(filter(std::env::var("RUST_LOG").ok(), default_directives))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// The filter for a `RUST_LOG` value: an empty or invalid one counts as
/// unset.
fn filter(rust_log: Option<String>, default_directives: &str) -> EnvFilter {
    rust_log
        .filter(|spec| !spec.trim().is_empty())
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new(default_directives))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_wins_when_it_says_something_valid() {
        let chosen =
            |rust_log: Option<&str>| filter(rust_log.map(str::to_owned), "warn").to_string();
        assert_eq!(chosen(None), "warn");
        assert_eq!(chosen(Some("")), "warn");
        assert_eq!(chosen(Some("  ")), "warn");
        assert_eq!(chosen(Some("debug")), "debug");
        assert_eq!(chosen(Some("ferry=trace")), "ferry=trace");
        assert_eq!(chosen(Some("[=")), "warn");
    }
}
