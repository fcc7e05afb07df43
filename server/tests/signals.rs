//! Stopping the real `ferry-server` binary twice: one SIGINT lets an upload
//! in flight have its grace period; a second one ends the process at once
//! with exit status 130, the rule every Ferry program follows.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ferry-server");

fn interrupt(child: &std::process::Child) {
    rustix::process::kill_process(
        rustix::process::Pid::from_child(child),
        rustix::process::Signal::INT,
    )
    .unwrap();
}

fn exit_within(child: &mut std::process::Child, limit: Duration) -> Option<Option<i32>> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn a_second_ctrl_c_cuts_the_grace_period_short() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["--root", dir.path().to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--shutdown-grace", "60"])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(log.read_line(&mut line).unwrap() > 0, "the server exited");
        if let Some(addr) = line
            .split_whitespace()
            .find_map(|word| word.strip_prefix("addr="))
        {
            break addr.to_owned();
        }
    };

    // An upload that has started and stalls: a transfer in flight.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(b"STORE 1000000 big.bin\r\n").unwrap();
    let mut replies = Vec::new();
    let mut byte = [0u8; 1];
    while replies.iter().filter(|&&b| b == b'\n').count() < 2 {
        stream.read_exact(&mut byte).unwrap();
        replies.push(byte[0]);
    }
    let replies = String::from_utf8(replies).unwrap();
    assert!(replies.contains("\r\n150 "), "{replies}");
    stream.write_all(&[b'x'; 1000]).unwrap();

    interrupt(&child);
    assert_eq!(
        exit_within(&mut child, Duration::from_millis(1500)),
        None,
        "an upload in flight gets its grace period after one Ctrl-C"
    );
    interrupt(&child);
    assert_eq!(
        exit_within(&mut child, Duration::from_secs(5)),
        Some(Some(ferry_program::INTERRUPTED)),
        "a second Ctrl-C exits at once"
    );
    let mut rest = String::new();
    log.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("shutdown requested"), "{rest}");
    assert!(
        rest.contains("second signal: exiting immediately"),
        "{rest}"
    );
}
