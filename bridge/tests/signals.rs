//! Stopping the real `ferry-bridge` binary: one Ctrl-C lets busy relays
//! finish within the grace period; a second one ends the process at once
//! (exit status 130), the rule every Ferry program follows.

#![cfg(unix)]

use ferry_testkit::LoggedProcess;
use futures_util::StreamExt;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// The bridge binary on a port of its choosing, with `args`, and the
/// address it says it listens on.
fn spawn_bridge(args: &[&str]) -> (LoggedProcess, SocketAddr) {
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let bridge = LoggedProcess::spawn(Path::new(env!("CARGO_BIN_EXE_ferry-bridge")), &all);
    let addr = bridge.wait_for_word_after("listening on http://");
    (bridge, addr.parse().unwrap())
}

/// A "server" that trickles bytes to its first client until it goes away,
/// so a relay through the bridge is never quiet.
fn trickling_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        while tcp.write_all(&[b'x'; 512]).is_ok() {
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    addr
}

#[test]
fn a_second_ctrl_c_cuts_the_graceful_stop_short() {
    let upstream = trickling_upstream().to_string();
    let (mut bridge, addr) = spawn_bridge(&["--upstream", &upstream, "--shutdown-grace", "60"]);

    // A relay that keeps moving bytes, read by a client on its own thread.
    let url = format!("ws://{addr}/ws");
    let (first_message, first_message_seen) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let mut first_message = Some(first_message);
            while let Some(Ok(_)) = ws.next().await {
                if let Some(sender) = first_message.take() {
                    let _ = sender.send(());
                }
            }
        });
    });
    first_message_seen
        .recv_timeout(Duration::from_secs(10))
        .expect("the relay carries bytes");

    bridge.interrupt();
    bridge.wait_for_line("shutdown requested");
    assert_eq!(
        bridge
            .exit_within(Duration::from_millis(1500))
            .map(|status| status.code()),
        None,
        "a busy relay gets its grace period after one Ctrl-C"
    );

    bridge.interrupt();
    assert_eq!(
        bridge
            .exit_within(Duration::from_secs(5))
            .map(|status| status.code()),
        Some(Some(ferry_program::INTERRUPTED)),
        "a second Ctrl-C exits at once"
    );
    bridge.wait_for_line("second signal: exiting immediately");
}

#[test]
fn one_sigterm_with_nothing_open_is_a_clean_stop() {
    let (mut bridge, _) = spawn_bridge(&["--upstream", "127.0.0.1:9"]);
    bridge.terminate();
    assert_eq!(
        bridge
            .exit_within(Duration::from_secs(10))
            .map(|status| status.code()),
        Some(Some(0))
    );
    bridge.wait_for_line("stopped");
}
