//! The plain HTTP side: /healthz, the static web client (MIME types,
//! compression, cache headers) and TLS (https + wss).

mod upstreams;

use ferry_bridge::{Bridge, BridgeConfig, BridgeError, TlsFiles};
use ferry_testkit::{closed_port, within, BridgeOptions, TestBridge, TlsPaths};
use futures_util::{SinkExt, StreamExt};
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::StatusCode;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use upstreams::upstream;

const WASM_NAME: &str = "ferry-web-client-0123456789abcdef_bg.wasm";

/// A built-client look-alike: index.html, a hashed .wasm and a .js.
fn web_client_dir() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let index = format!(
        "<!DOCTYPE html><html><head><title>Ferry</title></head><body>\
         <script type=\"module\">import init from './app.js'; init('./{WASM_NAME}');</script></body></html>"
    );
    std::fs::write(dir.path().join("index.html"), index).unwrap();
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    for i in 0..20_000u32 {
        wasm.extend_from_slice(&(i % 97).to_le_bytes());
    }
    std::fs::write(dir.path().join(WASM_NAME), &wasm).unwrap();
    std::fs::write(
        dir.path().join("app.js"),
        "export default function init() {}\n".repeat(20),
    )
    .unwrap();
    (dir, wasm)
}

/// A configuration on an ephemeral port relaying to `upstream`, for the
/// tests of what `Bridge::bind` refuses.
fn config_to(upstream: std::net::SocketAddr) -> BridgeConfig {
    let upstream = upstream.to_string().parse().unwrap();
    BridgeConfig::new("127.0.0.1:0".parse().unwrap(), upstream)
}

/// A bridge serving the web client in `dir` (its upstream is down).
async fn serving(dir: &std::path::Path) -> TestBridge {
    let options = BridgeOptions {
        static_dir: Some(dir.to_owned()),
        ..BridgeOptions::default()
    };
    TestBridge::start_with(closed_port(), options).await
}

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap()
}

#[tokio::test]
async fn healthz_answers_200_with_and_without_static_files() {
    let bridge = TestBridge::start(closed_port()).await;
    let response = reqwest::get(bridge.http_url("/healthz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok\n");
    let root = reqwest::get(bridge.http_url("/")).await.unwrap();
    assert_eq!(root.status(), StatusCode::NOT_FOUND);

    let (dir, _) = web_client_dir();
    let bridge = serving(dir.path()).await;
    let response = reqwest::get(bridge.http_url("/healthz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn static_dir_serves_index_and_wasm_with_types_compression_and_cache_headers() {
    let (dir, wasm) = web_client_dir();
    let bridge = serving(dir.path()).await;
    let client = plain_client();

    let index = client.get(bridge.http_url("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert!(index.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(index.headers()[CACHE_CONTROL], "no-cache");
    assert!(index.text().await.unwrap().contains("<title>Ferry</title>"));

    let plain = client
        .get(bridge.http_url(&format!("/{WASM_NAME}")))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(plain.headers()[CONTENT_TYPE], "application/wasm");
    assert_eq!(
        plain.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(plain.bytes().await.unwrap(), wasm);

    for encoding in ["br", "gzip"] {
        let compressed = client
            .get(bridge.http_url(&format!("/{WASM_NAME}")))
            .header(ACCEPT_ENCODING, encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(compressed.headers()[CONTENT_ENCODING], encoding);
        assert_eq!(compressed.headers()[CONTENT_TYPE], "application/wasm");
        let body = compressed.bytes().await.unwrap();
        assert!(
            body.len() < wasm.len() / 4,
            "{encoding}: {} bytes",
            body.len()
        );
    }
    // A client that decompresses gets the original bytes back.
    let decoding = reqwest::Client::new();
    let body = decoding
        .get(bridge.http_url(&format!("/{WASM_NAME}")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body, wasm);

    let js = client.get(bridge.http_url("/app.js")).send().await.unwrap();
    assert!(js.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert_eq!(js.headers()[CACHE_CONTROL], "no-cache");

    let missing = client
        .get(bridge.http_url("/nope.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let escape = client
        .get(bridge.http_url("/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(escape.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_missing_static_dir_is_a_startup_error() {
    let mut config = config_to(closed_port());
    config.static_dir = Some("/nonexistent/ferry-dist".into());
    assert!(matches!(
        Bridge::bind(config).await,
        Err(BridgeError::StaticDir { .. })
    ));
}

#[tokio::test]
async fn tls_serves_https_and_wss() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();

    let (server, echoed) = upstream(|mut tcp: tokio::net::TcpStream| async move {
        tcp.write_all(b"220 over tls\r\n").await.unwrap();
        let mut got = [0u8; 6];
        tcp.read_exact(&mut got).await.unwrap();
        got
    })
    .await;
    let bridge = TestBridge::start_with(
        server,
        BridgeOptions {
            tls: Some(TlsPaths {
                cert: cert.clone(),
                key: key.clone(),
            }),
            ..BridgeOptions::default()
        },
    )
    .await;
    let port = bridge.addr.port();

    let https = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let response = https
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let (mut ws, _) = within(tokio_tungstenite::connect_async_tls_with_config(
        format!("wss://localhost:{port}/ws"),
        None,
        false,
        Some(tokio_tungstenite::Connector::Rustls(Arc::new(tls))),
    ))
    .await
    .expect("wss upgrade");
    let greeting = within(ws.next()).await.unwrap().unwrap();
    assert_eq!(greeting, Message::binary(&b"220 over tls\r\n"[..]));
    ws.send(Message::binary(&b"QUIT\r\n"[..])).await.unwrap();
    assert_eq!(&within(echoed).await.unwrap(), b"QUIT\r\n");

    // Plain HTTP on the TLS port does not get through.
    assert!(reqwest::get(bridge.http_url("/healthz")).await.is_err());

    // A key given as the certificate is a startup error, not a panic.
    let mut wrong = config_to(server);
    wrong.tls = Some(TlsFiles {
        cert: key.clone(),
        key,
    });
    assert!(matches!(
        Bridge::bind(wrong).await,
        Err(BridgeError::Tls(_))
    ));
}
