//! The browser stand-in of the bridge tests: a tokio-tungstenite client,
//! and hand-made frames where tungstenite would hide what the bridge sent.

#![allow(dead_code)]

use bytes::Bytes;
use ferry_testkit::within;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The browser stand-in's connection.
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

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

/// Reads one raw server frame: its first header byte (FIN, reserved bits,
/// opcode) and its payload.
pub async fn raw_read_frame(tcp: &mut TcpStream) -> (u8, Vec<u8>) {
    use tokio::io::AsyncReadExt;
    within(async {
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
        (header[0], payload)
    })
    .await
}

/// Reads raw server frames, skipping data frames, and returns the code and
/// reason of the first close frame.
pub async fn raw_read_close(tcp: &mut TcpStream) -> (u16, String) {
    within(async {
        loop {
            let (first, payload) = raw_read_frame(tcp).await;
            if first & 0x0f == 0x8 {
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
