//! Idle timeout, connection limit and graceful shutdown.

mod raw_client;

use ferry_testkit::{ServerOptions, TestServer};
use raw_client::Client;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn a_silent_connection_gets_421_idle_timeout() {
    let server = TestServer::start_with(ServerOptions {
        idle_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    })
    .await;
    let mut client = Client::connect(server.addr).await;
    // Activity resets the timer.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(client.command("NOOP").await.code, 200);
    }
    let started = Instant::now();
    let reply = client.reply().await;
    assert_eq!((reply.code, reply.text.as_str()), (421, "Idle timeout"));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(800),
        "timed out after {waited:?}"
    );
    client.expect_closed().await;
    // A partial command line is silence too.
    let mut client = Client::connect(server.addr).await;
    client.send_raw(b"NOO").await;
    assert_eq!(client.reply().await.code, 421);
    client.expect_closed().await;
}

#[tokio::test]
async fn a_line_that_trickles_in_gets_421_line_timeout() {
    let server = TestServer::start_with(ServerOptions {
        line_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    })
    .await;
    // A byte every 300 ms resets the idle timeout (300 s) each time; the
    // line timeout counts from the line's first byte regardless.
    let mut client = Client::connect(server.addr).await;
    let started = Instant::now();
    let mut answered = None;
    for byte in b"NOOP NOOP NOOP NOOP NOOP".iter().take(20) {
        client.send_raw(&[*byte]).await;
        if let Ok(reply) =
            tokio::time::timeout(Duration::from_millis(300), client.try_reply()).await
        {
            answered = reply;
            break;
        }
    }
    let waited = started.elapsed();
    let reply = answered.expect("the trickling line was never cut off");
    assert_eq!((reply.code, reply.text.as_str()), (421, "Line timeout"));
    assert!(
        (Duration::from_millis(900)..Duration::from_millis(2500)).contains(&waited),
        "cut off after {waited:?}"
    );
    client.expect_closed().await;

    // The clock starts at a line's first byte, not at the greeting or the
    // last reply, and a line split over a pause within it is served.
    let mut client = Client::connect(server.addr).await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(client.command("NOOP").await.code, 200);
    for _ in 0..3 {
        client.send_raw(b"NO").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        client.send_raw(b"OP\r\n").await;
        assert_eq!(client.reply().await.code, 200);
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_a_download_is_dropped() {
    let server = TestServer::start_with(ServerOptions {
        idle_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    })
    .await;
    let big = vec![7u8; 64 << 20];
    std::fs::write(server.path("big"), &big).unwrap();
    let mut client = Client::connect(server.addr).await;
    let start = client.command("RETRIEVE big").await;
    assert_eq!(start.data_len(), Some(big.len() as u64));
    // Read nothing for a while: the socket buffers fill and the server waits.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut received = 0u64;
    let mut buffer = vec![0; 1 << 20];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), client.stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received += n as u64,
            Err(_) => panic!("the server kept the stalled download open"),
        }
    }
    assert!(
        received < big.len() as u64,
        "the whole file arrived ({received} bytes)"
    );
}

