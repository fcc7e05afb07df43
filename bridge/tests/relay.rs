//! The relay itself, against scripted TCP upstreams: byte-exact copies both
//! ways, message boundaries that mean nothing, closes in both directions,
//! keepalive, idle timeout, message size limit, shutdown.

mod browser;
mod upstreams;
mod web_session;

use browser::*;
use bytes::Bytes;
use ferry_client::Transfer;
use ferry_proto::close as close_code;
use ferry_proto::{codes, Command};
use ferry_testkit::data::noise;
use ferry_testkit::{within, BridgeOptions, TestBridge};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use upstreams::upstream;
use web_session::{Messages, Raw};

/// An upstream that echoes everything and returns how many bytes it saw
/// once the bridge closes the connection.
async fn echo_upstream() -> (std::net::SocketAddr, tokio::task::JoinHandle<u64>) {
    upstream(|mut tcp: TcpStream| async move {
        let (mut rx, mut tx) = tcp.split();
        tokio::io::copy(&mut rx, &mut tx).await.unwrap_or(0)
    })
    .await
}

#[tokio::test]
async fn binary_round_trip_is_byte_exact() {
    let (server, echoed) = echo_upstream().await;
    let bridge = TestBridge::start(server).await;
    let ws = connect(&bridge.ws_url(""), None).await.unwrap();
    let (mut tx, mut rx) = ws.split();
    let payload = noise(8 << 20, 7);
    let sent = payload.clone();
    let writer = tokio::spawn(async move {
        // Messages of uneven sizes, from 1 byte to the limit (1 MiB).
        let mut at = 0;
        let mut size = 1usize;
        while at < sent.len() {
            let end = (at + size).min(sent.len());
            tx.send(Message::Binary(Bytes::copy_from_slice(&sent[at..end])))
                .await
                .unwrap();
            at = end;
            size = (size * 7 + 13) % (1 << 20) + 1;
        }
        tx
    });
    let mut received = Vec::with_capacity(payload.len());
    within(async {
        while received.len() < payload.len() {
            match rx.next().await.expect("stream open").unwrap() {
                Message::Binary(data) => received.extend_from_slice(&data),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    })
    .await;
    assert!(received == payload, "the bytes differ");
    let mut tx = writer.await.unwrap();
    tx.close().await.unwrap();
    assert_eq!(within(echoed).await.unwrap(), payload.len() as u64);
}

#[tokio::test]
async fn text_messages_are_relayed_as_their_utf8_bytes() {
    let (server, seen) = upstream(|tcp: TcpStream| async move {
        let mut line = String::new();
        BufReader::new(tcp).read_line(&mut line).await.unwrap();
        line
    })
    .await;
    let bridge = TestBridge::start(server).await;
    let mut ws = connect(&bridge.ws_url(""), None).await.unwrap();
    within(ws.send(Message::text("RETRIEVE naïve ☃.txt\r\n")))
        .await
        .unwrap();
    assert_eq!(within(seen).await.unwrap(), "RETRIEVE naïve ☃.txt\r\n");
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007_and_reaches_nothing() {
    let (server, got) = draining_upstream().await;
    let bridge = TestBridge::start(server).await;
    let mut tcp = raw_handshake(bridge.addr, "/ws").await;
    tcp.write_all(&client_frame(0x2, b"NOOP\r\n"))
        .await
        .unwrap();
    tcp.write_all(&client_frame(0x1, b"HELP \xff\r\n"))
        .await
        .unwrap();
    let (code, reason) = raw_read_close(&mut tcp).await;
    assert_eq!(code, close_code::INVALID_PAYLOAD, "{reason}");
    assert_eq!(within(got).await.unwrap(), b"NOOP\r\n");
}

#[tokio::test]
async fn replies_decode_whether_the_bridge_splits_or_merges_them() {
    let (server, script) = upstream(|tcp: TcpStream| async move {
        let (rx, mut tx) = tcp.into_split();
        let mut rx = BufReader::new(rx);
        // Greeting one byte per write: the bridge forwards pieces.
        for byte in b"220 ferry ready\r\n" {
            tx.write_all(&[*byte]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        let mut line = String::new();
        rx.read_line(&mut line).await.unwrap();
        assert_eq!(line, "LIST\r\n");
        // Reply, data and final reply in one write: the bridge forwards them together.
        tx.write_all(b"150 12 bytes\r\n226 fake\r\n\n\n226 3 entries\r\n")
            .await
            .unwrap();
        line.clear();
        rx.read_line(&mut line).await.unwrap();
        assert_eq!(line, "NOOP\r\n");
        tx.write_all(b"200 OK\r\n").await.unwrap();
    })
    .await;
    let bridge = TestBridge::start(server).await;
    let ws = connect(&bridge.ws_url(""), None).await.unwrap();
    let (mut web, received) = web_session::open(ws, Messages::Whole).await.unwrap();
    let greeting_messages = received.messages();
    assert!(
        greeting_messages > 1,
        "the greeting should have arrived in pieces"
    );
    assert_eq!(web.greeting().code, codes::READY);

    // The body is no listing: the raw exchange keeps it as it came.
    let list = web
        .run(&Raw(Command::List(None)), Transfer::None, &mut ())
        .await
        .unwrap();
    assert_eq!(
        received.messages() - greeting_messages,
        1,
        "one message held the whole answer"
    );
    assert_eq!(list.reply.code, codes::TRANSFER_COMPLETE);
    assert_eq!(list.body, b"226 fake\r\n\n\n");

    web.noop().await.unwrap(); // NOOP accepts only 200
    within(script).await.unwrap();
}

#[tokio::test]
async fn a_command_sent_one_byte_per_message_arrives_whole() {
    let (server, seen) = upstream(|tcp: TcpStream| async move {
        let (rx, mut tx) = tcp.into_split();
        tx.write_all(b"220 hi\r\n").await.unwrap();
        let mut line = Vec::new();
        BufReader::new(rx)
            .read_until(b'\n', &mut line)
            .await
            .unwrap();
        tx.write_all(b"200 OK\r\n").await.unwrap();
        line
    })
    .await;
    let bridge = TestBridge::start(server).await;
    let ws = connect(&bridge.ws_url(""), None).await.unwrap();
    let (mut web, _) = web_session::open(ws, Messages::OneByte).await.unwrap();
    assert_eq!(web.greeting().code, codes::READY);
    web.noop().await.unwrap(); // NOOP accepts only 200
    assert_eq!(within(seen).await.unwrap(), b"NOOP\r\n");
}

/// An upstream that reads until end of file and returns what it got.
async fn draining_upstream() -> (std::net::SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
    upstream(|mut tcp: TcpStream| async move {
        let mut all = Vec::new();
        let _ = tcp.read_to_end(&mut all).await;
        all
    })
    .await
}

#[tokio::test]
async fn client_close_frame_closes_the_tcp_side() {
    let (server, got) = draining_upstream().await;
    let bridge = TestBridge::start(server).await;
    let mut ws = connect(&bridge.ws_url(""), None).await.unwrap();
    send_binary(&mut ws, &b"NOOP\r\n"[..]).await;
    within(ws.close(None)).await.unwrap();
    // The server sees end of file (read_to_end returns) with the bytes intact.
    assert_eq!(within(got).await.unwrap(), b"NOOP\r\n");
}

#[tokio::test]
async fn client_vanishing_without_close_frame_closes_the_tcp_side() {
    let (server, got) = draining_upstream().await;
    let bridge = TestBridge::start(server).await;
    let mut ws = connect(&bridge.ws_url(""), None).await.unwrap();
    send_binary(&mut ws, &b"HELP\r\n"[..]).await;
    drop(ws);
    assert_eq!(within(got).await.unwrap(), b"HELP\r\n");
}

#[tokio::test]
async fn upstream_close_closes_the_websocket_with_1000_after_the_last_byte() {
    let last = noise(300_000, 3);
    let expected = last.clone();
    let (server, _script) = upstream(|mut tcp: TcpStream| async move {
        tcp.write_all(&last).await.unwrap();
        tcp.write_all(b"221 Goodbye\r\n").await.unwrap();
    })
    .await;
    let bridge = TestBridge::start(server).await;
    let mut ws = connect(&bridge.ws_url(""), None).await.unwrap();
    let mut data = Vec::new();
    let close = read_until_close(&mut ws, &mut data).await;
    assert_eq!(close.map(|c| c.0), Some(close_code::NORMAL));
    assert_eq!(data.len(), expected.len() + 13);
    assert!(data.starts_with(&expected) && data.ends_with(b"221 Goodbye\r\n"));
}

#[tokio::test]
async fn idle_relays_are_closed_and_the_tcp_side_too() {
    let (server, got) = draining_upstream().await;
    let bridge = TestBridge::start_with(
        server,
        BridgeOptions {
            idle_timeout: Some(Duration::from_millis(600)),
            ping_interval: Some(Duration::from_millis(50)),
            ..BridgeOptions::default()
        },
    )
    .await;
    let mut ws = connect(&bridge.ws_url(""), None).await.unwrap();
    let started = std::time::Instant::now();
    // Pings (answered automatically) do not count as traffic.
    let (code, reason) = raw_close_code_from(&mut ws).await;
    assert!(started.elapsed() >= Duration::from_millis(550));
    assert_eq!(
        (code, reason.as_str()),
        (close_code::GOING_AWAY, "idle timeout")
    );
    assert!(within(got).await.unwrap().is_empty());
}

/// Reads to the close frame, counting pings, and returns code and reason.
async fn raw_close_code_from(ws: &mut Client) -> (u16, String) {
    let mut pings = 0;
    let close = within(async {
        loop {
            match ws.next().await.expect("open").unwrap() {
                Message::Ping(_) => pings += 1,
                Message::Close(frame) => return frame.unwrap(),
                other => panic!("unexpected {other:?}"),
            }
        }
    })
    .await;
    assert!(pings >= 2, "keepalive pings arrive ({pings})");
    (close.code.into(), close.reason.to_string())
}

/// A bridge whose messages may be 4,096 bytes at most, to a draining upstream.
async fn bridge_taking_4096_byte_messages() -> (TestBridge, tokio::task::JoinHandle<Vec<u8>>) {
    let (server, got) = draining_upstream().await;
    let options = BridgeOptions {
        max_message_size: 4096,
        ..BridgeOptions::default()
    };
    (TestBridge::start_with(server, options).await, got)
}

#[tokio::test]
async fn messages_over_the_limit_close_with_1009_and_never_reach_the_server() {
    let (bridge, got) = bridge_taking_4096_byte_messages().await;
    let mut ws = connect(&bridge.ws_url(""), None).await.unwrap();
    send_binary(&mut ws, vec![b'x'; 4096]).await;
    send_binary(&mut ws, vec![b'y'; 4097]).await;
    let close = read_until_close(&mut ws, &mut Vec::new()).await;
    assert_eq!(close.map(|c| c.0), Some(close_code::MESSAGE_TOO_BIG));
    assert_eq!(within(got).await.unwrap(), vec![b'x'; 4096]);
}

/// A browser sends a message as one frame and answers a close only once the
/// frame is out: the bridge must read (and drop) the rest of a frame over
/// the limit after its 1009, or the client's next write meets a reset and
/// it reports 1006 without ever reading the code.
#[tokio::test]
async fn a_client_still_sending_a_message_over_the_limit_reads_the_1009_and_a_clean_end() {
    let (bridge, got) = bridge_taking_4096_byte_messages().await;
    let mut tcp = TcpStream::connect(bridge.addr).await.unwrap();
    tcp.write_all(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        within(tcp.read_exact(&mut byte)).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );

    // One binary frame of 1 MiB, masked with a zero key, sent in pieces as a
    // browser's socket would, well after the bridge has read its header.
    let len: u64 = 1 << 20;
    let mut frame_head = vec![0x82, 0x80 | 127];
    frame_head.extend_from_slice(&len.to_be_bytes());
    frame_head.extend_from_slice(&[0; 4]);
    tcp.write_all(&frame_head).await.unwrap();
    let piece = vec![b'z'; 16 * 1024];
    for _ in 0..len / piece.len() as u64 {
        tcp.write_all(&piece)
            .await
            .expect("the bridge reads the rest of the frame instead of resetting");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    let mut close = [0u8; 2];
    within(tcp.read_exact(&mut close)).await.unwrap();
    assert_eq!(close[0], 0x88, "a close frame");
    let mut payload = vec![0u8; usize::from(close[1] & 0x7f)];
    within(tcp.read_exact(&mut payload)).await.unwrap();
    assert_eq!(
        u16::from_be_bytes([payload[0], payload[1]]),
        close_code::MESSAGE_TOO_BIG
    );
    // The client's answer (code 1009, masked with a zero key), then the end.
    tcp.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xf1])
        .await
        .expect("the bridge still reads");
    let mut rest = Vec::new();
    within(tcp.read_to_end(&mut rest))
        .await
        .expect("the bridge ends the connection cleanly, not with a reset");
    assert!(rest.is_empty(), "nothing after the close frame: {rest:?}");
    assert_eq!(within(got).await.unwrap(), b"");
}

#[tokio::test]
async fn shutdown_closes_quiet_relays_with_1001_and_refuses_new_ones() {
    let (server, got) = draining_upstream().await;
    let bridge = TestBridge::start(server).await;
    let addr = bridge.addr;
    let mut ws = connect(&bridge.ws_url(""), None).await.unwrap();
    send_binary(&mut ws, &b"NOOP\r\n"[..]).await;
    let stopping = tokio::spawn(bridge.stop());
    let close = read_until_close(&mut ws, &mut Vec::new()).await;
    assert_eq!(
        close,
        Some((close_code::GOING_AWAY, "bridge shutting down".into()))
    );
    within(stopping).await.unwrap().expect("run returns Ok");
    assert_eq!(within(got).await.unwrap(), b"NOOP\r\n");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn shutdown_lets_a_busy_relay_finish_within_the_grace() {
    // The server sends 2 MiB slowly (a transfer in progress when shutdown starts).
    let (server, _script) = upstream(|mut tcp: TcpStream| async move {
        for block in 0..32u8 {
            tcp.write_all(&[block; 65536]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        tcp.write_all(b"226 Transfer complete\r\n").await.unwrap();
    })
    .await;
    let bridge = TestBridge::start_with(
        server,
        BridgeOptions {
            shutdown_quiet: Duration::from_secs(2),
            ..BridgeOptions::default()
        },
    )
    .await;
    let mut ws = connect(&bridge.ws_url(""), None).await.unwrap();
    let first = within(ws.next()).await.unwrap().unwrap();
    assert!(matches!(first, Message::Binary(_)));
    let stopping = tokio::spawn(bridge.stop());
    let mut data = first.into_data().to_vec();
    let close = read_until_close(&mut ws, &mut data).await;
    assert_eq!(data.len(), 32 * 65536 + 23, "the transfer completed");
    assert!(data.ends_with(b"226 Transfer complete\r\n"));
    assert_eq!(close.map(|c| c.0), Some(close_code::NORMAL));
    within(stopping).await.unwrap().unwrap();
}
