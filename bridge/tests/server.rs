//! Every command of the protocol through the bridge, against the real
//! ferry-server, driven by ferry-proto's `ClientCodec` as the web client does.

mod common;

use common::*;
use ferry_proto::close as close_code;
use ferry_proto::{codes, parse_listing, ClientCodec, Command, Event, Name, Reply};
use ferry_server::{Config, Server};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use tokio_tungstenite::tungstenite::Message;

/// What the server said, with data copied out.
#[derive(Debug, Default)]
struct Answer {
    /// Every reply, in order (150 included).
    replies: Vec<Reply>,
    /// The data bytes after `150` (LIST, RETRIEVE).
    data: Vec<u8>,
}

impl Answer {
    fn codes(&self) -> Vec<u16> {
        self.replies.iter().map(|r| r.code).collect()
    }
}

/// A browser stand-in: a WebSocket to the bridge plus the protocol codec.
struct WebSession {
    ws: Client,
    codec: ClientCodec,
    /// Received bytes not yet decoded.
    pending: Vec<u8>,
}

impl WebSession {
    async fn open(bridge: &RunningBridge) -> (WebSession, Reply) {
        let ws = connect(&bridge.ws_url(""), Some(&bridge.http_url("")))
            .await
            .unwrap();
        let mut session = WebSession {
            ws,
            codec: ClientCodec::new(),
            pending: Vec::new(),
        };
        let mut answer = Answer::default();
        session.until_idle(&mut answer, &[]).await;
        (session, answer.replies.remove(0))
    }

    /// Sends `command` and collects the answer; STORE data is `upload`,
    /// sent in messages of varied sizes.
    async fn run(&mut self, command: &Command, upload: &[u8]) -> Answer {
        let wire = self.codec.send(command).unwrap();
        send_binary(&mut self.ws, wire).await;
        let mut answer = Answer::default();
        self.until_idle(&mut answer, upload).await;
        answer
    }

    async fn until_idle(&mut self, answer: &mut Answer, upload: &[u8]) {
        loop {
            while !self.pending.is_empty() {
                let (n, event) = self
                    .codec
                    .decode(&self.pending)
                    .expect("valid server bytes");
                let mut store = false;
                match event {
                    None => {}
                    Some(Event::Greeting(reply) | Event::Reply(reply)) => {
                        answer.replies.push(reply)
                    }
                    Some(Event::DataStart { reply, .. }) => answer.replies.push(reply),
                    Some(Event::Data(bytes)) => answer.data.extend_from_slice(bytes),
                    Some(Event::SendData { reply, size }) => {
                        assert_eq!(size, upload.len() as u64);
                        answer.replies.push(reply);
                        store = true;
                    }
                }
                self.pending.drain(..n);
                if store {
                    self.upload(upload).await;
                }
            }
            if self.codec.is_idle() || self.codec.is_closed() {
                return;
            }
            match within(self.ws.next())
                .await
                .expect("websocket open")
                .unwrap()
            {
                Message::Binary(bytes) => self.pending.extend_from_slice(&bytes),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected message {other:?}"),
            }
        }
    }

    async fn upload(&mut self, data: &[u8]) {
        let mut at = 0;
        let mut size = 1;
        while at < data.len() {
            let end = (at + size).min(data.len());
            send_binary(&mut self.ws, data[at..end].to_vec()).await;
            at = end;
            size = size * 3 + 1;
        }
    }
}

async fn start_server(root: &std::path::Path) -> SocketAddr {
    let server = Server::bind(Config::new(root), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.run(std::future::pending()));
    addr
}

fn name(text: &str) -> Name {
    Name::new(text).unwrap()
}

