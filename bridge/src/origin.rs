//! Which web pages may open a relay: the `Origin` check done before upgrade.
//!
//! Browsers always send `Origin` on a WebSocket handshake and let any page
//! connect anywhere, so without this check any site a user visits could use
//! the bridge from the user's machine. Native clients send no `Origin` and are
//! let through: they are not confused deputies.

use crate::BridgeError;
use std::net::{IpAddr, SocketAddr};

/// Port of the Trunk dev server that serves the web client during
/// development (`web-client/Trunk.toml`), allowed by default.
pub const TRUNK_DEV_PORT: u16 = 8081;

/// The set of allowed `Origin` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPolicy {
    /// `*` was given: every origin is allowed.
    any: bool,
    /// Allowed origins, normalised (lower case, no default port, no slash).
    origins: Vec<String>,
}

impl OriginPolicy {
    /// A policy allowing exactly `origins`; the entry `*` allows every origin.
    pub fn new(origins: &[String]) -> Result<OriginPolicy, BridgeError> {
        let mut policy = OriginPolicy {
            any: false,
            origins: Vec::new(),
        };
        for origin in origins {
            if origin == "*" {
                policy.any = true;
                continue;
            }
            let normalised = normalise(origin).ok_or_else(|| BridgeError::InvalidOrigin {
                input: origin.clone(),
            })?;
            if !policy.origins.contains(&normalised) {
                policy.origins.push(normalised);
            }
        }
        Ok(policy)
    }

    /// The default policy for a bridge listening on `listen`: its own origin
    /// (http and https; for a loopback or wildcard address also the
    /// `localhost`, `127.0.0.1` and `[::1]` spellings) and the Trunk dev
    /// server on `localhost` / `127.0.0.1` port [`TRUNK_DEV_PORT`].
    pub fn defaults_for(listen: SocketAddr) -> OriginPolicy {
        let mut hosts = Vec::new();
        let ip = listen.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            hosts.extend([
                "127.0.0.1".to_owned(),
                "localhost".to_owned(),
                "[::1]".to_owned(),
            ]);
        }
        if !ip.is_unspecified() {
            hosts.push(match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            });
        }
        let mut origins = Vec::new();
        for host in &hosts {
            for scheme in ["http", "https"] {
                origins.push(format!("{scheme}://{host}:{}", listen.port()));
            }
        }
        for host in ["127.0.0.1", "localhost"] {
            origins.push(format!("http://{host}:{TRUNK_DEV_PORT}"));
        }
        OriginPolicy::new(&origins).expect("default origins are well-formed")
    }

    /// Whether a request with this `Origin` header value may upgrade.
    pub fn allows(&self, origin: &str) -> bool {
        self.any || normalise(origin).is_some_and(|o| self.origins.contains(&o))
    }

    /// The allowed origins in normalised form (`*` is not listed).
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Whether every origin is allowed (`--allow-origin '*'`).
    pub fn allows_any(&self) -> bool {
        self.any
    }
}

/// `scheme://host[:port]` in lower case, without a trailing slash and without
/// the scheme's default port, as browsers send it; `None` if it is not one.
fn normalise(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let valid_authority = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b));
    if !valid_authority {
        return None;
    }
    let default_port = match scheme {
        "http" | "ws" => Some(":80"),
        "https" | "wss" => Some(":443"),
        _ => None,
    };
    let authority = match default_port {
        Some(port) => authority.strip_suffix(port).unwrap_or(authority),
        None => authority,
    };
    // A port without a host ("https://:443", "http://:8080") is no origin;
    // "https://:443" would otherwise become "https://", which is refused.
    if authority.is_empty() || authority.starts_with(':') {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_own_origin_and_trunk() {
        let policy = OriginPolicy::defaults_for("127.0.0.1:8080".parse().unwrap());
        for ok in [
            "http://127.0.0.1:8080",
            "https://localhost:8080",
            "http://[::1]:8080",
            "http://localhost:8081",
            "http://127.0.0.1:8081",
            "HTTP://LOCALHOST:8080/",
        ] {
            assert!(policy.allows(ok), "{ok} should be allowed");
        }
        for refused in [
            "http://evil.example",
            "http://127.0.0.1:8082",
            "null",
            "",
            "http://localhost",
        ] {
            assert!(!policy.allows(refused), "{refused} should be refused");
        }
        let public = OriginPolicy::defaults_for("192.0.2.7:80".parse().unwrap());
        assert!(public.allows("http://192.0.2.7"));
        assert!(!public.allows("http://localhost"));
    }

    #[test]
    fn explicit_lists_and_wildcard() {
        let policy = OriginPolicy::new(&["https://Ferry.example.com:443/".into()]).unwrap();
        assert!(policy.allows("https://ferry.example.com"));
        assert!(!policy.allows("http://ferry.example.com"));
        assert!(OriginPolicy::new(&["*".into()]).unwrap().allows("null"));
        assert!(OriginPolicy::new(&["ferry.example.com".into()]).is_err());
        assert!(OriginPolicy::new(&["https://a b".into()]).is_err());
    }

    /// Found by tests/fuzz.rs: "wss://:443" was accepted and normalised to
    /// "wss://", which is not an origin (and a policy of it could not be
    /// made again from its own normal form).
    #[test]
    fn a_port_without_a_host_is_no_origin() {
        for bad in [
            "wss://:443",
            "https://:443",
            "http://:80",
            "http://:8080",
            "ws://:",
        ] {
            assert!(OriginPolicy::new(&[bad.into()]).is_err(), "{bad}");
            let policy = OriginPolicy::defaults_for("127.0.0.1:8080".parse().unwrap());
            assert!(!policy.allows(bad), "{bad}");
        }
        assert!(OriginPolicy::new(&["https://h:443".into()]).is_ok());
    }
}
