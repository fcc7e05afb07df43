//! Who gets in before a relay exists: the header timeout (a request head
//! must be complete in time, however it trickles), the cap on request
//! heads, the cap on connections that are not relays yet, and the cap per
//! client address — each over real sockets, with a legitimate client
//! getting through while the others hold on.

mod browser;
mod web_session;

use browser::*;
use ferry_testkit::{within, BridgeOptions, TestBridge, TestServer};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use web_session::Messages;

/// The first part of an upgrade request, never finished.
const HALF_HEAD: &[u8] = b"GET /ws HTTP/1.1\r\nHost: bridge\r\nUpgrade: websocket\r\n";

const LOOPBACK: &str = "127.0.0.1";
const OTHER_LOOPBACK: &str = "127.0.0.2";

/// A TCP connection to `addr` from the loopback address `source`.
async fn connect_from(source: &str, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(source.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    within(socket.connect(addr)).await.unwrap()
}

/// A connection that sent `head` and then nothing.
async fn half_open(source: &str, addr: SocketAddr, head: &[u8]) -> TcpStream {
    let mut tcp = connect_from(source, addr).await;
    tcp.write_all(head).await.unwrap();
    tcp
}

/// Whether the bridge closed `tcp` within `wait` (end of stream or reset,
/// after whatever it sent first).
async fn closed_within(tcp: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let closed = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(wait, closed).await.is_ok()
}

/// A WebSocket to `bridge` from the loopback address `source`.
async fn ws_from(bridge: &TestBridge, source: &str) -> Result<Client, String> {
    let tcp = connect_from(source, bridge.addr).await;
    let request = bridge.ws_url("").into_client_request().unwrap();
    let plain = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
    within(tokio_tungstenite::client_async(request, plain))
        .await
        .map(|(ws, _)| ws)
        .map_err(|error| error.to_string())
}

/// Upgrades from `source`, opens a session, and checks LIST shows `name`.
async fn list_through(bridge: &TestBridge, source: &str, name: &str) {
    let ws = ws_from(bridge, source).await.expect("upgraded");
    let (mut session, _) = web_session::open(ws, Messages::Whole)
        .await
        .expect("greeted through the bridge");
    let entries = session.list(None).await.expect("LIST");
    assert!(
        entries.iter().any(|e| e.name.as_str() == name),
        "{entries:?}"
    );
}

/// Sends `HALF_HEAD`, then one header byte every `every` without ever
/// ending the head; when the bridge closes the connection (or after
/// `give_up`), how long after `start` that was.
async fn trickle(
    addr: SocketAddr,
    every: Duration,
    start: Instant,
    give_up: Duration,
) -> Option<Duration> {
    let tcp = half_open(LOOPBACK, addr, HALF_HEAD).await;
    let (mut read, mut write) = tcp.into_split();
    write.write_all(b"X-Slow: ").await.unwrap();
    let closed = async {
        let mut buf = [0u8; 256];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::pin!(closed);
    let deadline = tokio::time::sleep(give_up);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut closed => return Some(start.elapsed()),
            () = &mut deadline => return None,
            () = tokio::time::sleep(every) => {
                // The bridge may have closed already; the read side says so.
                let _ = write.write_all(b"a").await;
            }
        }
    }
}

fn options() -> BridgeOptions {
    BridgeOptions {
        max_per_address: 10_000,
        ..BridgeOptions::default()
    }
}