#[tokio::test]
async fn every_command_through_the_bridge() {
    let root = tempfile::tempdir().unwrap();
    let content = noise(300_000, 11);
    std::fs::write(root.path().join("photo.bin"), &content).unwrap();
    std::fs::write(root.path().join("notes.txt"), b"hello\n").unwrap();
    let server = start_server(root.path()).await;
    let bridge = start(config(server)).await;
    let (mut web, greeting) = WebSession::open(&bridge).await;
    assert_eq!(greeting.code, codes::READY);

    let help = web.run(&Command::Help, &[]).await;
    assert_eq!(help.codes(), [214]);
    for verb in [
        "LIST", "RETRIEVE", "STORE", "DELETE", "HASH", "NOOP", "HELP", "QUIT",
    ] {
        assert!(help.replies[0].text.contains(verb), "HELP lists {verb}");
    }
    assert_eq!(web.run(&Command::Noop, &[]).await.codes(), [200]);

    let list = web.run(&Command::List, &[]).await;
    assert_eq!(list.codes(), [150, 226]);
    let entries = parse_listing(&list.data).unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert!(
        names.contains(&"photo.bin") && names.contains(&"notes.txt"),
        "{names:?}"
    );

    let retrieved = web.run(&Command::Retrieve(name("photo.bin")), &[]).await;
    assert_eq!(retrieved.codes(), [150, 226]);
    assert!(
        retrieved.data == content,
        "RETRIEVE through the bridge is byte-exact"
    );

    let upload = noise(200_000, 12);
    let stored = web
        .run(
            &Command::Store {
                size: upload.len() as u64,
                name: name("upload.bin"),
            },
            &upload,
        )
        .await;
    assert_eq!(stored.codes(), [150, 226]);
    assert_eq!(
        std::fs::read(root.path().join("upload.bin")).unwrap(),
        upload
    );

    let hash = web.run(&Command::Hash(name("upload.bin")), &[]).await;
    assert_eq!(hash.codes(), [213]);
    let expected = hex::encode(Sha256::digest(&upload));
    assert!(
        hash.replies[0].text.ends_with(&expected),
        "{}",
        hash.replies[0].text
    );

    let back = web.run(&Command::Retrieve(name("upload.bin")), &[]).await;
    assert!(back.data == upload);

    let empty = web
        .run(
            &Command::Store {
                size: 0,
                name: name("empty"),
            },
            &[],
        )
        .await;
    assert_eq!(empty.codes(), [150, 226]);

    assert_eq!(
        web.run(&Command::Delete(name("upload.bin")), &[])
            .await
            .codes(),
        [250]
    );
    assert_eq!(
        web.run(&Command::Retrieve(name("upload.bin")), &[])
            .await
            .codes(),
        [550]
    );
    assert_eq!(
        web.run(&Command::Hash(name("nothing")), &[]).await.codes(),
        [550]
    );

    // Lines the codec would not produce, sent raw while idle.
    for (line, code) in [
        (&b"BOGUS\r\n"[..], 502),
        (b"RETRIEVE ../etc/passwd\r\n", 553),
        (b"STORE lots x\r\n", 501),
    ] {
        send_binary(&mut web.ws, line.to_vec()).await;
        let mut answer = Answer::default();
        while answer.replies.is_empty() {
            if let Message::Binary(bytes) = within(web.ws.next()).await.unwrap().unwrap() {
                web.pending.extend_from_slice(&bytes);
            }
            web.until_idle(&mut answer, &[]).await;
        }
        assert_eq!(answer.codes(), [code], "{}", String::from_utf8_lossy(line));
    }

    let quit = web.run(&Command::Quit, &[]).await;
    assert_eq!(quit.codes(), [221]);
    let close = read_until_close(&mut web.ws, &mut Vec::new()).await;
    assert_eq!(
        close.map(|c| c.0),
        Some(close_code::NORMAL),
        "QUIT closes the WebSocket with 1000"
    );
}

#[tokio::test]
async fn commands_sent_one_byte_per_message_work_with_the_real_server() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("a.txt"), b"abc").unwrap();
    let server = start_server(root.path()).await;
    let bridge = start(config(server)).await;
    let (mut web, _) = WebSession::open(&bridge).await;
    let wire = web.codec.send(&Command::Retrieve(name("a.txt"))).unwrap();
    for byte in wire {
        send_binary(&mut web.ws, vec![byte]).await;
    }
    let mut answer = Answer::default();
    web.until_idle(&mut answer, &[]).await;
    assert_eq!(answer.codes(), [150, 226]);
    assert_eq!(answer.data, b"abc");
}

#[tokio::test]
async fn leaving_mid_session_frees_the_server_connection() {
    // A server that takes two connections at most: if relays that ended kept
    // their TCP connections, the third session would get 421.
    let root = tempfile::tempdir().unwrap();
    let mut limited = Config::new(root.path());
    limited.max_connections = 2;
    let server = Server::bind(limited, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let server_addr = server.local_addr();
    tokio::spawn(server.run(std::future::pending()));
    let bridge = start(config(server_addr)).await;
    for _ in 0..6 {
        let (mut web, greeting) = WebSession::open(&bridge).await;
        assert_eq!(greeting.code, codes::READY, "a slot was free: {greeting}");
        assert_eq!(web.run(&Command::Noop, &[]).await.codes(), [200]);
        web.ws.close(None).await.unwrap();
        let _ = read_until_close(&mut web.ws, &mut Vec::new()).await;
        // The bridge has closed the TCP side by now; give the server a moment to see it.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
