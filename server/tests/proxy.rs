//! The proxy listener over real sockets (docs/PROTOCOL.md §4, "Client
//! addresses"): a trusted proxy's PROXY header, version 1 or 2, names the
//! client the server then logs and limits; an untrusted peer, a header that
//! never comes and garbage are closed without a reply; and on the main
//! listener a PROXY line is just an unknown command.

mod raw_client;

use ferry_testkit::{LoggedProcess, ProxyOptions, ServerOptions, TestServer, STEP_TIMEOUT};
use ppp::v2;
use raw_client::Client;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

const BIN: &str = env!("CARGO_BIN_EXE_ferry-server");

fn v2_header(command: v2::Command, source: &str, destination: &str) -> Vec<u8> {
    let addresses: v2::Addresses = (
        source.parse::<SocketAddr>().unwrap(),
        destination.parse::<SocketAddr>().unwrap(),
    )
        .into();
    v2::Builder::with_addresses(v2::Version::Two | command, v2::Protocol::Stream, addresses)
        .build()
        .unwrap()
}

/// Sends `header` and a NOOP in one write (so the server must not read past
/// the header), expects the greeting and the NOOP's reply, then quits.
fn greeted_after(proxy_addr: &str, header: &[u8]) -> SocketAddr {
    let mut stream = TcpStream::connect(proxy_addr).unwrap();
    stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(b"NOOP\r\nQUIT\r\n");
    stream.write_all(&bytes).unwrap();
    let mut replies = String::new();
    stream.read_to_string(&mut replies).unwrap();
    let codes: Vec<&str> = replies.lines().map(|line| &line[..3]).collect();
    assert_eq!(codes, ["220", "200", "221"], "{replies}");
    stream.local_addr().unwrap()
}

#[test]
fn the_announced_address_is_the_client_address_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let server = LoggedProcess::spawn(
        Path::new(BIN),
        &[
            "--root",
            root,
            "--listen",
            "127.0.0.1:0",
            "--proxy-listen",
            "127.0.0.1:0",
        ],
    );
    let proxy = server.wait_for_word_after("proxy_addr=");

    greeted_after(&proxy, b"PROXY TCP4 203.0.113.7 127.0.0.1 4242 8889\r\n");
    let noop = server.wait_for_line("command=NOOP");
    assert!(noop.contains("peer=203.0.113.7:4242"), "{noop}");
    let connection = server.wait_for_line(" connection");
    assert!(connection.contains("peer=203.0.113.7:4242"), "{connection}");
    assert!(connection.contains("via=127.0.0.1:"), "{connection}");

    let header = v2_header(v2::Command::Proxy, "[2001:db8::5]:5151", "[::1]:8889");
    greeted_after(&proxy, &header);
    let noop = server.wait_for_line("command=NOOP");
    assert!(noop.contains("peer=[2001:db8::5]:5151"), "{noop}");

    // LOCAL (a health check): the socket's own peer.
    let header = v2_header(v2::Command::Local, "127.0.0.1:1", "127.0.0.1:2");
    let own = greeted_after(&proxy, &header);
    let noop = server.wait_for_line("command=NOOP");
    assert!(noop.contains(&format!("peer={own}")), "{own}: {noop}");
}

/// A client of the proxy listener whose socket is bound to `source` first.
/// Expects the server to close without having sent a byte.
async fn closed_without_reply(client: &mut Client) {
    let mut rest = Vec::new();
    let read = tokio::time::timeout(STEP_TIMEOUT, client.stream.read_to_end(&mut rest))
        .await
        .expect("the server did not close the connection");
    // A reset is a close too.
    if read.is_ok() {
        assert!(rest.is_empty(), "the server replied: {rest:?}");
    }
}

fn proxy_options(trusted: &[&str], header_timeout: Duration) -> ServerOptions {
    ServerOptions {
        proxy: Some(ProxyOptions {
            trusted: trusted.iter().map(|text| text.to_string()).collect(),
            header_timeout,
        }),
        ..ServerOptions::default()
    }
}

const HEADER: &[u8] = b"PROXY TCP4 203.0.113.7 127.0.0.1 4242 8889\r\n";

#[tokio::test]
async fn an_untrusted_peer_is_closed_without_a_reply() {
    let server = TestServer::start_with(proxy_options(&["127.0.0.1"], STEP_TIMEOUT)).await;
    let proxy_addr = server.proxy_addr.unwrap();

    let mut untrusted = Client::connect_raw_from("127.0.0.2:0", proxy_addr).await;
    untrusted.send_raw(HEADER).await;
    closed_without_reply(&mut untrusted).await;

    let mut trusted = Client::connect_raw_from("127.0.0.1:0", proxy_addr).await;
    trusted.send_raw(HEADER).await;
    assert_eq!(trusted.reply().await.code, 220);
    assert_eq!(trusted.command("NOOP").await.code, 200);
}