#[tokio::test]
async fn unfinished_heads_are_closed_after_the_header_timeout_while_a_client_gets_through() {
    let server = TestServer::start().await;
    server.put_file("notes.txt", b"hello\n");
    let timeout = Duration::from_millis(1500);
    let bridge = TestBridge::start_with(
        server.addr,
        BridgeOptions {
            header_timeout: timeout,
            ..options()
        },
    )
    .await;
    let start = Instant::now();
    let give_up = timeout + Duration::from_secs(5);
    // Half an upgrade request; nothing at all (before hyper even looks at
    // the bytes); half an HTTP/2 preface; a head that trickles in.
    let mut silent = Vec::new();
    for i in 0..120 {
        let head: &[u8] = match i % 3 {
            0 => HALF_HEAD,
            1 => b"",
            _ => b"PRI * HTTP/2.0\r\n",
        };
        silent.push(half_open(LOOPBACK, bridge.addr, head).await);
    }
    let trickling: Vec<_> = (0..30)
        .map(|_| {
            tokio::spawn(trickle(
                bridge.addr,
                Duration::from_millis(100),
                start,
                give_up,
            ))
        })
        .collect();
    // While they hold on, a legitimate client upgrades and lists, twice.
    list_through(&bridge, LOOPBACK, "notes.txt").await;
    tokio::time::sleep(timeout / 2).await;
    list_through(&bridge, LOOPBACK, "notes.txt").await;

    let closers: Vec<_> = silent
        .into_iter()
        .map(|mut tcp| {
            tokio::spawn(async move {
                closed_within(&mut tcp, give_up)
                    .await
                    .then(|| start.elapsed())
            })
        })
        .collect();
    let mut closed_at = Vec::new();
    for task in closers.into_iter().chain(trickling) {
        closed_at.push(task.await.unwrap().expect("closed by the bridge"));
    }
    let earliest = closed_at.iter().min().unwrap();
    let latest = closed_at.iter().max().unwrap();
    assert!(
        *earliest >= timeout - Duration::from_millis(100),
        "closed after {earliest:?}, before the timeout"
    );
    assert!(
        *latest <= timeout + Duration::from_secs(2),
        "the last was closed after {latest:?}"
    );
    // And the bridge still serves.
    list_through(&bridge, LOOPBACK, "notes.txt").await;
}

#[tokio::test]
async fn a_head_kept_alive_gets_the_header_timeout_again() {
    let server = TestServer::start().await;
    let timeout = Duration::from_millis(800);
    let bridge = TestBridge::start_with(
        server.addr,
        BridgeOptions {
            header_timeout: timeout,
            ..options()
        },
    )
    .await;
    let mut tcp = connect_from(LOOPBACK, bridge.addr).await;
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: bridge\r\n\r\n")
        .await
        .unwrap();
    let mut response = [0u8; 12];
    within(tcp.read_exact(&mut response)).await.unwrap();
    assert_eq!(&response, b"HTTP/1.1 200");
    // Kept alive, the next head starts and stops half-way.
    tcp.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let start = Instant::now();
    assert!(closed_within(&mut tcp, timeout + Duration::from_secs(3)).await);
    assert!(start.elapsed() >= timeout - Duration::from_millis(100));
}

#[tokio::test]
async fn an_oversized_head_gets_431_and_is_not_read_on() {
    let server = TestServer::start().await;
    let bridge = TestBridge::start_with(server.addr, options()).await;
    let tcp = connect_from(LOOPBACK, bridge.addr).await;
    let (mut read, mut write) = tcp.into_split();
    // 256 MiB of one header, were it read: far beyond any buffer the
    // bridge may keep, so the writer can only finish by being cut off.
    let writer = tokio::spawn(async move {
        write
            .write_all(b"GET / HTTP/1.1\r\nHost: bridge\r\nX-Big: ")
            .await
            .unwrap();
        let piece = vec![b'a'; 64 << 10];
        for sent in 0..4096u64 {
            if write.write_all(&piece).await.is_err() {
                return Some(sent * piece.len() as u64);
            }
        }
        None
    });
    let mut response = Vec::new();
    let _ = within(read.read_to_end(&mut response)).await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 431"), "{response:?}");
    drop(read);
    let sent = within(writer)
        .await
        .unwrap()
        .expect("the bridge stopped taking bytes");
    assert!(sent < 64 << 20, "{sent} bytes were taken");
}

