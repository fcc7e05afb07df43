//! The relay's TCP side opening: connect to the target and, with
//! `--proxy-protocol`, announce the browser before any of its bytes.
//!
//! The announcement is a PROXY protocol version 2 header (HAProxy's
//! specification, built by `ppp`): its source is the WebSocket client's
//! socket address — never a header the client could write, such as
//! X-Forwarded-For — and its destination the server address dialled. It is
//! written whole before relaying starts, so the copy and splice paths carry
//! only the client's bytes, unparsed, as before.

use super::classify;
use crate::Limits;
use ferry_proto::HostPort;
use ppp::v2;
use std::net::{IpAddr, SocketAddr};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Whether the upstream connection begins with a PROXY header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Announce {
    Nothing,
    /// A PROXY v2 header naming the browser.
    ProxyHeader,
}

/// Connects to `target` (and announces `browser` if asked), all within the
/// connect timeout; the error is the reason for the client's close frame.
pub(super) async fn connect(
    target: &HostPort,
    browser: SocketAddr,
    announce: Announce,
    limits: &Limits,
) -> Result<TcpStream, String> {
    let opened = async {
        let mut tcp = TcpStream::connect((target.host(), target.port())).await?;
        // Commands and replies are small and latency-bound.
        let _ = tcp.set_nodelay(true);
        if announce == Announce::ProxyHeader {
            let header = proxy_header(browser, tcp.peer_addr()?)?;
            tcp.write_all(&header).await?;
        }
        Ok::<TcpStream, std::io::Error>(tcp)
    };
    match timeout(limits.connect_timeout, opened).await {
        Ok(Ok(tcp)) => Ok(tcp),
        Ok(Err(error)) => Err(classify::describe_io_error(&error)),
        Err(_) => Err("connection timed out".to_owned()),
    }
}

/// A PROXY v2 header (command PROXY, TCP) from `source` to `destination`.
/// Both must be of one family: when they are not, the IPv4 one is written
/// as its IPv4-mapped IPv6 form.
pub(crate) fn proxy_header(
    source: SocketAddr,
    destination: SocketAddr,
) -> std::io::Result<Vec<u8>> {
    let canonical = |addr: SocketAddr| SocketAddr::new(addr.ip().to_canonical(), addr.port());
    let (mut source, mut destination) = (canonical(source), canonical(destination));
    if source.is_ipv4() != destination.is_ipv4() {
        source = as_ipv6(source);
        destination = as_ipv6(destination);
    }
    let addresses: v2::Addresses = (source, destination).into();
    v2::Builder::with_addresses(
        v2::Version::Two | v2::Command::Proxy,
        v2::Protocol::Stream,
        addresses,
    )
    .build()
}

fn as_ipv6(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) => SocketAddr::new(IpAddr::V6(ip.to_ipv6_mapped()), addr.port()),
        IpAddr::V6(_) => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(header: &[u8]) -> v2::Header<'_> {
        let parsed = v2::Header::try_from(header).expect("a valid v2 header");
        assert_eq!(parsed.len(), header.len(), "the header is all there is");
        parsed
    }

    #[test]
    fn the_header_names_the_browser_as_source() {
        let header = proxy_header(
            "203.0.113.7:4242".parse().unwrap(),
            "127.0.0.1:8889".parse().unwrap(),
        )
        .unwrap();
        let parsed = parsed(&header);
        assert_eq!(parsed.command, v2::Command::Proxy);
        assert_eq!(parsed.protocol, v2::Protocol::Stream);
        let v2::Addresses::IPv4(ip) = parsed.addresses else {
            panic!("IPv4 addresses expected: {:?}", parsed.addresses);
        };
        assert_eq!(
            (ip.source_address.to_string(), ip.source_port),
            ("203.0.113.7".to_owned(), 4242)
        );
        assert_eq!(ip.destination_port, 8889);
    }

    #[test]
    fn mixed_families_become_ipv6_and_mapped_ones_ipv4() {
        let header = proxy_header(
            "[2001:db8::7]:4242".parse().unwrap(),
            "127.0.0.1:8889".parse().unwrap(),
        )
        .unwrap();
        let v2::Addresses::IPv6(ip) = parsed(&header).addresses else {
            panic!("IPv6 addresses expected");
        };
        assert_eq!(ip.source_address.to_string(), "2001:db8::7");
        assert_eq!(ip.destination_address.to_string(), "::ffff:127.0.0.1");

        let header = proxy_header(
            "[::ffff:198.51.100.1]:5000".parse().unwrap(),
            "127.0.0.1:8889".parse().unwrap(),
        )
        .unwrap();
        let v2::Addresses::IPv4(ip) = parsed(&header).addresses else {
            panic!("IPv4 addresses expected");
        };
        assert_eq!(ip.source_address.to_string(), "198.51.100.1");
    }
}
