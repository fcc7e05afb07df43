//! Every command of the protocol through the bridge, against the real
//! ferry-server, driven by ferry-client's `Session` (the one driving loop
//! every client shares) over the test's WebSocket.

mod browser;
mod web_session;

use browser::*;
use ferry_client::{ClientError, Session, Transfer};
use ferry_proto::close as close_code;
use ferry_proto::{codes, Command, Path, Reply};
use ferry_testkit::data::noise;
use ferry_testkit::{within, ServerOptions, TestBridge, TestServer};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::Message;
use web_session::{Messages, Raw, Received, WebSocket};

/// A greeted session through `bridge`, opened with the page's origin.
async fn open(bridge: &TestBridge, messages: Messages) -> (Session<WebSocket>, Received) {
    let ws = connect(&bridge.ws_url(""), Some(&bridge.http_url("")))
        .await
        .unwrap();
    web_session::open(ws, messages)
        .await
        .expect("greeted through the bridge")
}

/// The reply code of the refusal `result` ended in.
fn refused<T: std::fmt::Debug>(result: Result<T, ClientError>) -> u16 {
    match result {
        Err(ClientError::Refused { refusal, .. }) => refusal.reply.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The next reply line on a WebSocket driven by hand.
async fn reply_line(ws: &mut Client) -> Reply {
    let mut line = Vec::new();
    while !line.ends_with(b"\n") {
        if let Message::Binary(bytes) = within(ws.next()).await.unwrap().unwrap() {
            line.extend_from_slice(&bytes);
        }
    }
    Reply::parse(line.trim_ascii_end()).unwrap()
}

fn name(text: &str) -> Path {
    Path::new(text).unwrap()
}

#[tokio::test]
async fn every_command_through_the_bridge() {
    let server = TestServer::start().await;
    let content = noise(300_000, 11);
    server.put_file("photo.bin", &content);
    server.put_file("notes.txt", b"hello\n");
    let bridge = TestBridge::start(server.addr).await;
    // Every write (commands and upload data) goes in messages of varied sizes.
    let (mut web, _) = open(&bridge, Messages::Growing).await;
    assert_eq!(web.greeting().code, codes::READY);

    // Each typed exchange accepts only its one success code (214, 200, 226,
    // 213, 250), so an Ok below asserts the code.
    let help = web.help().await.unwrap();
    for verb in [
        "LIST", "RETRIEVE", "STORE", "DELETE", "HASH", "NOOP", "HELP", "QUIT",
    ] {
        assert!(help.contains(verb), "HELP lists {verb}");
    }
    web.noop().await.unwrap();

    let entries = web.list(None).await.unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert!(
        names.contains(&"photo.bin") && names.contains(&"notes.txt"),
        "{names:?}"
    );

    let mut retrieved = Vec::new();
    let len = web
        .retrieve(&name("photo.bin"), &mut retrieved, &mut ())
        .await
        .unwrap();
    assert_eq!(len, content.len() as u64);
    assert!(
        retrieved == content,
        "RETRIEVE through the bridge is byte-exact"
    );

    let upload = noise(200_000, 12);
    let size = upload.len() as u64;
    web.store(&name("upload.bin"), size, &mut &upload[..], &mut ())
        .await
        .unwrap();
    assert_eq!(std::fs::read(server.path("upload.bin")).unwrap(), upload);

    let hash = web.hash(&name("upload.bin")).await.unwrap();
    assert_eq!(hash, hex::encode(Sha256::digest(&upload)));

    let mut back = Vec::new();
    web.retrieve(&name("upload.bin"), &mut back, &mut ())
        .await
        .unwrap();
    assert!(back == upload);

    web.store(&name("empty"), 0, &mut &b""[..], &mut ())
        .await
        .unwrap();
    assert_eq!(std::fs::read(server.path("empty")).unwrap(), b"");

    web.delete(&name("upload.bin")).await.unwrap();
    let gone = web
        .retrieve(&name("upload.bin"), &mut Vec::new(), &mut ())
        .await;
    assert_eq!(refused(gone), 550);
    assert_eq!(refused(web.hash(&name("nothing")).await), 550);

    // Lines no client would send, raw on a WebSocket of their own.
    let mut raw = connect(&bridge.ws_url(""), Some(&bridge.http_url("")))
        .await
        .unwrap();
    assert_eq!(reply_line(&mut raw).await.code, codes::READY);
    for (line, code) in [
        (&b"BOGUS\r\n"[..], 502),
        (b"RETRIEVE ../etc/passwd\r\n", 553),
        (b"STORE lots x\r\n", 501),
    ] {
        send_binary(&mut raw, line.to_vec()).await;
        let reply = reply_line(&mut raw).await;
        assert_eq!(reply.code, code, "{}", String::from_utf8_lossy(line));
    }

    let quit = web
        .run(&Raw(Command::Quit), Transfer::None, &mut ())
        .await
        .unwrap();
    assert_eq!(quit.reply.code, 221);
    let close = web.into_transport().closed_by_bridge().await;
    assert_eq!(
        close.map(|c| c.0),
        Some(close_code::NORMAL),
        "QUIT closes the WebSocket with 1000"
    );
}

#[tokio::test]
async fn commands_sent_one_byte_per_message_work_with_the_real_server() {
    let server = TestServer::start().await;
    server.put_file("a.txt", b"abc");
    let bridge = TestBridge::start(server.addr).await;
    let (mut web, _) = open(&bridge, Messages::OneByte).await;
    let mut data = Vec::new();
    web.retrieve(&name("a.txt"), &mut data, &mut ())
        .await
        .unwrap();
    assert_eq!(data, b"abc");
}

#[tokio::test]
async fn leaving_mid_session_frees_the_server_connection() {
    // A server that takes two connections at most: if relays that ended kept
    // their TCP connections, the third session would get 421.
    let server = TestServer::start_with(ServerOptions {
        max_connections: 2,
        ..ServerOptions::default()
    })
    .await;
    let bridge = TestBridge::start(server.addr).await;
    for _ in 0..6 {
        let ws = connect(&bridge.ws_url(""), Some(&bridge.http_url("")))
            .await
            .unwrap();
        let opened = web_session::open(ws, Messages::Whole).await;
        let (mut web, _) = opened.unwrap_or_else(|error| panic!("a slot was free: {error}"));
        assert_eq!(web.greeting().code, codes::READY);
        web.noop().await.unwrap();
        web.into_transport().leave().await;
        // The bridge has closed the TCP side by now; give the server a moment to see it.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
