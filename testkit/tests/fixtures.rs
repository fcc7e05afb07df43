//! The fixtures themselves: each starts where it says, answers, and stops
//! the way it says.

use ferry_testkit::data::{all_bytes, noise};
use ferry_testkit::{closed_port, within, TestBridge, TestServer};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

async fn greeting(addr: std::net::SocketAddr) -> Vec<u8> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut start = [0u8; 4];
    within(tcp.read_exact(&mut start)).await.unwrap();
    start.to_vec()
}

#[tokio::test]
async fn the_server_on_the_test_runtime_greets_and_stops_gracefully() {
    let mut server = TestServer::start().await;
    assert_eq!(greeting(server.addr).await, b"220 ");
    assert!(server.root.is_dir());
    assert!(server.temp_entries().is_empty());
    within(server.begin_shutdown()).await.unwrap().unwrap();
}

#[test]
fn the_server_and_bridge_on_their_own_threads_serve_a_blocked_test() {
    use std::io::Read;
    let server = TestServer::start_on_thread();
    let bridge = TestBridge::start_on_thread(server.addr);
    let mut tcp = std::net::TcpStream::connect(server.addr).unwrap();
    let mut start = [0u8; 4];
    tcp.read_exact(&mut start).unwrap();
    assert_eq!(&start, b"220 ");
    assert!(bridge.ws_url("").ends_with("/ws"));
}

#[tokio::test]
async fn the_bridge_stops_gracefully_and_no_longer_listens() {
    let bridge = TestBridge::start(closed_port()).await;
    let addr = bridge.addr;
    bridge.stop().await.unwrap();
    assert!(TcpStream::connect(addr).await.is_err());
}

#[test]
fn nothing_listens_on_a_closed_port() {
    assert!(std::net::TcpStream::connect(closed_port()).is_err());
}

#[test]
fn the_data_is_the_same_on_every_run() {
    assert_eq!(noise(1001, 7).len(), 1001);
    assert_eq!(noise(1001, 7), noise(1001, 7));
    assert_ne!(noise(64, 7), noise(64, 8));
    assert!(noise(4096, 7).starts_with(&noise(1000, 7)));
    let bytes = all_bytes(2);
    assert_eq!(bytes.len(), 2 * 256 + 5);
    assert!(bytes.ends_with(&[0, 255, 13, 10, 7]));
}