#[tokio::test]
async fn a_trusted_range_admits_its_members() {
    let server = TestServer::start_with(proxy_options(&["127.0.0.0/30"], STEP_TIMEOUT)).await;
    let proxy_addr = server.proxy_addr.unwrap();
    let mut inside = Client::connect_raw_from("127.0.0.2:0", proxy_addr).await;
    inside.send_raw(HEADER).await;
    assert_eq!(inside.reply().await.code, 220);
    let mut outside = Client::connect_raw_from("127.0.0.5:0", proxy_addr).await;
    outside.send_raw(HEADER).await;
    closed_without_reply(&mut outside).await;
}

#[tokio::test]
async fn a_header_that_never_comes_is_closed_after_the_timeout() {
    let limit = Duration::from_millis(400);
    let server = TestServer::start_with(proxy_options(&[], limit)).await;
    let proxy_addr = server.proxy_addr.unwrap();
    for sent in [&b""[..], b"PROXY TCP4 203.0.1", b"\r\n\r\n\0\r\nQUIT\n"] {
        let started = Instant::now();
        let mut client = Client::connect_raw(proxy_addr).await;
        client.send_raw(sent).await;
        closed_without_reply(&mut client).await;
        let waited = started.elapsed();
        assert!(
            waited >= limit - Duration::from_millis(50) && waited < limit * 10,
            "{sent:?}: closed after {waited:?}"
        );
    }
}

#[tokio::test]
async fn garbage_instead_of_a_header_is_closed_without_a_reply() {
    let server = TestServer::start_with(proxy_options(&[], STEP_TIMEOUT)).await;
    let proxy_addr = server.proxy_addr.unwrap();
    for garbage in [
        &b"NOOP\r\n"[..],
        b"LIST\r\n",
        b"PROXY TCP4 203.0.113.7 4242\r\n",
        b"PROXY HTTP/1.1\r\n",
        b"\r\n\r\n\0\r\nQUIT\n\x13\x11\x00\x0c",
        &[0xff; 64],
    ] {
        let mut client = Client::connect_raw(proxy_addr).await;
        client.send_raw(garbage).await;
        closed_without_reply(&mut client).await;
    }
}

#[tokio::test]
async fn proxied_clients_count_against_the_connection_limit() {
    let mut options = proxy_options(&[], STEP_TIMEOUT);
    options.max_connections = 1;
    let server = TestServer::start_with(options).await;
    let proxy_addr = server.proxy_addr.unwrap();
    let mut first = Client::connect_raw(proxy_addr).await;
    first.send_raw(HEADER).await;
    assert_eq!(first.reply().await.code, 220);
    let mut second = Client::connect_raw(proxy_addr).await;
    second.send_raw(HEADER).await;
    let refused = second.reply().await;
    assert_eq!(refused.code, 421, "{refused}");
    second.expect_closed().await;
}

#[tokio::test]
async fn the_per_address_limit_counts_the_announced_address() {
    let mut options = proxy_options(&[], STEP_TIMEOUT);
    options.max_per_address = 3;
    let server = TestServer::start_with(options).await;
    let proxy_addr = server.proxy_addr.unwrap();
    let announcing = |source: &str| v2_header(v2::Command::Proxy, source, "127.0.0.1:8889");
    let mut held = Vec::new();
    for port in 0..3 {
        let mut client = Client::connect_raw(proxy_addr).await;
        client
            .send_raw(&announcing(&format!("203.0.113.7:{}", 4000 + port)))
            .await;
        assert_eq!(client.reply().await.code, 220);
        held.push(client);
    }
    // The fourth from the same announced address, whatever its port.
    let mut over = Client::connect_raw(proxy_addr).await;
    over.send_raw(&announcing("203.0.113.7:5000")).await;
    let refused = over.reply().await;
    assert_eq!(
        (refused.code, refused.text.as_str()),
        (421, "Too many connections from your address")
    );
    over.expect_closed().await;
    // Through the same proxy, another announced address gets in.
    let mut other = Client::connect_raw(proxy_addr).await;
    other.send_raw(&announcing("203.0.113.8:4000")).await;
    assert_eq!(other.reply().await.code, 220);
    assert_eq!(other.command("NOOP").await.code, 200);
    drop(held);
}

#[tokio::test]
async fn a_proxy_line_on_the_main_listener_is_an_unknown_command() {
    let server = TestServer::start_with(proxy_options(&[], STEP_TIMEOUT)).await;
    let mut client = Client::connect(server.addr).await;
    let reply = client
        .command("PROXY TCP4 203.0.113.7 127.0.0.1 4242 8888")
        .await;
    assert_eq!(reply.code, 502, "{reply}");
    // The connection goes on, as the client it is.
    assert_eq!(client.command("NOOP").await.code, 200);
    assert_eq!(client.command("QUIT").await.code, 221);
    client.expect_closed().await;
}
