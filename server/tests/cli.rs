//! The `ferry-server` binary: flags, errors, serving, and SIGTERM.

use ferry_testkit::{LoggedProcess, STEP_TIMEOUT};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ferry-server");

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn help_lists_every_flag() {
    let output = run(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--root",
        "--listen",
        "--max-file-size",
        "--max-connections",
        "--idle-timeout",
        "--read-only",
        "--shutdown-grace",
        "--accounts",
        "--anonymous",
        "--login-delay",
        "--login-limit",
        "--login-window",
        "--allow-plain-login",
    ] {
        assert!(
            help.contains(flag),
            "--help does not mention {flag}:\n{help}"
        );
    }
}

#[test]
fn bad_flags_exit_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let root = root.to_str().unwrap();
    for (args, mentions) in [
        (vec!["--bogus"], "--bogus"),
        (vec!["--max-connections", "many"], "--max-connections"),
        (vec!["--max-connections", "0"], "--max-connections"),
        (vec!["--idle-timeout", "soon"], "--idle-timeout"),
        (vec!["--max-file-size", "12 parsecs"], "--max-file-size"),
        (vec!["--listen", "not an address"], "--listen"),
    ] {
        let mut all = vec!["--root", root];
        all.extend(args.iter().copied());
        let output = run(&all);
        assert!(!output.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(mentions), "{args:?}: {stderr}");
    }
    assert!(
        !dir.path().join("root").exists(),
        "a failed start created the root"
    );
}

#[test]
fn startup_failures_exit_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let output = run(&["--root", file.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let last = stderr.trim_end().lines().last().unwrap();
    assert!(last.contains("cannot prepare root directory"), "{stderr}");
}

#[test]
fn serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("files");
    let mut server = LoggedProcess::spawn(
        Path::new(BIN),
        &[
            "--root",
            root.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--idle-timeout",
            "30",
            "--max-file-size",
            "1MiB",
        ],
    );
    // The first log line says where it listens: "... addr=127.0.0.1:PORT ...".
    let addr = server.wait_for_word_after("addr=");

    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"LIST\r\nSTORE 2000000 x\r\nQUIT\r\n")
        .unwrap();
    let mut replies = String::new();
    stream.read_to_string(&mut replies).unwrap();
    assert!(replies.starts_with("220 ferry "), "{replies}");
    assert!(replies.contains("serverTestFile.txt"), "{replies}");
    assert!(replies.contains("\r\n552 "), "{replies}");
    assert!(replies.ends_with("221 Goodbye\r\n"), "{replies}");

    server.terminate();
    let status = server
        .exit_within(Duration::from_secs(10))
        .expect("no exit after SIGTERM");
    assert!(status.success(), "{status}");
    let rest = server.rest_of_log();
    assert!(
        rest.contains("command=LIST"),
        "one log line per command:\n{rest}"
    );
    assert!(rest.contains("code=552"), "{rest}");
    assert!(
        rest.contains("connection") && rest.contains("duration_ms"),
        "{rest}"
    );
    assert!(rest.contains("server stopped"), "{rest}");
}

/// Signal handlers are in place before the server says it listens, so a
/// SIGTERM right after that line is a clean stop, never a kill.
#[test]
fn sigterm_right_after_start_is_a_clean_stop() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        let mut server =
            LoggedProcess::spawn(Path::new(BIN), &["--root", root, "--listen", "127.0.0.1:0"]);
        server.wait_for_line("listening");
        server.terminate();
        let rest = server.rest_of_log();
        let status = server
            .exit_within(STEP_TIMEOUT)
            .expect("no exit after SIGTERM");
        assert!(status.success(), "{status}: {rest}");
    }
}
