//! One server, two doors: a file uploaded through the FTP door (by curl,
//! a client nobody here wrote) downloads byte-exact with `ferry get` over
//! the Ferry protocol, and one uploaded with `ferry put` downloads
//! byte-exact with curl — for the same account, in the same home.

mod ferry_binary;

use ferry_binary::*;
use ferry_testkit::data::noise;
use ferry_testkit::{run_to_end, FtpOptions, LoginOptions, ServerOptions, TestAccount, TestServer};
use std::path::Path;
use std::time::Duration;

const PASSWORD: &str = "wonder land";

fn server() -> TestServer {
    TestServer::start_on_thread_with(ServerOptions {
        accounts: Some(vec![TestAccount::new("alice", PASSWORD).home("alice")]),
        login: LoginOptions {
            delay: Duration::ZERO,
            ..LoginOptions::default()
        },
        ftp: Some(FtpOptions::default()),
        ..ServerOptions::default()
    })
}

fn curl(args: &[&str]) -> std::process::Output {
    let mut all = vec!["--silent", "--show-error", "--max-time", "15"];
    all.extend_from_slice(args);
    run_to_end(Path::new("curl"), &all, b"")
}

fn ftp_url(server: &TestServer, path: &str) -> String {
    // The space of the password, percent-encoded for the URL.
    format!("ftp://alice:wonder%20land@{}/{path}", server.ftp_addr())
}

#[test]
fn uploaded_over_ftp_downloads_byte_exact_with_ferry_get() {
    let server = server();
    let cwd = tempfile::tempdir().unwrap();
    let bytes = noise(6 * 1024 * 1024 + 11, 41);
    std::fs::write(cwd.path().join("from-ftp.bin"), &bytes).unwrap();
    let local = cwd.path().join("from-ftp.bin");
    let output = curl(&[
        "--ftp-create-dirs",
        "-T",
        local.to_str().unwrap(),
        &ftp_url(&server, "in/from-ftp.bin"),
    ]);
    assert!(output.status.success(), "curl -T: {output:?}");
    assert!(server.file("alice/in/from-ftp.bin").unwrap() == bytes);

    let alice = format!("alice@{}", server.target());
    let output = ferry_with(
        cwd.path(),
        &[
            "get",
            &alice,
            "in/from-ftp.bin",
            "-o",
            "got.bin",
            "--verify",
        ],
        &[("FERRY_PASSWORD", PASSWORD)],
        b"",
    );
    assert!(output.status.success(), "ferry get: {}", stderr(&output));
    let got = std::fs::read(cwd.path().join("got.bin")).unwrap();
    assert_eq!(got.len(), bytes.len());
    assert!(got == bytes, "ferry get of an FTP upload differs");
}

#[test]
fn uploaded_with_ferry_put_downloads_byte_exact_with_curl() {
    let server = server();
    let cwd = tempfile::tempdir().unwrap();
    let bytes = noise(5 * 1024 * 1024 + 3, 42);
    std::fs::write(cwd.path().join("from-ferry.bin"), &bytes).unwrap();
    let alice = format!("alice@{}", server.target());
    for args in [
        &["mkdir", &alice, "out"][..],
        &["put", &alice, "from-ferry.bin", "--as", "out/"],
    ] {
        let output = ferry_with(cwd.path(), args, &[("FERRY_PASSWORD", PASSWORD)], b"");
        assert!(
            output.status.success(),
            "ferry {args:?}: {}",
            stderr(&output)
        );
    }
    assert!(server.file("alice/out/from-ferry.bin").unwrap() == bytes);

    let listing = curl(&["--list-only", &ftp_url(&server, "out/")]);
    assert!(listing.status.success(), "curl NLST: {listing:?}");
    assert_eq!(stdout(&listing), "from-ferry.bin\n");
    let down = cwd.path().join("down.bin");
    let output = curl(&[
        "-o",
        down.to_str().unwrap(),
        &ftp_url(&server, "out/from-ferry.bin"),
    ]);
    assert!(output.status.success(), "curl RETR: {output:?}");
    let got = std::fs::read(&down).unwrap();
    assert_eq!(got.len(), bytes.len());
    assert!(got == bytes, "curl download of a ferry put differs");
    // curl's SIZE of it agrees with what ferry stored (--head: SIZE, MDTM).
    let head = curl(&["--head", &ftp_url(&server, "out/from-ferry.bin")]);
    assert!(
        stdout(&head).contains(&format!("Content-Length: {}", bytes.len())),
        "{head:?}"
    );
}
