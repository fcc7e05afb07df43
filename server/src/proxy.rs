//! The proxy listener's door: who may connect there, and the PROXY protocol
//! header (HAProxy's specification, version 1 text or version 2 binary)
//! that such a peer sends before anything else, naming the real client.
//! With it, a bridge or load balancer in front of the server does not make
//! every client look like one address to the logs, limits and lockouts.
//!
//! The header is read to its last byte and not one byte further: what
//! follows it is the client's first command, which the connection must
//! still see, and nothing may be buffered here. So each read asks for no
//! more than is surely still missing: one byte at a time while a version 1
//! line is open (it ends at its `\r\n`, at most 107 bytes in all), and for
//! version 2 the fixed 16 bytes, then exactly the length they announce. The
//! parsing itself is `ppp`'s, given the whole line or the whole header
//! (its parser rejects some prefixes of a valid line, such as one ending in
//! the space before a port).

use ipnet::IpNet;
use ppp::{v1, v2, HeaderResult, PartialResult};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Default time a proxied connection has to send its header.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest version 1 header, its `\r\n` included (the specification's 107).
const V1_MAX_LEN: usize = 107;
/// A version 2 header's fixed part: the 12-byte signature, version and
/// command, family and protocol, and the 2-byte length of the rest.
const V2_FIXED_LEN: usize = v2::PROTOCOL_PREFIX.len() + 4;

/// The second listener, whose every connection begins with a PROXY header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyListener {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Peers allowed to connect there; anyone else is closed without a reply.
    pub trusted: Vec<IpNet>,
    /// How long a connection has to send its header before it is closed.
    pub header_timeout: Duration,
}

impl ProxyListener {
    /// A proxy listener on `addr` trusting loopback only, with the default
    /// header timeout.
    pub fn new(addr: SocketAddr) -> ProxyListener {
        ProxyListener {
            addr,
            trusted: loopback(),
            header_timeout: DEFAULT_HEADER_TIMEOUT,
        }
    }

    /// Whether a connection from `peer` may send a header at all.
    pub(crate) fn trusts(&self, peer: IpAddr) -> bool {
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
        let peer = peer.to_canonical();
        self.trusted.iter().any(|net| net.contains(&peer))
    }
}

/// The default trusted proxies: loopback, 127.0.0.0/8 and ::1.
pub fn loopback() -> Vec<IpNet> {
    vec![
        IpNet::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8).expect("a valid prefix"),
        IpNet::from(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ]
}

/// `--trust-proxy`: an address (one host) or a CIDR range.
pub fn parse_trusted_proxy(text: &str) -> Result<IpNet, String> {
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(addr));
    }
    text.parse::<IpNet>()
        .map(|net| net.trunc())
        .map_err(|_| "expected an IP address or a CIDR range such as 10.0.0.0/8".to_owned())
}

/// Why a proxied connection is closed without a reply.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeaderError {
    #[error("no PROXY header within {0:?}")]
    Timeout(Duration),
    #[error("closed before the end of the PROXY header")]
    Closed,
    #[error("not a PROXY header: {0}")]
    Invalid(String),
    #[error("reading the PROXY header: {0}")]
    Io(#[from] io::Error),
}

/// Reads one PROXY header from `reader`, within `limit`, and returns the
/// client address it announces; `peer` (the socket's) when it announces
/// none: a version 2 LOCAL command (a health check), an UNKNOWN or
/// unspecified family, or a Unix socket.
pub(crate) async fn read_header<R: AsyncRead + Unpin>(
    reader: &mut R,
    peer: SocketAddr,
    limit: Duration,
) -> Result<SocketAddr, HeaderError> {
    match tokio::time::timeout(limit, read_announced(reader)).await {
        Ok(announced) => Ok(announced?.unwrap_or(peer)),
        Err(_) => Err(HeaderError::Timeout(limit)),
    }
}

