//! Where to connect: a Ferry server over TCP, or a bridge over WebSocket,
//! and as whom ([`Endpoint`]: `user@HOST:PORT`, `ws://user@bridge/ws`).
//! `HOST:PORT` is read by ferry-proto's [`HostPort`], the parser the bridge's
//! allowlist and the web client use too.

use crate::ClientError;
use ferry_proto::{AddressError, HostPort, DEFAULT_PORT};
use std::fmt;
use std::net::Ipv6Addr;
use tokio_tungstenite::tungstenite::http::Uri;

/// A server address as the user gives it to `CONNECT` or a subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Ferry server reached directly over TCP.
    Tcp {
        /// Host name or IP address (without IPv6 brackets).
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A Ferry bridge reached over WebSocket (`ws://` or `wss://`), e.g.
    /// `ws://127.0.0.1:8080/ws?target=files.example:8888`.
    WebSocket {
        /// The bridge URL, as given.
        url: String,
    },
}

impl Target {
    /// Parses one word: `HOST:PORT`, `[IPv6]:PORT`, `HOST` (port 8888), or a
    /// `ws://` / `wss://` URL.
    pub fn parse(input: &str) -> Result<Target, ClientError> {
        let input = input.trim();
        let invalid = |reason: &str| ClientError::InvalidTarget {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        if input.is_empty() {
            return Err(invalid("it is empty"));
        }
        if input.chars().any(char::is_whitespace) {
            return Err(invalid("it contains spaces"));
        }
        if let Some((scheme, _)) = input.split_once("://") {
            if !scheme.eq_ignore_ascii_case("ws") && !scheme.eq_ignore_ascii_case("wss") {
                return Err(invalid("only ws:// and wss:// URLs are supported"));
            }
            let uri: Uri = input
                .parse()
                .map_err(|_| invalid("it is not a valid URL"))?;
            if uri.host().is_none_or(str::is_empty) {
                return Err(invalid("the URL has no host"));
            }
            return Ok(Target::WebSocket {
                url: input.to_owned(),
            });
        }
        // A bare IPv6 address has no room for a port: it gets the default one.
        let bracketed;
        let address = if input.parse::<Ipv6Addr>().is_ok() {
            bracketed = format!("[{input}]");
            &bracketed
        } else {
            input
        };
        HostPort::parse_with_default(address, DEFAULT_PORT)
            .map(Target::from)
            .map_err(|AddressError(reason)| invalid(reason))
    }

    /// Whether what is sent to this target is safe from the network between:
    /// a `wss://` bridge, or plain TCP or `ws://` to this machine itself. A
    /// password is not sent elsewhere unless the user allows it (the
    /// contract's servers refuse such a login anyway, after it crossed).
    pub fn is_confidential(&self) -> bool {
        match self {
            Target::Tcp { host, .. } => is_loopback(host),
            Target::WebSocket { url } => {
                let secure = url
                    .get(..6)
                    .is_some_and(|scheme| scheme.eq_ignore_ascii_case("wss://"));
                let host = url
                    .parse::<Uri>()
                    .ok()
                    .and_then(|uri| uri.host().map(str::to_owned));
                secure || host.is_some_and(|host| is_loopback(&host))
            }
        }
    }

    /// Builds a TCP target from the two words of `CONNECT <host> <port>`.
    pub fn from_host_and_port(host: &str, port: &str) -> Result<Target, ClientError> {
        HostPort::from_parts(host, port)
            .map(Target::from)
            .map_err(|AddressError(reason)| ClientError::InvalidTarget {
                input: format!("{host} {port}"),
                reason: reason.to_owned(),
            })
    }
}

/// Whether `host` names this machine: `localhost`, or a loopback address
/// (IPv6 possibly in brackets).
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// A target and, optionally, the account to log in as there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The account (`USER`), if one was named.
    pub user: Option<String>,
    /// Where to connect.
    pub target: Target,
}