#[tokio::test]
async fn past_max_per_address_that_address_gets_421_and_another_gets_in() {
    raw_client::raise_open_file_limit();
    let cap = ferry_server::DEFAULT_MAX_PER_ADDRESS;
    assert_eq!(cap, 64);
    let server = TestServer::start_with(ServerOptions {
        max_per_address: cap,
        ..ServerOptions::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..cap {
        held.push(Client::connect(server.addr).await);
    }
    let mut over = Client::connect_raw(server.addr).await;
    let reply = over.reply().await;
    assert_eq!(
        (reply.code, reply.text.as_str()),
        (421, "Too many connections from your address")
    );
    over.expect_closed().await;
    // Another loopback address is another client.
    let mut other = Client::connect_raw_from("127.0.0.2:0", server.addr).await;
    assert_eq!(other.reply().await.code, 220);
    assert_eq!(other.command("NOOP").await.code, 200);
    // Those inside keep working, and a freed place is taken again.
    assert_eq!(held[0].command("NOOP").await.code, 200);
    assert_eq!(held.pop().unwrap().command("QUIT").await.code, 221);
    let mut admitted = None;
    for _ in 0..100 {
        let mut next = Client::connect_raw(server.addr).await;
        let reply = next.reply().await;
        if reply.code == 220 {
            admitted = Some(next);
            break;
        }
        assert_eq!(reply.code, 421, "{reply}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut admitted = admitted.expect("the freed place was never reused");
    assert_eq!(admitted.command("NOOP").await.code, 200);
}

#[tokio::test]
async fn connections_over_the_limit_get_421_and_are_closed() {
    let server = TestServer::start_with(ServerOptions {
        max_connections: 2,
        ..ServerOptions::default()
    })
    .await;
    let mut first = Client::connect(server.addr).await;
    let second = Client::connect(server.addr).await;
    let mut third = Client::connect_raw(server.addr).await;
    let reply = third.reply().await;
    assert_eq!(
        (reply.code, reply.text.as_str()),
        (421, "Too many connections")
    );
    third.expect_closed().await;
    // The ones inside keep working.
    assert_eq!(first.command("NOOP").await.code, 200);
    // A slot freed by QUIT can be used again.
    drop(second);
    let mut admitted = None;
    for _ in 0..100 {
        let mut next = Client::connect_raw(server.addr).await;
        let reply = next.reply().await;
        if reply.code == 220 {
            admitted = Some(next);
            break;
        }
        assert_eq!(reply.code, 421);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut admitted = admitted.expect("the freed slot was never reused");
    assert_eq!(admitted.command("NOOP").await.code, 200);
}

#[tokio::test]
async fn shutdown_lets_a_download_in_flight_finish() {
    let mut server = TestServer::start().await;
    let content: Vec<u8> = (0..16 << 20).map(|i| (i % 253) as u8).collect();
    std::fs::write(server.path("big"), &content).unwrap();
    let mut downloader = Client::connect(server.addr).await;
    let mut idle = Client::connect(server.addr).await;
    let start = downloader.command("RETRIEVE big").await;
    assert_eq!(start.data_len(), Some(content.len() as u64));
    let mut received = downloader.data(4096).await;
    let mut uploader = Client::connect(server.addr).await;
    assert_eq!(uploader.command("STORE 6 late.txt").await.code, 150);
    uploader.send_raw(b"lat").await;

    let stopped = server.begin_shutdown();
    // The idle connection is told and closed.
    let reply = idle.reply().await;
    assert_eq!(
        (reply.code, reply.text.as_str()),
        (421, "Server shutting down")
    );
    idle.expect_closed().await;
    // No new connections.
    assert!(
        tokio::net::TcpStream::connect(server.addr).await.is_err() || {
            let mut late = Client::connect_raw(server.addr).await;
            late.try_reply().await.is_none()
        }
    );
    // The upload in flight completes and is stored.
    uploader.send_raw(b"e!\n").await;
    assert_eq!(uploader.reply().await.text, "Stored 6 bytes");
    assert_eq!(uploader.reply().await.code, 421);
    assert_eq!(std::fs::read(server.path("late.txt")).unwrap(), b"late!\n");
    // The download completes, then the server says goodbye with 421.
    received.extend(downloader.data(content.len() as u64 - 4096).await);
    assert!(received == content, "download corrupted");
    assert_eq!(downloader.reply().await.code, 226);
    assert_eq!(downloader.reply().await.code, 421);
    downloader.expect_closed().await;
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("the server did not stop")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_grace_bounds_a_stuck_transfer() {
    let mut server = TestServer::start_with(ServerOptions {
        shutdown_grace: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(60),
        ..ServerOptions::default()
    })
    .await;
    std::fs::write(server.path("big"), vec![1u8; 64 << 20]).unwrap();
    let mut stuck = Client::connect(server.addr).await;
    assert_eq!(stuck.command("RETRIEVE big").await.code, 150);
    // An upload in progress is dropped too, and its temporary file removed.
    let mut uploader = Client::connect(server.addr).await;
    assert_eq!(uploader.command("STORE 1000000 partial").await.code, 150);
    uploader.send_raw(&[0; 1000]).await;
    let started = Instant::now();
    let stopped = server.begin_shutdown();
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("the server did not stop after the grace period")
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "stopped after {took:?}");
    server.wait_no_temp_files().await;
    assert!(!server.path("partial").exists());
}
