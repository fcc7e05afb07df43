//! Shared helpers of the bridge tests: a bridge on an ephemeral port, a
//! tokio-tungstenite client standing in for the browser, and scripted TCP
//! upstreams on 127.0.0.1.
#![allow(dead_code)]

use bytes::Bytes;
use ferry_bridge::{Bridge, BridgeConfig, HostPort, Limits};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The browser stand-in's connection.
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Upper bound for anything a test waits for; tests fail rather than hang.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A bridge running in this process.
pub struct RunningBridge {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ferry_bridge::BridgeError>>,
}

impl RunningBridge {
    /// `ws://addr/ws` plus `query` (e.g. `?target=...`).
    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/ws{query}", self.addr)
    }

    /// `http://addr` plus `path`.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Triggers shutdown and waits for `run` to return.
    pub async fn stop(mut self) -> Result<(), ferry_bridge::BridgeError> {
        let _ = self.stop.take().expect("stopped once").send(());
        within(&mut self.task).await.expect("bridge task panicked")
    }
}

/// Limits for tests: every default, but short close waits.
pub fn test_limits() -> Limits {
    Limits {
        close_timeout: Duration::from_secs(2),
        ..Limits::default()
    }
}

/// A configuration on an ephemeral port relaying to `upstream`.
pub fn config(upstream: SocketAddr) -> BridgeConfig {
    let mut config = BridgeConfig::new("127.0.0.1:0".parse().unwrap(), hostport(upstream));
    config.limits = test_limits();
    config
}

/// `addr` as an allow entry.
pub fn hostport(addr: SocketAddr) -> HostPort {
    addr.to_string().parse().unwrap()
}

/// Binds and runs a bridge in the background.
pub async fn start(config: BridgeConfig) -> RunningBridge {
    let bridge = Bridge::bind(config).await.expect("bridge binds");
    let addr = bridge.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(bridge.run(async move {
        let _ = stopped.await;
    }));
    RunningBridge {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Awaits `future` for at most [`PATIENCE`].
pub async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(PATIENCE, future)
        .await
        .expect("timed out waiting")
}

/// Opens a WebSocket to `url`, with `origin` as the `Origin` header if given.
pub async fn connect(
    url: &str,
    origin: Option<&str>,
) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    within(tokio_tungstenite::connect_async(request))
        .await
        .map(|(ws, _)| ws)
}

/// Reads until the close frame and returns its code and reason; data
/// received before it is appended to `data`.
pub async fn read_until_close(ws: &mut Client, data: &mut Vec<u8>) -> Option<(u16, String)> {
    within(async {
        while let Some(message) = ws.next().await {
            match message.expect("websocket message") {
                Message::Binary(bytes) => data.extend_from_slice(&bytes),
                Message::Close(frame) => {
                    return frame.map(|f: CloseFrame| (u16::from(f.code), f.reason.to_string()))
                }
                Message::Text(text) => panic!("the bridge sent a text message: {text}"),
                _ => {}
            }
        }
        None
    })
    .await
}

/// Sends one binary message.
pub async fn send_binary(ws: &mut Client, data: impl Into<Bytes>) {
    within(ws.send(Message::Binary(data.into())))
        .await
        .expect("send to the bridge");
}

/// A TCP listener that counts accepted connections (and closes them).
pub struct CountingListener {
    /// Its address.
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl CountingListener {
    /// Binds on 127.0.0.1:0 and starts counting.
    pub async fn start() -> CountingListener {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        CountingListener { addr, accepted }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// A one-connection upstream: hands the accepted socket to a script.
pub async fn upstream<F, Fut>(script: F) -> (SocketAddr, JoinHandle<Fut::Output>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        script(stream).await
    });
    (addr, task)
}

/// An address on which nothing listens (bound, then released).
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// Deterministic incompressible bytes (xorshift).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Opens a WebSocket by hand (upgrade request, 101 checked) and returns the socket.
pub async fn raw_handshake(addr: SocketAddr, path_and_query: &str) -> TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    within(async {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            tcp.read_exact(&mut byte).await.expect("response head");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "not upgraded: {head}");
        tcp
    })
    .await
}

/// Reads raw server frames, skipping data frames, and returns the code and
/// reason of the first close frame.
pub async fn raw_read_close(tcp: &mut TcpStream) -> (u16, String) {
    use tokio::io::AsyncReadExt;
    within(async {
        loop {
            let mut header = [0u8; 2];
            tcp.read_exact(&mut header).await.expect("frame header");
            assert_eq!(header[1] & 0x80, 0, "server frames are not masked");
            let len = match header[1] & 0x7f {
                126 => u64::from(tcp.read_u16().await.unwrap()),
                127 => tcp.read_u64().await.unwrap(),
                n => u64::from(n),
            };
            let mut payload = vec![0u8; len as usize];
            tcp.read_exact(&mut payload).await.unwrap();
            if header[0] & 0x0f == 0x8 {
                assert!(payload.len() >= 2, "close frame without a code");
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                return (code, String::from_utf8(payload[2..].to_vec()).unwrap());
            }
        }
    })
    .await
}

/// Opens a WebSocket by hand and returns the code and reason of the first
/// close frame the bridge sends, skipping data frames.
///
/// tungstenite's client rewrites close codes it does not know, 1014 among
/// them, to 1002, so close codes are checked on the raw frames.
pub async fn raw_close_code(addr: SocketAddr, path_and_query: &str) -> (u16, String) {
    let mut tcp = raw_handshake(addr, path_and_query).await;
    raw_read_close(&mut tcp).await
}

/// A masked client frame (FIN set) with `opcode` and `payload`.
pub fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mask = [0x37u8, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}