/// The header's announced source, read without going past its end.
async fn read_announced<R: AsyncRead + Unpin>(
    reader: &mut R,
) -> Result<Option<SocketAddr>, HeaderError> {
    let mut header = Vec::with_capacity(V1_MAX_LEN);
    loop {
        let v1_line_open = header.first() == Some(&b'P') && !header.ends_with(b"\r\n");
        let missing = if v1_line_open {
            if header.len() >= V1_MAX_LEN {
                return Err(HeaderError::Invalid("version 1 line too long".to_owned()));
            }
            1
        } else {
            match HeaderResult::parse(&header) {
                HeaderResult::V1(Ok(parsed)) => return Ok(v1_source(parsed.addresses)),
                HeaderResult::V2(Ok(parsed)) => return Ok(v2_source(&parsed)),
                HeaderResult::V2(Err(error)) if error.is_incomplete() => {
                    v2_missing(&error, header.len())
                }
                // A whole version 1 line, or a first byte that starts neither version.
                HeaderResult::V1(Err(error)) => {
                    return Err(HeaderError::Invalid(error.to_string()))
                }
                HeaderResult::V2(Err(error)) => {
                    return Err(HeaderError::Invalid(error.to_string()))
                }
            }
        };
        let start = header.len();
        header.resize(start + missing, 0);
        match reader.read_exact(&mut header[start..]).await {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(HeaderError::Closed)
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// How many more bytes an incomplete version 2 header surely has (or, with
/// nothing read yet, any header): no guess past its end, since the client's
/// first command may follow at once.
fn v2_missing(error: &v2::ParseError, have: usize) -> usize {
    match error {
        // Nothing yet: the first byte tells the version.
        v2::ParseError::Incomplete(0) => 1,
        // Part of the fixed 16 bytes.
        v2::ParseError::Incomplete(_) => V2_FIXED_LEN - have,
        // The fixed part is in and names the length of the rest.
        v2::ParseError::Partial(got, length) => length - got,
        _ => 1,
    }
}

fn v1_source(addresses: v1::Addresses) -> Option<SocketAddr> {
    match addresses {
        v1::Addresses::Tcp4(ip) => Some(SocketAddr::from((ip.source_address, ip.source_port))),
        v1::Addresses::Tcp6(ip) => Some(SocketAddr::from((ip.source_address, ip.source_port))),
        v1::Addresses::Unknown => None,
    }
}

fn v2_source(header: &v2::Header<'_>) -> Option<SocketAddr> {
    if header.command == v2::Command::Local {
        return None;
    }
    match header.addresses {
        v2::Addresses::IPv4(ip) => Some(SocketAddr::from((ip.source_address, ip.source_port))),
        v2::Addresses::IPv6(ip) => Some(SocketAddr::from((ip.source_address, ip.source_port))),
        v2::Addresses::Unspecified | v2::Addresses::Unix(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    const PEER: &str = "127.0.0.1:40000";
    const AFTER: &[u8] = b"LIST\r\n";

    /// Feeds `header` then the first command, in pieces of `step` bytes, and
    /// returns the announced address and what is left unread.
    async fn announced(header: &[u8], step: usize) -> (Result<SocketAddr, HeaderError>, Vec<u8>) {
        let (mut client, mut server) = tokio::io::duplex(1 << 17);
        let mut bytes = header.to_vec();
        bytes.extend_from_slice(AFTER);
        let writer = tokio::spawn(async move {
            for piece in bytes.chunks(step) {
                client.write_all(piece).await.unwrap();
                tokio::task::yield_now().await;
            }
            client
        });
        let result = read_header(&mut server, PEER.parse().unwrap(), Duration::from_secs(5)).await;
        let client = writer.await.unwrap();
        drop(client);
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        (result, rest)
    }

    fn v2_proxy(source: &str, destination: &str) -> Vec<u8> {
        let addresses: v2::Addresses = (
            source.parse::<SocketAddr>().unwrap(),
            destination.parse::<SocketAddr>().unwrap(),
        )
            .into();
        v2::Builder::with_addresses(
            v2::Version::Two | v2::Command::Proxy,
            v2::Protocol::Stream,
            addresses,
        )
        .build()
        .unwrap()
    }

    #[tokio::test]
    async fn version_1_announces_its_source_and_leaves_the_command() {
        let header = b"PROXY TCP4 203.0.113.7 127.0.0.1 4242 8889\r\n";
        for step in [1, 5, 200] {
            let (result, rest) = announced(header, step).await;
            assert_eq!(result.unwrap().to_string(), "203.0.113.7:4242");
            assert_eq!(rest, AFTER, "step {step}");
        }
        let header = b"PROXY TCP6 2001:db8::1 ::1 4242 8889\r\n";
        let (result, rest) = announced(header, 200).await;
        assert_eq!(result.unwrap().to_string(), "[2001:db8::1]:4242");
        assert_eq!(rest, AFTER);
        let (result, rest) = announced(b"PROXY UNKNOWN\r\n", 200).await;
        assert_eq!(result.unwrap().to_string(), PEER);
        assert_eq!(rest, AFTER);
    }

    #[tokio::test]
    async fn version_2_announces_its_source_and_leaves_the_command() {
        for (source, destination) in [
            ("198.51.100.9:5151", "127.0.0.1:8889"),
            ("[2001:db8::9]:5151", "[::1]:8889"),
        ] {
            let header = v2_proxy(source, destination);
            for step in [1, 7, 4096] {
                let (result, rest) = announced(&header, step).await;
                assert_eq!(result.unwrap(), source.parse().unwrap());
                assert_eq!(rest, AFTER, "step {step}");
            }
        }
    }

    #[tokio::test]
    async fn version_2_with_tlvs_is_read_to_its_end() {
        let addresses: v2::Addresses = (
            "198.51.100.9:5151".parse::<SocketAddr>().unwrap(),
            "127.0.0.1:8889".parse::<SocketAddr>().unwrap(),
        )
            .into();
        let header = v2::Builder::with_addresses(
            v2::Version::Two | v2::Command::Proxy,
            v2::Protocol::Stream,
            addresses,
        )
        .write_tlv(v2::Type::Authority, b"files.example.com")
        .unwrap()
        .build()
        .unwrap();
        let (result, rest) = announced(&header, 3).await;
        assert_eq!(result.unwrap().to_string(), "198.51.100.9:5151");
        assert_eq!(rest, AFTER);
    }

    #[tokio::test]
    async fn a_local_command_is_the_socket_peer() {
        let header = v2::Builder::new(
            v2::Version::Two | v2::Command::Local,
            v2::AddressFamily::Unspecified | v2::Protocol::Unspecified,
        )
        .build()
        .unwrap();
        let (result, rest) = announced(&header, 1).await;
        assert_eq!(result.unwrap().to_string(), PEER);
        assert_eq!(rest, AFTER);
    }

    #[tokio::test]
    async fn garbage_and_bad_headers_are_refused() {
        for bad in [
            &b"LIST\r\n"[..],
            b"PROXY TCP4 nonsense\r\n",
            b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
            b"\r\n\r\n\0\r\nQUIT\n\x31\x11\0\x0c",
        ] {
            let (result, _) = announced(bad, 1).await;
            assert!(
                matches!(result, Err(HeaderError::Invalid(_))),
                "{bad:?}: {result:?}"
            );
        }
        let long = format!("PROXY TCP4 {}\r\n", "1".repeat(200));
        let (result, _) = announced(long.as_bytes(), 200).await;
        assert!(matches!(result, Err(HeaderError::Invalid(_))), "{result:?}");
    }

    #[tokio::test]
    async fn a_header_cut_short_or_late_is_refused() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        client.write_all(b"PROXY TCP4 1.2.").await.unwrap();
        drop(client);
        let result = read_header(&mut server, PEER.parse().unwrap(), Duration::from_secs(5)).await;
        assert!(matches!(result, Err(HeaderError::Closed)), "{result:?}");

        let (_client, mut server) = tokio::io::duplex(1024);
        let limit = Duration::from_millis(50);
        let result = read_header(&mut server, PEER.parse().unwrap(), limit).await;
        assert!(matches!(result, Err(HeaderError::Timeout(_))), "{result:?}");
    }

    /// A reader that hands out `data` in pieces of the given sizes (in
    /// turn), never more than asked, and records how far it was read.
    struct Pieces<'a> {
        data: &'a [u8],
        sizes: &'a [u8],
        read: usize,
        calls: usize,
    }

    impl AsyncRead for Pieces<'_> {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            // A zero-byte read of a header that is not over would loop for ever.
            assert!(buf.remaining() > 0, "asked for no bytes");
            let size = self.sizes.get(self.calls % self.sizes.len().max(1));
            let size = size.map_or(usize::MAX, |&size| usize::from(size).max(1));
            let left = &self.data[self.read..];
            let n = left.len().min(buf.remaining()).min(size);
            buf.put_slice(&left[..n]);
            self.read += n;
            self.calls += 1;
            std::task::Poll::Ready(Ok(()))
        }
    }

    /// What a header made from fuzzed parts announces: `None` when the
    /// parts do not make a valid header, `Some(None)` for no address.
    type Announced = Option<Option<SocketAddr>>;

    /// A version 1 line from fuzzed parts.
    fn v1_line(family: u8, source: u128, ports: (u16, u16), junk: &[u8]) -> (Vec<u8>, Announced) {
        let v4 = Ipv4Addr::from(source as u32);
        let v6 = Ipv6Addr::from(source);
        let (line, announced) = match family % 5 {
            0 => (
                format!("PROXY TCP4 {v4} 127.0.0.1 {} {}\r\n", ports.0, ports.1),
                Some(Some(SocketAddr::from((v4, ports.0)))),
            ),
            1 => (
                format!("PROXY TCP6 {v6} ::1 {} {}\r\n", ports.0, ports.1),
                Some(Some(SocketAddr::from((v6, ports.0)))),
            ),
            2 => ("PROXY UNKNOWN\r\n".to_owned(), Some(None)),
            3 => (
                format!("PROXY TCP4 {v6} {v4} {} {}\r\n", ports.0, ports.1),
                None,
            ),
            _ => (format!("PROXY {}\r\n", String::from_utf8_lossy(junk)), None),
        };
        (line.into_bytes(), announced)
    }

    /// A version 2 header from fuzzed parts (with TLVs).
    fn v2_header(family: u8, source: u128, ports: (u16, u16), tlvs: &[u8]) -> (Vec<u8>, Announced) {
        let (source, destination): (SocketAddr, SocketAddr) = if family.is_multiple_of(2) {
            (
                (Ipv4Addr::from(source as u32), ports.0).into(),
                (Ipv4Addr::LOCALHOST, ports.1).into(),
            )
        } else {
            (
                (Ipv6Addr::from(source), ports.0).into(),
                (Ipv6Addr::LOCALHOST, ports.1).into(),
            )
        };
        let local = family % 7 == 3;
        let command = if local {
            v2::Command::Local
        } else {
            v2::Command::Proxy
        };
        let mut builder = v2::Builder::with_addresses(
            v2::Version::Two | command,
            v2::Protocol::Stream,
            (source, destination),
        );
        for tlv in tlvs.chunks(9) {
            builder = builder.write_tlv(tlv[0], &tlv[1..]).expect("a TLV fits");
        }
        (
            builder.build().expect("a header builds"),
            Some((!local).then_some(source)),
        )
    }

    /// Fuzz target: `read_header` given a well-formed header (v1 or v2, made
    /// from fuzzed parts), the same with fuzzed bytes written over it, or
    /// arbitrary bytes, each followed by a command and handed out in
    /// arbitrary pieces. It never panics, never asks for zero bytes (a
    /// spin), never reads past a header's end (the command is left), and a
    /// well-formed header announces its source. Bounded like every bolero
    /// target under `cargo test` (1 s; BOLERO_RANDOM_TEST_TIME_MS for longer).
    #[test]
    fn fuzz_read_header() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let peer: SocketAddr = PEER.parse().unwrap();
        bolero::check!()
            .with_type::<(u8, u128, (u16, u16), Vec<u8>, Vec<(u16, u8)>, Vec<u8>)>()
            .for_each(|(shape, source, ports, raw, overwrite, sizes)| {
                let (header, announced) = match shape % 3 {
                    0 => v1_line(shape / 3, *source, *ports, raw),
                    1 => v2_header(shape / 3, *source, *ports, raw),
                    _ => (raw.clone(), None),
                };
                let mut data = header.clone();
                for &(at, byte) in overwrite {
                    if let Some(slot) = data.get_mut(usize::from(at) % (header.len() + 1)) {
                        *slot = byte;
                    }
                }
                let intact = data == header && announced.is_some();
                data.extend_from_slice(AFTER);
                let mut reader = Pieces {
                    data: &data,
                    sizes,
                    read: 0,
                    calls: 0,
                };
                let result =
                    runtime.block_on(read_header(&mut reader, peer, Duration::from_secs(5)));
                assert!(reader.read <= data.len());
                match &result {
                    Ok(address) => {
                        // What was read is exactly one whole header.
                        let read = &data[..reader.read];
                        let parsed = HeaderResult::parse(read);
                        let length = match &parsed {
                            HeaderResult::V1(Ok(_)) => {
                                assert!(read.ends_with(b"\r\n") && read.len() <= V1_MAX_LEN);
                                read.len()
                            }
                            HeaderResult::V2(Ok(header)) => header.len(),
                            other => panic!("accepted {read:?}: {other:?}"),
                        };
                        assert_eq!(length, reader.read, "read past the header");
                        if intact {
                            assert_eq!(Some(*address), announced.map(|a| a.unwrap_or(peer)));
                        }
                    }
                    Err(HeaderError::Invalid(_)) | Err(HeaderError::Closed) => {}
                    Err(other) => panic!("{other:?}"),
                }
                if intact {
                    assert!(result.is_ok(), "{header:?}: {result:?}");
                    assert_eq!(&data[reader.read..], AFTER, "the command is left");
                }
            });
    }

    #[test]
    fn trust_is_by_address_or_range() {
        let mut door = ProxyListener::new(PEER.parse().unwrap());
        assert!(door.trusts("127.0.0.1".parse().unwrap()));
        assert!(door.trusts("127.9.9.9".parse().unwrap()));
        assert!(door.trusts("::1".parse().unwrap()));
        assert!(door.trusts("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!door.trusts("10.0.0.1".parse().unwrap()));
        door.trusted = vec![
            parse_trusted_proxy("10.1.0.0/16").unwrap(),
            parse_trusted_proxy("192.0.2.7").unwrap(),
        ];
        assert!(door.trusts("10.1.200.3".parse().unwrap()));
        assert!(door.trusts("192.0.2.7".parse().unwrap()));
        assert!(!door.trusts("192.0.2.8".parse().unwrap()));
        assert!(!door.trusts("127.0.0.1".parse().unwrap()));
        assert_eq!(
            parse_trusted_proxy("10.1.2.3/16").unwrap().to_string(),
            "10.1.0.0/16"
        );
        assert!(parse_trusted_proxy("10.1.2.3/33").is_err());
        assert!(parse_trusted_proxy("localhost").is_err());
    }
}