#[tokio::test]
async fn past_max_pending_a_newcomer_evicts_the_oldest_unfinished_head() {
    let server = TestServer::start().await;
    server.put_file("notes.txt", b"hello\n");
    let cap = 8;
    let bridge = TestBridge::start_with(
        server.addr,
        BridgeOptions {
            max_pending: cap,
            header_timeout: Duration::from_secs(60),
            ..options()
        },
    )
    .await;
    // The cap held by unfinished heads from many addresses, so no
    // per-address cap could tell them from anyone else.
    let mut holding = Vec::new();
    for n in 0..cap {
        let source = format!("127.0.1.{}", n + 1);
        holding.push(half_open(&source, bridge.addr, HALF_HEAD).await);
        // Accept order is eviction order.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for tcp in &mut holding {
        assert!(
            !closed_within(tcp, Duration::from_millis(20)).await,
            "an admitted connection was closed"
        );
    }
    // A client gets through, long before the header timeout frees a place:
    // it takes the oldest one's place, and only that one is closed.
    list_through(&bridge, OTHER_LOOPBACK, "notes.txt").await;
    assert!(
        closed_within(&mut holding[0], Duration::from_secs(2)).await,
        "the oldest unfinished head stayed open"
    );
    for tcp in &mut holding[1..] {
        assert!(
            !closed_within(tcp, Duration::from_millis(20)).await,
            "a younger unfinished head was closed"
        );
    }
    // Its upgrade gave its place back: the first of three newcomers takes
    // that one, and the other two each evict the next oldest.
    let mut newcomers = Vec::new();
    for _ in 0..3 {
        newcomers.push(half_open(LOOPBACK, bridge.addr, HALF_HEAD).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for tcp in &mut holding[1..3] {
        assert!(
            closed_within(tcp, Duration::from_secs(2)).await,
            "an older unfinished head stayed open"
        );
    }
    for tcp in holding[3..].iter_mut().chain(&mut newcomers) {
        assert!(
            !closed_within(tcp, Duration::from_millis(20)).await,
            "a younger unfinished head was closed"
        );
    }
    drop(holding);
    drop(newcomers);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Connections past their first head are never evicted: with every
    // place held by kept-alive HTTP connections, a newcomer is refused.
    let mut kept_alive = Vec::new();
    for _ in 0..cap {
        let mut tcp = connect_from(LOOPBACK, bridge.addr).await;
        assert_eq!(get_on(&mut tcp, "/healthz").await, "HTTP/1.1 200 OK");
        kept_alive.push(tcp);
    }
    let mut extra = half_open(LOOPBACK, bridge.addr, HALF_HEAD).await;
    assert!(
        closed_within(&mut extra, Duration::from_secs(2)).await,
        "a connection got past a cap held by complete heads"
    );
    assert!(
        ws_from(&bridge, LOOPBACK).await.is_err(),
        "an upgrade got past a cap held by complete heads"
    );
    for tcp in &mut kept_alive {
        assert_eq!(get_on(tcp, "/healthz").await, "HTTP/1.1 200 OK");
    }
    drop(kept_alive);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Upgraded, a connection no longer counts: `cap` relays leave room.
    let mut relays = Vec::new();
    for _ in 0..cap {
        relays.push(ws_from(&bridge, LOOPBACK).await.expect("upgraded"));
    }
    let mut kept_alive = Vec::new();
    for _ in 0..cap {
        let mut tcp = connect_from(LOOPBACK, bridge.addr).await;
        assert_eq!(get_on(&mut tcp, "/healthz").await, "HTTP/1.1 200 OK");
        kept_alive.push(tcp);
    }
    drop(relays);
}

#[tokio::test]
async fn past_max_per_address_that_address_is_closed_and_another_gets_in() {
    let server = TestServer::start().await;
    server.put_file("notes.txt", b"hello\n");
    let bridge = TestBridge::start_with(
        server.addr,
        BridgeOptions {
            header_timeout: Duration::from_secs(60),
            ..BridgeOptions::default()
        },
    )
    .await;
    let cap = BridgeOptions::default().max_per_address;
    assert_eq!(cap, 64);
    // Half relays, half unfinished heads: both count.
    let mut relays = Vec::new();
    for _ in 0..cap / 2 {
        relays.push(ws_from(&bridge, LOOPBACK).await.expect("upgraded"));
    }
    let mut heads = Vec::new();
    for _ in cap / 2..cap {
        heads.push(half_open(LOOPBACK, bridge.addr, HALF_HEAD).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut over = half_open(LOOPBACK, bridge.addr, HALF_HEAD).await;
    assert!(
        closed_within(&mut over, Duration::from_secs(2)).await,
        "the 65th connection stayed open"
    );
    assert!(
        ws_from(&bridge, LOOPBACK).await.is_err(),
        "the 65th upgrade got in"
    );
    list_through(&bridge, OTHER_LOOPBACK, "notes.txt").await;

    // One relay fewer: the address has room again.
    drop(relays.pop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    list_through(&bridge, LOOPBACK, "notes.txt").await;
    drop(heads);
}

/// One `GET path` on a kept-alive connection; the status line.
async fn get_on(tcp: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: bridge\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    within(async {
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            tcp.read_exact(&mut byte).await.expect("response head");
            head.push(byte[0]);
        }
    })
    .await;
    let head = String::from_utf8_lossy(&head).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|n| n.trim().parse().unwrap())
        })
        .expect("a content length");
    let mut body = vec![0u8; length];
    within(tcp.read_exact(&mut body)).await.unwrap();
    head.lines().next().unwrap().to_owned()
}

#[tokio::test]
async fn a_complete_head_lifts_the_deadline_for_relays_and_static_files() {
    let server = TestServer::start().await;
    server.put_file("notes.txt", b"hello\n");
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), b"<!doctype html>").unwrap();
    let timeout = Duration::from_millis(600);
    let bridge = TestBridge::start_with(
        server.addr,
        BridgeOptions {
            header_timeout: timeout,
            static_dir: Some(dist.path().to_owned()),
            ..options()
        },
    )
    .await;
    // A relay outlives the header timeout many times over.
    let ws = ws_from(&bridge, LOOPBACK).await.expect("upgraded");
    let (mut session, _) = web_session::open(ws, Messages::Whole).await.unwrap();
    tokio::time::sleep(timeout * 3).await;
    let entries = session
        .list(None)
        .await
        .expect("LIST after the header timeout");
    assert!(entries.iter().any(|e| e.name.as_str() == "notes.txt"));
    // A static file (the fallback route) lifts the first deadline too: the
    // second request comes after it, within the kept-alive head timeout.
    let mut tcp = connect_from(LOOPBACK, bridge.addr).await;
    tokio::time::sleep(timeout * 2 / 3).await;
    assert_eq!(get_on(&mut tcp, "/index.html").await, "HTTP/1.1 200 OK");
    tokio::time::sleep(timeout * 2 / 3).await;
    assert_eq!(get_on(&mut tcp, "/index.html").await, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn a_client_that_does_not_read_a_static_file_is_closed_after_the_header_timeout() {
    let server = TestServer::start().await;
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), b"<!doctype html>").unwrap();
    let big = vec![b'w'; 64 << 20];
    std::fs::write(dist.path().join("big.wasm"), &big).unwrap();
    let timeout = Duration::from_secs(1);
    let bridge = TestBridge::start_with(
        server.addr,
        BridgeOptions {
            header_timeout: timeout,
            static_dir: Some(dist.path().to_owned()),
            ..options()
        },
    )
    .await;
    let request = b"GET /big.wasm HTTP/1.1\r\nHost: bridge\r\nAccept-Encoding: identity\r\n\r\n";
    // Read promptly, the whole file arrives, however long that takes.
    let mut reader = connect_from(LOOPBACK, bridge.addr).await;
    reader.write_all(request).await.unwrap();
    let mut received = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    within(async {
        while received < big.len() {
            let n = reader.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed after {received} bytes");
            received += n;
        }
    })
    .await;
    // Read nothing for three times the limit: the bridge gives up on the
    // response, so only what the socket buffers held ever arrives.
    let mut stalled = connect_from(LOOPBACK, bridge.addr).await;
    stalled.write_all(request).await.unwrap();
    tokio::time::sleep(timeout * 3).await;
    let mut arrived = 0usize;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => arrived += n,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the stalled response was kept open");
    assert!(
        arrived < big.len(),
        "the whole file arrived ({arrived} bytes)"
    );
    // The place it held is free again.
    let mut next = connect_from(LOOPBACK, bridge.addr).await;
    assert_eq!(get_on(&mut next, "/healthz").await, "HTTP/1.1 200 OK");
}
