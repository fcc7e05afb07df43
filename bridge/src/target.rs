//! Which servers the bridge may relay to: `HOST:PORT` names and the allowlist.
//!
//! Targets are compared as names, never as resolved addresses: a requested
//! target is allowed only when it equals an allow entry, and the bridge then
//! connects to what the *entry* names. So a name that happens to resolve to an
//! allowed address is still refused, and nothing taken from a request is ever
//! resolved or connected to.

use crate::BridgeError;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A `HOST:PORT` pair, normalised for comparison: the host is lower case,
/// IP literals are in canonical form, IPv6 literals are kept without brackets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// Lower-case name or canonical IP literal (IPv6 without brackets).
    host: String,
    /// TCP port, never 0.
    port: u16,
}

impl HostPort {
    /// The host name or IP literal (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl FromStr for HostPort {
    type Err = BridgeError;

    /// Parses `host:port`, `1.2.3.4:port` or `[v6]:port`.
    fn from_str(input: &str) -> Result<HostPort, BridgeError> {
        let invalid = |reason| BridgeError::InvalidTarget {
            input: input.to_owned(),
            reason,
        };
        let (host, port) = input
            .rsplit_once(':')
            .ok_or_else(|| invalid("expected HOST:PORT"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| invalid("the port is not a number from 1 to 65535"))?;
        if port == 0 {
            return Err(invalid("the port is not a number from 1 to 65535"));
        }
        let host = if let Some(inner) = host.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| invalid("unbalanced brackets"))?;
            match inner.parse::<IpAddr>() {
                Ok(IpAddr::V6(ip)) => ip.to_string(),
                _ => return Err(invalid("brackets must hold an IPv6 address")),
            }
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            match ip {
                IpAddr::V4(ip) => ip.to_string(),
                IpAddr::V6(_) => {
                    return Err(invalid("an IPv6 address needs brackets: [addr]:port"))
                }
            }
        } else {
            let valid_name = !host.is_empty()
                && host.len() <= 253
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
            if !valid_name {
                return Err(invalid("the host is not a DNS name or IP address"));
            }
            host.to_ascii_lowercase()
        };
        Ok(HostPort { host, port })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The targets a WebSocket may ask for: the upstream plus the `--allow` entries.
#[derive(Debug, Clone)]
pub struct TargetPolicy {
    /// The default target.
    upstream: HostPort,
    /// Every allowed target, the upstream first, without duplicates.
    allowed: Vec<HostPort>,
}

/// Why a requested target is refused (sent as the reason of close code 1008).
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
        let parsed: HostPort = requested
            .parse()
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
    fn parses_and_normalises() {
        assert_eq!(hp("LocalHost:8888").to_string(), "localhost:8888");
        assert_eq!(hp("127.0.0.1:08888").to_string(), "127.0.0.1:8888");
        assert_eq!(hp("[0:0:0:0:0:0:0:1]:9").to_string(), "[::1]:9");
        assert_eq!(hp("[::1]:9").host(), "::1");
        for bad in [
            "",
            "host",
            "host:",
            ":80",
            "host:0",
            "host:65536",
            "host:x",
            "::1:80",
            "[::1:80",
            "[1.2.3.4]:80",
            "a b:80",
            "a/b:80",
            "a@b:80",
        ] {
            assert!(
                bad.parse::<HostPort>().is_err(),
                "{bad:?} should be refused"
            );
        }
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
