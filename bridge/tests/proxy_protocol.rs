//! `--proxy-protocol` in front of a server's proxy listener: a whole session
//! relayed (greeting, LIST, a RETRIEVE large enough for the spliced download
//! path, QUIT), and the server logs the browser's address — the WebSocket
//! client's own socket, bound to 127.0.0.3 here — not the bridge's.
//! Alone in its test binary: it installs the process's log subscriber.

mod browser;

use browser::{send_binary, Client};
use ferry_testkit::data::noise;
use ferry_testkit::{within, BridgeOptions, ProxyOptions, ServerOptions, TestBridge, TestServer};
use futures_util::StreamExt;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

/// Everything logged in this process (the server's and the bridge's lines).
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn capture() -> Log {
        let log = Log::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .init();
        log
    }

    /// The first line with every one of `parts`, waiting for it a while.
    async fn line_with(&self, parts: &[&str]) -> String {
        for _ in 0..200 {
            let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
            if let Some(line) = text
                .lines()
                .find(|line| parts.iter().all(|part| line.contains(part)))
            {
                return line.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        panic!("no log line with {parts:?} in:\n{text}");
    }
}

/// The bytes the bridge relays, read by hand: reply lines and counted data.
struct Wire {
    ws: Client,
    pending: Vec<u8>,
}

impl Wire {
    async fn more(&mut self) {
        loop {
            match within(self.ws.next())
                .await
                .expect("the relay ended")
                .unwrap()
            {
                Message::Binary(bytes) => {
                    self.pending.extend_from_slice(&bytes);
                    return;
                }
                Message::Close(frame) => panic!("closed early: {frame:?}"),
                _ => {}
            }
        }
    }

    async fn reply(&mut self) -> String {
        loop {
            if let Some(end) = self.pending.windows(2).position(|pair| pair == b"\r\n") {
                let line: Vec<u8> = self.pending.drain(..end + 2).collect();
                return String::from_utf8(line[..end].to_vec()).unwrap();
            }
            self.more().await;
        }
    }

    async fn data(&mut self, n: usize) -> Vec<u8> {
        while self.pending.len() < n {
            self.more().await;
        }
        self.pending.drain(..n).collect()
    }

    /// Sends `command`, expects `150 <n> bytes`, the n bytes and a `226`.
    async fn download(&mut self, command: &str) -> Vec<u8> {
        send_binary(&mut self.ws, format!("{command}\r\n").into_bytes()).await;
        let start = self.reply().await;
        assert!(start.starts_with("150 "), "{command}: {start}");
        let n: usize = start.split_whitespace().nth(1).unwrap().parse().unwrap();
        let data = self.data(n).await;
        let done = self.reply().await;
        assert!(done.starts_with("226 "), "{command}: {done}");
        data
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_through_the_bridge_is_the_browsers_on_the_server() {
    let log = Log::capture();
    let server = TestServer::start_with(ServerOptions {
        proxy: Some(ProxyOptions::default()),
        ..ServerOptions::default()
    })
    .await;
    let content = noise(8 << 20, 5);
    server.put_file("big.bin", &content);
    let bridge = TestBridge::start_with(
        server.proxy_addr.unwrap(),
        BridgeOptions {
            proxy_protocol: true,
            ..BridgeOptions::default()
        },
    )
    .await;

    // The browser, from an address of its own.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.3:0".parse().unwrap()).unwrap();
    let tcp = within(socket.connect(bridge.addr)).await.unwrap();
    let browser = tcp.local_addr().unwrap();
    let (ws, _) = within(tokio_tungstenite::client_async(
        bridge.ws_url(""),
        MaybeTlsStream::Plain(tcp),
    ))
    .await
    .unwrap();
    let mut wire = Wire {
        ws,
        pending: Vec::new(),
    };

    let greeting = wire.reply().await;
    assert!(greeting.starts_with("220 "), "{greeting}");
    let listing = String::from_utf8(wire.download("LIST").await).unwrap();
    assert!(listing.contains("big.bin"), "{listing}");
    let retrieved = wire.download("RETRIEVE big.bin").await;
    assert!(
        retrieved == content,
        "RETRIEVE through the bridge is not byte-exact"
    );
    send_binary(&mut wire.ws, b"QUIT\r\n".to_vec()).await;
    let bye = wire.reply().await;
    assert!(bye.starts_with("221"), "{bye}");

    let peer = format!("peer={browser}");
    let command = log.line_with(&[&peer, "command=RETRIEVE"]).await;
    assert!(command.contains("code=226"), "{command}");
    let connection = log
        .line_with(&[&peer, "via=127.0.0.1:", " connection"])
        .await;
    assert!(connection.contains("bytes_out="), "{connection}");
}
