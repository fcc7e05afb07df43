//! Who may connect and where to: Origin (403), target allowlist (1008, with
//! no TCP connection attempted), unreachable upstream (1014), relay cap (503),
//! and no permessage-deflate.

mod browser;
mod upstreams;

use browser::*;
use ferry_bridge::OriginPolicy;
use ferry_proto::close as close_code;
use ferry_testkit::{closed_port, within, BridgeOptions, TestBridge};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::Error as WsError;
use upstreams::{upstream, CountingListener};

fn http_status(result: Result<Client, WsError>) -> StatusCode {
    match result {
        Err(WsError::Http(response)) => response.status(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, the upgrade succeeded"),
    }
}

#[tokio::test]
async fn foreign_origin_gets_403_before_upgrade_and_no_upstream_connection() {
    let server = CountingListener::start().await;
    let bridge = TestBridge::start(server.addr).await;
    for origin in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        let status = http_status(connect(&bridge.ws_url(""), Some(origin)).await);
        assert_eq!(status, StatusCode::FORBIDDEN, "origin {origin}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.accepted(), 0);
}

#[tokio::test]
async fn own_origin_trunk_origin_and_no_origin_are_allowed() {
    let server = CountingListener::start().await;
    let bridge = TestBridge::start(server.addr).await;
    let port = bridge.addr.port();
    let own = format!("http://127.0.0.1:{port}");
    let own_localhost = format!("http://localhost:{port}");
    let origins = [
        Some(own.as_str()),
        Some(own_localhost.as_str()),
        Some("http://localhost:8081"),
        Some("http://127.0.0.1:8081"),
        None,
    ];
    for origin in origins {
        let mut ws = connect(&bridge.ws_url(""), origin)
            .await
            .expect("upgrade allowed");
        // The counting listener accepts and closes at once: upstream closed.
        let close = read_until_close(&mut ws, &mut Vec::new()).await;
        assert_eq!(
            close.map(|c| c.0),
            Some(close_code::NORMAL),
            "origin {origin:?}"
        );
    }
    assert_eq!(server.accepted(), origins.len());
}

#[tokio::test]
async fn explicit_origin_list_replaces_the_defaults() {
    let server = CountingListener::start().await;
    let bridge = TestBridge::start_with(
        server.addr,
        BridgeOptions {
            allow_origins: Some(vec!["https://ferry.example.com".into()]),
            ..BridgeOptions::default()
        },
    )
    .await;
    connect(&bridge.ws_url(""), Some("https://ferry.example.com"))
        .await
        .expect("listed origin allowed");
    let status = http_status(connect(&bridge.ws_url(""), Some("http://localhost:8081")).await);
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(OriginPolicy::defaults_for(bridge.addr).allows("http://localhost:8081"));
}

#[tokio::test]
async fn target_not_allowed_gets_1008_and_no_connection_is_attempted() {
    let upstream = CountingListener::start().await;
    let forbidden = CountingListener::start().await;
    let bridge = TestBridge::start(upstream.addr).await;
    let targets = [
        forbidden.addr.to_string(),
        // The same listener, spelled as a name that resolves to it.
        format!("localhost:{}", forbidden.addr.port()),
        // The upstream's port under another name.
        format!("localhost:{}", upstream.addr.port()),
        "10.0.0.1:22".to_string(),
        "no-port".to_string(),
    ];
    for target in &targets {
        let mut ws = connect(&bridge.ws_url(&format!("?target={target}")), None)
            .await
            .expect("the upgrade completes before the refusal");
        let mut data = Vec::new();
        let (code, reason) = read_until_close(&mut ws, &mut data)
            .await
            .expect("close frame");
        assert_eq!(code, close_code::POLICY_VIOLATION, "target {target}");
        assert!(
            reason.contains(target.as_str()),
            "reason {reason:?} names {target}"
        );
        assert!(data.is_empty());
    }
    // Tricky spellings of the forbidden target, or of the upstream plus a second target.
    let tricky = [
        format!("?target={}&target={}", upstream.addr, forbidden.addr),
        format!("?target={}%00", forbidden.addr),
        format!("?target={}.:{}", forbidden.addr.ip(), forbidden.addr.port()),
        format!("?target=%20{}", forbidden.addr),
        format!("?target=http://{}", forbidden.addr),
    ];
    for query in &tricky {
        let mut ws = connect(&bridge.ws_url(query), None).await.unwrap();
        let close = read_until_close(&mut ws, &mut Vec::new()).await;
        assert_eq!(
            close.map(|c| c.0),
            Some(close_code::POLICY_VIOLATION),
            "{query}"
        );
    }
    let (code, reason) = read_until_close(
        &mut connect(&bridge.ws_url("?target=10.0.0.1:22"), None)
            .await
            .unwrap(),
        &mut Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        (code, reason.as_str()),
        (1008, "target 10.0.0.1:22 is not allowed")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        forbidden.accepted(),
        0,
        "no byte may reach a target that is not allowed"
    );
    assert_eq!(upstream.accepted(), 0);
}

#[tokio::test]
async fn allowed_extra_target_is_relayed_to() {
    let upstream = CountingListener::start().await;
    let (extra, script) = upstream_script_hello().await;
    let bridge = TestBridge::start_with(
        upstream.addr,
        BridgeOptions {
            allow: vec![extra.to_string()],
            ..BridgeOptions::default()
        },
    )
    .await;
    let mut ws = connect(&bridge.ws_url(&format!("?target={extra}")), None)
        .await
        .unwrap();
    let mut data = Vec::new();
    let close = read_until_close(&mut ws, &mut data).await;
    assert_eq!(data, b"220 extra\r\n");
    assert_eq!(close.map(|c| c.0), Some(close_code::NORMAL));
    within(script).await.unwrap();
    assert_eq!(upstream.accepted(), 0);
}

async fn upstream_script_hello() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    upstream(|mut tcp| async move {
        tcp.write_all(b"220 extra\r\n").await.unwrap();
    })
    .await
}

#[tokio::test]
async fn unreachable_upstream_gets_1014_with_a_reason() {
    let down = closed_port();
    let bridge = TestBridge::start(down).await;
    let (code, reason) = raw_close_code(bridge.addr, "/ws").await;
    assert_eq!(code, close_code::BAD_GATEWAY);
    assert_eq!(
        reason,
        format!("upstream {down} unreachable: connection refused")
    );
}

#[tokio::test]
async fn relays_past_the_maximum_get_503() {
    let (upstream_addr, holder) = upstream(|mut tcp| async move {
        // Keep the first relay open until the client leaves.
        let mut sink = Vec::new();
        let _ = tcp.read_to_end(&mut sink).await;
    })
    .await;
    let bridge = TestBridge::start_with(
        upstream_addr,
        BridgeOptions {
            max_relays: 1,
            ..BridgeOptions::default()
        },
    )
    .await;
    let first = connect(&bridge.ws_url(""), None)
        .await
        .expect("first relay");
    let status = http_status(connect(&bridge.ws_url(""), None).await);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    drop(first);
    within(holder).await.unwrap();
    // The slot is free again once the relay has ended.
    let mut third = None;
    for _ in 0..50 {
        match connect(&bridge.ws_url(""), None).await {
            Ok(ws) => {
                third = Some(ws);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let mut ws = third.expect("a relay slot is released when its relay ends");
    // Nothing listens any more: the relay ends with a close frame (1014).
    assert!(read_until_close(&mut ws, &mut Vec::new()).await.is_some());
}

#[tokio::test]
async fn permessage_deflate_is_never_negotiated() {
    let server = CountingListener::start().await;
    let bridge = TestBridge::start(server.addr).await;
    let mut request = bridge.ws_url("").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-extensions",
        HeaderValue::from_static("permessage-deflate; client_max_window_bits"),
    );
    let (_ws, response) = within(tokio_tungstenite::connect_async(request))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert!(response.headers().get("sec-websocket-extensions").is_none());
}

#[tokio::test]
async fn plain_get_on_ws_is_not_upgraded() {
    let server = CountingListener::start().await;
    let bridge = TestBridge::start(server.addr).await;
    let mut tcp = tokio::net::TcpStream::connect(bridge.addr).await.unwrap();
    tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    within(tcp.read_to_string(&mut response)).await.unwrap();
    assert!(!response.starts_with("HTTP/1.1 101"), "{response}");
    assert!(response.starts_with("HTTP/1.1 4"), "{response}");
    assert_eq!(server.accepted(), 0);
}