impl Endpoint {
    /// Parses one word: a [`Target`] with an optional `user@` before the
    /// host (`alice@127.0.0.1:8888`, `ws://alice@bridge:8080/ws`). The user
    /// is never sent to the bridge: it is taken out of the URL.
    pub fn parse(input: &str) -> Result<Endpoint, ClientError> {
        let input = input.trim();
        let (user, rest) = match input.split_once("://") {
            Some((scheme, after)) => {
                let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
                match after[..authority_end].rsplit_once('@') {
                    Some((user, host)) => (
                        Some(user),
                        format!("{scheme}://{host}{}", &after[authority_end..]),
                    ),
                    None => (None, input.to_owned()),
                }
            }
            None => match input.rsplit_once('@') {
                Some((user, host)) => (Some(user), host.to_owned()),
                None => (None, input.to_owned()),
            },
        };
        if user.is_some_and(str::is_empty) {
            return Err(ClientError::InvalidTarget {
                input: input.to_owned(),
                reason: "the user name before '@' is empty".to_owned(),
            });
        }
        Ok(Endpoint {
            user: user.map(str::to_owned),
            target: Target::parse(&rest)?,
        })
    }
}

impl From<Target> for Endpoint {
    fn from(target: Target) -> Endpoint {
        Endpoint { user: None, target }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.user {
            Some(user) => write!(f, "{user}@{}", self.target),
            None => write!(f, "{}", self.target),
        }
    }
}

impl From<HostPort> for Target {
    fn from(address: HostPort) -> Target {
        Target::Tcp {
            host: address.host().to_owned(),
            port: address.port(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
            Target::WebSocket { url } => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Target {
        Target::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn accepts_every_documented_form() {
        assert_eq!(
            Target::parse("127.0.0.1:9000").unwrap(),
            tcp("127.0.0.1", 9000)
        );
        assert_eq!(
            Target::parse("files.example").unwrap(),
            tcp("files.example", 8888)
        );
        assert_eq!(Target::parse("[::1]:7").unwrap(), tcp("::1", 7));
        assert_eq!(Target::parse("[::1]").unwrap(), tcp("::1", 8888));
        assert_eq!(Target::parse("::1").unwrap(), tcp("::1", 8888));
        assert_eq!(
            Target::from_host_and_port("localhost", "8888").unwrap(),
            tcp("localhost", 8888)
        );
        assert_eq!(
            Target::parse("ws://127.0.0.1:8080/ws?target=a:1").unwrap(),
            Target::WebSocket {
                url: "ws://127.0.0.1:8080/ws?target=a:1".into()
            }
        );
        assert!(matches!(
            Target::parse("WSS://bridge.example/ws").unwrap(),
            Target::WebSocket { .. }
        ));
        assert_eq!(tcp("::1", 7).to_string(), "[::1]:7");
    }

    #[test]
    fn only_loopback_and_wss_carry_passwords() {
        let confidential = |text: &str| Target::parse(text).unwrap().is_confidential();
        assert!(confidential("127.0.0.1:8888"));
        assert!(confidential("localhost:1"));
        assert!(confidential("[::1]:7"));
        assert!(confidential("ws://127.0.0.1:8080/ws"));
        assert!(confidential("wss://files.example/ws"));
        assert!(!confidential("files.example:8888"));
        assert!(!confidential("192.0.2.7:8888"));
        assert!(!confidential("ws://files.example/ws"));
    }

    #[test]
    fn a_user_may_come_before_the_host() {
        let endpoint = Endpoint::parse("alice@127.0.0.1:9000").unwrap();
        assert_eq!(endpoint.user.as_deref(), Some("alice"));
        assert_eq!(endpoint.target, tcp("127.0.0.1", 9000));
        assert_eq!(endpoint.to_string(), "alice@127.0.0.1:9000");
        let endpoint = Endpoint::parse("bob@ws://x").unwrap_err();
        assert!(matches!(endpoint, ClientError::InvalidTarget { .. }));
        let endpoint = Endpoint::parse("ws://bob@127.0.0.1:8080/ws?target=a:1").unwrap();
        assert_eq!(endpoint.user.as_deref(), Some("bob"));
        assert_eq!(
            endpoint.target,
            Target::WebSocket {
                url: "ws://127.0.0.1:8080/ws?target=a:1".into()
            }
        );
        assert_eq!(Endpoint::parse("h:1").unwrap().user, None);
        assert!(Endpoint::parse("@h:1").is_err());
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        for bad in [
            "",
            "host:",
            "host:0",
            "host:70000",
            "host:+5",
            ":80",
            "http://x/",
            "ws://",
            "a b",
        ] {
            let err = Target::parse(bad).unwrap_err();
            assert!(
                matches!(err, ClientError::InvalidTarget { .. }),
                "{bad:?}: {err}"
            );
        }
        assert!(Target::from_host_and_port("localhost", "port").is_err());
    }
}
