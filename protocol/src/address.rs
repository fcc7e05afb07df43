//! `HOST:PORT` addresses, parsed and normalised in one place for the CLI, the
//! bridge's allowlist and the web client's connect form.
//!
//! The bridge compares targets as names, never as resolved addresses, so the
//! normal form matters: the host is lower case, IP literals are canonical,
//! IPv6 literals are kept without brackets (and written with them).

use crate::ip;
use std::fmt;
use std::str::FromStr;

/// A `HOST:PORT` pair in normal form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// Lower-case DNS name or canonical IP literal (IPv6 without brackets).
    host: String,
    /// TCP port, never 0.
    port: u16,
}

/// Why an address was refused, in words that fit after "invalid address: ".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressError(pub &'static str);

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for AddressError {}

impl HostPort {
    /// `host:port`, `1.2.3.4:port` or `[v6]:port`; the port is required.
    pub fn parse(input: &str) -> Result<HostPort, AddressError> {
        let (host, port) = split(input)?;
        let port = port.ok_or(AddressError("expected HOST:PORT"))?;
        HostPort::from_parts(host, port)
    }

    /// As [`HostPort::parse`], but a bare host (or `[v6]`) gets `default_port`.
    pub fn parse_with_default(input: &str, default_port: u16) -> Result<HostPort, AddressError> {
        let (host, port) = split(input)?;
        match port {
            Some(port) => HostPort::from_parts(host, port),
            None => Ok(HostPort {
                host: normal_host(host)?,
                port: default_port,
            }),
        }
    }

    /// From a host (an IPv6 literal with or without brackets) and a port
    /// given apart, as in `CONNECT <host> <port>`.
    pub fn from_parts(host: &str, port: &str) -> Result<HostPort, AddressError> {
        Ok(HostPort {
            host: normal_host(host)?,
            port: parse_port(port)?,
        })
    }

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
    type Err = AddressError;

    fn from_str(input: &str) -> Result<HostPort, AddressError> {
        HostPort::parse(input)
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

/// Splits off the port, if there is one. A bare IPv6 address (two or more
/// colons, no brackets) has no room for a port and is refused.
fn split(input: &str) -> Result<(&str, Option<&str>), AddressError> {
    if input.is_empty() {
        return Err(AddressError("it is empty"));
    }
    if let Some(rest) = input.strip_prefix('[') {
        let close = rest
            .find(']')
            .ok_or(AddressError("missing ']' after the IPv6 address"))?;
        let (host, after) = input.split_at(close + 2);
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(AddressError("expected ':' after ']'")),
            },
        };
    }
    match input.matches(':').count() {
        0 => Ok((input, None)),
        1 => Ok(input
            .split_once(':')
            .map(|(host, port)| (host, Some(port)))
            .unwrap_or((input, None))),
        _ => Err(AddressError("an IPv6 address needs brackets: [addr]:port")),
    }
}

/// A port from 1 to 65535, in decimal digits only.
fn parse_port(port: &str) -> Result<u16, AddressError> {
    const RANGE: AddressError = AddressError("the port is not a number from 1 to 65535");
    if port.is_empty() {
        return Err(AddressError("the port is missing"));
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RANGE);
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(RANGE),
        Ok(port) => Ok(port),
    }
}

/// The host in normal form: `[v6]` or a bare IPv6 literal, an IPv4 literal, or a DNS name.
fn normal_host(host: &str) -> Result<String, AddressError> {
    if host.is_empty() {
        return Err(AddressError("the host is missing"));
    }
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or(AddressError("unbalanced brackets"))?;
        return match ip::canonical(inner) {
            Some(ip) if ip.v6 => Ok(ip.text),
            _ => Err(AddressError("brackets must hold an IPv6 address")),
        };
    }
    if let Some(ip) = ip::canonical(host) {
        return Ok(ip.text);
    }
    let valid_name = host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if !valid_name {
        return Err(AddressError("the host is not a DNS name or IP address"));
    }
    Ok(host.to_ascii_lowercase())
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
            "host:+1",
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
    fn default_port_and_parts() {
        let with = |s| HostPort::parse_with_default(s, 8888).map(|a| a.to_string());
        assert_eq!(with("Example.org"), Ok("example.org:8888".into()));
        assert_eq!(with("[::1]"), Ok("[::1]:8888".into()));
        assert_eq!(with("h:21"), Ok("h:21".into()));
        assert!(with("::1").is_err());
        let parts = |h, p| HostPort::from_parts(h, p).map(|a| a.to_string());
        assert_eq!(parts("::1", "21"), Ok("[::1]:21".into()));
        assert_eq!(parts("[::1]", "21"), Ok("[::1]:21".into()));
        assert_eq!(parts("10.0.0.1", "9000"), Ok("10.0.0.1:9000".into()));
        assert!(parts("h", "0").is_err());
        assert!(parts("h", "70000").is_err());
        assert!(parts("", "1").is_err());
    }
}
