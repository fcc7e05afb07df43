//! Which servers the bridge may relay to: the allowlist of `HOST:PORT` names
//! (parsed by the [`HostPort`] shared with the clients).
//!
//! Targets are compared as names, never as resolved addresses: a requested
//! target is allowed only when it equals an allow entry, and the bridge then
//! connects to what the *entry* names. So a name that happens to resolve to an
//! allowed address is still refused, and nothing taken from a request is ever
//! resolved or connected to.

use crate::BridgeError;
use ferry_proto::{AddressError, HostPort};
use std::fmt;

/// Parses a configured target (upstream, `--allow`) with the shared
/// `HOST:PORT` rules, naming the text in the error.
pub fn parse_target(input: &str) -> Result<HostPort, BridgeError> {
    HostPort::parse(input).map_err(|AddressError(reason)| BridgeError::InvalidTarget {
        input: input.to_owned(),
        reason,
    })
}

/// The targets a WebSocket may ask for: the upstream plus the `--allow` entries.
#[derive(Debug, Clone)]
pub struct TargetPolicy {
    /// The default target.
    upstream: HostPort,
    /// Every allowed target, the upstream first, without duplicates.
    allowed: Vec<HostPort>,
}

/// Why a requested target is refused (sent as the reason of close code
/// [`POLICY_VIOLATION`](ferry_proto::close::POLICY_VIOLATION)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TargetPolicy {
    /// A policy that allows `upstream` and every entry of `allowed`.
    pub fn new(upstream: HostPort, allowed: impl IntoIterator<Item = HostPort>) -> TargetPolicy {
        let mut list = vec![upstream.clone()];
        for entry in allowed {
            if !list.contains(&entry) {
                list.push(entry);
            }
        }
        TargetPolicy {
            upstream,
            allowed: list,
        }
    }

    /// The default target (used when a request names none).
    pub fn upstream(&self) -> &HostPort {
        &self.upstream
    }

    /// Every allowed target, the upstream first.
    pub fn allowed(&self) -> &[HostPort] {
        &self.allowed
    }

    /// Decides on the `target` query parameter of a request.
    ///
    /// Returns the allow entry to connect to (a clone of the configured one,
    /// never the request's text), or the reason for refusing.
    pub fn decide(&self, requested: Option<&str>) -> Result<HostPort, Refusal> {
        let Some(requested) = requested else {
            return Ok(self.upstream.clone());
        };
        let shown = shorten(requested);
        let parsed = HostPort::parse(requested)
            .map_err(|_| Refusal(format!("target {shown} is not HOST:PORT")))?;
        self.allowed
            .iter()
            .find(|entry| **entry == parsed)
            .cloned()
            .ok_or_else(|| Refusal(format!("target {shown} is not allowed")))
    }
}

/// Keeps a close reason within the 123 bytes a close frame can carry.
fn shorten(text: &str) -> String {
    const MAX: usize = 64;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(s: &str) -> HostPort {
        s.parse().unwrap()
    }

    #[test]
    fn configured_targets_name_the_text_in_the_error() {
        assert_eq!(
            parse_target("LocalHost:8888").unwrap(),
            hp("localhost:8888")
        );
        let error = parse_target("files.example").unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"invalid target "files.example": expected HOST:PORT"#
        );
    }

    #[test]
    fn decides_by_name_and_returns_the_entry() {
        let policy = TargetPolicy::new(hp("127.0.0.1:8888"), [hp("files.example:2121")]);
        assert_eq!(policy.decide(None), Ok(hp("127.0.0.1:8888")));
        assert_eq!(
            policy.decide(Some("127.0.0.1:8888")),
            Ok(hp("127.0.0.1:8888"))
        );
        assert_eq!(
            policy.decide(Some("FILES.example:2121")),
            Ok(hp("files.example:2121"))
        );
        // Same address, other spelling: refused, nothing is resolved.
        assert_eq!(
            policy.decide(Some("localhost:8888")),
            Err(Refusal("target localhost:8888 is not allowed".into()))
        );
        assert_eq!(
            policy.decide(Some("10.0.0.1:22")),
            Err(Refusal("target 10.0.0.1:22 is not allowed".into()))
        );
        assert!(policy
            .decide(Some("nonsense"))
            .unwrap_err()
            .0
            .contains("not HOST:PORT"));
        let long = "é".repeat(200);
        assert!(policy.decide(Some(&long)).unwrap_err().0.len() <= 123);
    }
}
