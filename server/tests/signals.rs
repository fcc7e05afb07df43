//! Stopping the real `ferry-server` binary twice: one SIGINT lets an upload
//! in flight have its grace period; a second one ends the process at once
//! with exit status 130, the rule every Ferry program follows.

use ferry_testkit::LoggedProcess;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ferry-server");

#[test]
fn a_second_ctrl_c_cuts_the_grace_period_short() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let mut server = LoggedProcess::spawn(
        Path::new(BIN),
        &[
            "--root",
            root,
            "--listen",
            "127.0.0.1:0",
            "--shutdown-grace",
            "60",
        ],
    );
    let addr = server.wait_for_word_after("addr=");

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

    server.interrupt();
    assert_eq!(
        server
            .exit_within(Duration::from_millis(1500))
            .map(|status| status.code()),
        None,
        "an upload in flight gets its grace period after one Ctrl-C"
    );
    server.interrupt();
    assert_eq!(
        server
            .exit_within(Duration::from_secs(5))
            .map(|status| status.code()),
        Some(Some(ferry_program::INTERRUPTED)),
        "a second Ctrl-C exits at once"
    );
    let rest = server.rest_of_log();
    assert!(rest.contains("shutdown requested"), "{rest}");
    assert!(
        rest.contains("second signal: exiting immediately"),
        "{rest}"
    );
}
