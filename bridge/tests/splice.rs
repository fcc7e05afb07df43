//! Downloads on the zero-copy path (plain TCP on Linux: upstream bytes are
//! spliced into the client socket under frame headers written by the bridge):
//! byte-exact, well-formed frames, pings and pongs in between, close 1000.
//! Alone in its test binary so the count of open pipes is this test's own.

mod browser;
mod upstreams;

use browser::*;
use ferry_testkit::data::noise;
use ferry_testkit::{within, BridgeOptions, TestBridge};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use upstreams::upstream;

/// Open pipes of this process (the splicer holds one per bulk download).
fn count_pipes() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
                .filter(|target| target.to_string_lossy().starts_with("pipe:"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_download_is_byte_exact_in_well_formed_binary_frames_then_1000() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    // Every byte value in order first, then 40 MiB of noise.
    let mut data: Vec<u8> = (0..=255u8).cycle().take(1 << 16).collect();
    data.extend(noise(40 << 20, 11));
    std::fs::write(&path, &data).unwrap();
    let (server, served) = upstream(move |mut tcp: TcpStream| async move {
        let mut file = tokio::fs::File::open(path).await.unwrap();
        tokio::io::copy(&mut file, &mut tcp).await.unwrap()
    })
    .await;
    // The bridge's pings go through the WebSocket library, between frames
    // the bridge writes itself.
    let bridge = TestBridge::start_with(
        server,
        BridgeOptions {
            ping_interval: Some(Duration::from_millis(20)),
            ..BridgeOptions::default()
        },
    )
    .await;
    let pipes_before = count_pipes();

    let mut ws = connect(&bridge.ws_url(""), None).await.unwrap();
    let mut received = Vec::with_capacity(data.len());
    let mut messages = 0usize;
    let mut pongs = 0usize;
    let mut pipes_during = 0;
    let close = within(async {
        loop {
            match ws
                .next()
                .await
                .expect("stream open")
                .expect("well-formed frames")
            {
                Message::Binary(chunk) => {
                    received.extend_from_slice(&chunk);
                    messages += 1;
                    if messages % 8 == 1 {
                        // Our pings make the library write pongs while
                        // frames are being spliced.
                        ws.send(Message::Ping("splice?".into())).await.unwrap();
                    }
                    if messages <= 20 {
                        // A slow start: writes to us come back partial.
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                    // Sampled all along: the switch to splicing may come
                    // at any point of the download.
                    if received.len() > (4 << 20) {
                        pipes_during = pipes_during.max(count_pipes());
                    }
                }
                Message::Pong(payload) => {
                    assert_eq!(&payload[..], b"splice?");
                    pongs += 1;
                }
                Message::Ping(_) => {}
                Message::Close(frame) => break frame,
                other => panic!("unexpected {other:?}"),
            }
        }
    })
    .await;
    let frame = close.expect("a close frame with a code");
    assert_eq!(u16::from(frame.code), 1000, "reason: {}", frame.reason);
    assert_eq!(received.len(), data.len());
    assert!(received == data, "the bytes differ");
    assert!(messages > 20, "only {messages} messages");
    assert!(pongs >= 1, "no pong came back during the download");
    assert_eq!(within(served).await.unwrap(), data.len() as u64);
    if cfg!(target_os = "linux") {
        assert!(
            pipes_during > pipes_before,
            "no pipe was open during the download ({pipes_before} before, {pipes_during} during): not spliced"
        );
    }
}
