//! Stopping the real `ferry-bridge` binary: one Ctrl-C lets busy relays
//! finish within the grace period; a second one ends the process at once
//! (exit status 130), the rule every Ferry program follows.

#![cfg(unix)]

use futures_util::StreamExt;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The bridge binary as a child process (killed on drop), with its log
/// lines arriving on a channel.
struct BridgeProcess {
    child: Child,
    addr: SocketAddr,
    log: mpsc::Receiver<String>,
}

impl BridgeProcess {
    fn spawn(args: &[&str]) -> BridgeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ferry-bridge"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ferry-bridge starts");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (line_sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = line_sender.send(line);
            }
        });
        let mut bridge = BridgeProcess {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            log,
        };
        let line = bridge.wait_for_line("listening on http://");
        let rest = line.split("listening on http://").nth(1).unwrap();
        bridge.addr = rest.split_whitespace().next().unwrap().parse().unwrap();
        bridge
    }

    /// The next log line containing `text` (the ones before it are skipped).
    fn wait_for_line(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line with {text:?}"),
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// The exit status code, if the process ends within `limit`.
    fn exit_within(&mut self, limit: Duration) -> Option<Option<i32>> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for BridgeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let mut bridge = BridgeProcess::spawn(&["--upstream", &upstream, "--shutdown-grace", "60"]);

    // A relay that keeps moving bytes, read by a client on its own thread.
    let url = format!("ws://{}/ws", bridge.addr);
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

    bridge.signal("INT");
    bridge.wait_for_line("shutdown requested");
    assert_eq!(
        bridge.exit_within(Duration::from_millis(1500)),
        None,
        "a busy relay gets its grace period after one Ctrl-C"
    );

    bridge.signal("INT");
    assert_eq!(
        bridge.exit_within(Duration::from_secs(5)),
        Some(Some(ferry_program::INTERRUPTED)),
        "a second Ctrl-C exits at once"
    );
    bridge.wait_for_line("second signal: exiting immediately");
}

#[test]
fn one_sigterm_with_nothing_open_is_a_clean_stop() {
    let mut bridge = BridgeProcess::spawn(&["--upstream", "127.0.0.1:9"]);
    bridge.signal("TERM");
    assert_eq!(bridge.exit_within(Duration::from_secs(10)), Some(Some(0)));
    bridge.wait_for_line("stopped");
}
