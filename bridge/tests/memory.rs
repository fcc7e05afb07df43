//! Backpressure, measured on the real binary: a client that stops reading
//! during a 1 GiB download must not make the bridge buffer it.

mod browser;

use browser::*;
use ferry_bridge::Limits;
use ferry_testkit::{within, ChildProcess, Memory};
use futures_util::StreamExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const GIB: u64 = 1 << 30;
/// Byte `i` of the stream is `i % PERIOD`, so any slice can be checked.
const PERIOD: usize = 251;

fn pattern() -> Vec<u8> {
    (0..PERIOD * 1024).map(|i| (i % PERIOD) as u8).collect()
}

fn check(pattern: &[u8], offset: u64, data: &[u8]) {
    let start = (offset % PERIOD as u64) as usize;
    for (i, piece) in data.chunks(pattern.len() - PERIOD).enumerate() {
        let at = (start + i * (pattern.len() - PERIOD)) % PERIOD;
        assert!(
            piece == &pattern[at..at + piece.len()],
            "corrupted near offset {offset}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_does_not_grow_the_bridge() {
    // The "server": sends 1 GiB as fast as the bridge takes it.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_addr = listener.local_addr().unwrap();
    let written = Arc::new(AtomicU64::new(0));
    let counter = written.clone();
    let block = pattern();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut sent = 0u64;
        while sent < GIB {
            let n = block.len().min((GIB - sent) as usize);
            if tcp.write_all(&block[..n]).await.is_err() {
                return;
            }
            sent += n as u64;
            counter.store(sent, Ordering::SeqCst);
        }
    });

    let binary = Path::new(env!("CARGO_BIN_EXE_ferry-bridge"));
    let bridge = ChildProcess::ferry_bridge(binary, upstream_addr, &[]).unwrap();
    let baseline = bridge.memory().unwrap().rss;
    let mut ws = connect(&format!("ws://{}/ws", bridge.addr), None)
        .await
        .unwrap();
    let pattern = pattern();
    let mut received = 0u64;
    while received < 8 << 20 {
        if let Message::Binary(data) = within(ws.next()).await.unwrap().unwrap() {
            assert!(data.len() <= Limits::default().splice_pipe_size());
            check(&pattern, received, &data);
            received += data.len() as u64;
        }
    }

    // Stop reading until the sender is stuck (nothing moves for a second).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = written.load(Ordering::SeqCst);
    let mut still_since = Instant::now();
    while still_since.elapsed() < Duration::from_secs(1) {
        assert!(Instant::now() < deadline, "the sender never stopped");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = written.load(Ordering::SeqCst);
        if now != last {
            last = now;
            still_since = Instant::now();
        }
    }
    let in_flight = last - received;
    let Memory {
        rss,
        peak_rss: peak,
    } = bridge.memory().unwrap();
    let bound = Limits::default().relay_memory_bound() as u64;
    eprintln!(
        "stalled: {} MiB in flight (socket buffers), bridge RSS {} KiB (baseline {} KiB, peak {} KiB), bound per relay {} KiB",
        in_flight >> 20,
        rss >> 10,
        baseline >> 10,
        peak >> 10,
        bound >> 10
    );
    assert!(
        last < GIB / 4,
        "the sender got {last} bytes out: backpressure failed"
    );
    // Allocator and runtime slack on top of the relay's own bound.
    let slack = 8 << 20;
    assert!(
        peak < baseline + bound + slack,
        "bridge peak RSS {peak} exceeds baseline {baseline} + bound {bound} + slack"
    );

    // Reading again, the rest arrives intact and in order.
    let mut messages = 0u64;
    let close = async {
        loop {
            match ws.next().await.expect("open").unwrap() {
                Message::Binary(data) => {
                    check(&pattern, received, &data);
                    received += data.len() as u64;
                    messages += 1;
                }
                Message::Close(frame) => return frame,
                _ => {}
            }
        }
    };
    let frame = tokio::time::timeout(Duration::from_secs(300), close)
        .await
        .expect("1 GiB arrives");
    assert_eq!(received, GIB);
    assert_eq!(frame.map(|f| u16::from(f.code)), Some(1000));
    let peak = bridge.memory().unwrap().peak_rss;
    assert!(
        peak < baseline + bound + slack,
        "peak RSS {peak} after the whole transfer"
    );
    assert!(messages > 0);
}
