//! `ferry` through a real ferry-bridge (ws://): the same commands, the same
//! bytes, and the bridge's refusals in plain words.

mod ferry_binary;
mod trees;

use ferry_binary::*;
use ferry_testkit::data::all_bytes;
use ferry_testkit::{closed_port, BridgeOptions, TestBridge, TestServer, TlsPaths};

#[test]
fn the_one_shot_commands_work_through_the_bridge() {
    let server = TestServer::start_on_thread();
    let bridge = TestBridge::start_on_thread(server.addr);
    let url = bridge.ws_url("");
    let cwd = tempfile::tempdir().unwrap();
    let data = all_bytes(20_000); // about 5 MiB, many WebSocket messages each way
    std::fs::write(cwd.path().join("up load.bin"), &data).unwrap();

    let output = ferry_in(cwd.path(), &["put", &url, "up load.bin", "--verify"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.file("up load.bin").unwrap(), data);

    let output = ferry_in(cwd.path(), &["ls", &url], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("4.9 MiB  "), "{}", stdout(&output));
    assert!(
        stdout(&output).ends_with("  up load.bin\n1 file, 4.9 MiB in total\n"),
        "{}",
        stdout(&output)
    );

    let output = ferry_in(
        cwd.path(),
        &["get", &url, "up load.bin", "-o", "down.bin", "--verify"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(cwd.path().join("down.bin")).unwrap(), data);

    server.put_file("empty", b"");
    let output = ferry_in(cwd.path(), &["get", &url, "empty"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(cwd.path().join("empty")).unwrap(), b"");

    let output = ferry_in(cwd.path(), &["rm", &url, "up load.bin"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    let output = ferry_in(
        cwd.path(),
        &["get", &url, "up load.bin", "-o", "again.bin"],
        b"",
    );
    assert_fails_with(&output, "no such file \"up load.bin\" on the server");
    assert!(!cwd.path().join("again.bin").exists());
}

#[test]
fn paths_trees_and_logins_work_through_the_bridge() {
    use ferry_testkit::{LoginOptions, ServerOptions, TestAccount};
    let server = TestServer::start_on_thread_with(ServerOptions {
        accounts: Some(vec![TestAccount::new("carol", "over ws").home("carol")]),
        login: LoginOptions {
            delay: std::time::Duration::ZERO,
            ..LoginOptions::default()
        },
        ..ServerOptions::default()
    });
    let bridge = TestBridge::start_on_thread(server.addr);
    // The user goes in the URL's authority; the bridge never sees it.
    let url = bridge.ws_url("").replacen("ws://", "ws://carol@", 1);
    let cwd = tempfile::tempdir().unwrap();
    let big = all_bytes(4000);
    trees::build(
        &cwd.path().join("tree"),
        &[
            ("a/b/c.bin", Some(&big)),
            ("a/empty", None),
            ("top.txt", Some(b"top")),
        ],
    );
    let env = [("FERRY_PASSWORD", "over ws")];
    let run = |args: &[&str]| {
        let output = ferry_with(cwd.path(), args, &env, b"");
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        output
    };
    run(&["put", "-r", &url, "tree"]);
    assert_eq!(
        trees::tree(&server.path("carol/tree")),
        trees::tree(&cwd.path().join("tree"))
    );
    assert_eq!(
        stdout(&run(&["ls", &url, "tree/a", "--names"])),
        "b/\nempty/\n"
    );
    run(&["mv", &url, "tree/top.txt", "tree/a/top.txt"]);
    let status = stdout(&run(&["stat", &url, "tree/a/top.txt"]));
    assert!(
        status.starts_with("tree/a/top.txt: file, 3 bytes"),
        "{status}"
    );
    run(&["get", "-r", &url, "tree", "-o", "back"]);
    assert_eq!(
        trees::tree(&cwd.path().join("back")),
        trees::tree(&server.path("carol/tree"))
    );
    run(&["rmdir", &url, "tree/a/empty"]);
    assert!(!server.path("carol/tree/a/empty").exists());
}

#[test]
fn the_prompt_connects_through_the_bridge() {
    let server = TestServer::start_on_thread();
    server.put_file("via bridge.txt", b"relayed");
    let bridge = TestBridge::start_on_thread(server.addr);
    let cwd = tempfile::tempdir().unwrap();
    let script = format!(
        "CONNECT {}\nLIST\nRETRIEVE via bridge.txt\nQUIT\n",
        bridge.ws_url("")
    );
    let output = ferry_in(cwd.path(), &[], script.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 file, 7 B in total"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        std::fs::read(cwd.path().join("via bridge.txt")).unwrap(),
        b"relayed"
    );
}

#[test]
fn the_bridge_chooses_another_allowed_server_with_target() {
    let default = TestServer::start_on_thread();
    let other = TestServer::start_on_thread();
    other.put_file("on the other one", b"x");
    let bridge = TestBridge::start_on_thread_with(
        default.addr,
        BridgeOptions {
            allow: vec![other.target()],
            ..BridgeOptions::default()
        },
    );
    let url = bridge.ws_url(&format!("?target={}", other.target()));
    let (output, _cwd) = ferry(&["ls", &url, "--names"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "on the other one\n");
}

#[test]
fn bridge_refusals_are_explained() {
    let server = TestServer::start_on_thread();
    let closed = closed_port().to_string();
    let bridge = TestBridge::start_on_thread_with(
        server.addr,
        BridgeOptions {
            allow: vec![closed.clone()],
            ..BridgeOptions::default()
        },
    );

    // Not on the allowlist: close code 1008 with a reason.
    let (output, _cwd) = ferry(&["ls", &bridge.ws_url("?target=127.0.0.1:9")]);
    assert_fails_with(&output, "the bridge does not allow this server: ");

    // Allowed but nothing listens there: close code 1014 with the bridge's
    // reason (recovered from the wire: tungstenite itself turns 1014 into 1002).
    let (output, _cwd) = ferry(&["ls", &bridge.ws_url(&format!("?target={closed}"))]);
    assert_fails_with(&output, "the bridge could not reach the server: ");
    assert!(stderr(&output).contains(&closed), "{}", stderr(&output));

    // Not a WebSocket endpoint.
    let url = format!("ws://{}/nowhere", bridge.addr);
    let (output, _cwd) = ferry(&["ls", &url]);
    assert_fails_with(
        &output,
        &format!("the bridge at {url} refused the WebSocket connection: HTTP 404"),
    );

    // No bridge at all.
    let url = format!("ws://{}/ws", closed_port());
    let (output, _cwd) = ferry(&["ls", &url]);
    assert_fails_with(&output, &format!("connection refused by {url}"));
}

#[test]
fn wss_works_with_a_trusted_ca_and_explains_an_untrusted_certificate() {
    let server = TestServer::start_on_thread();
    server.put_file("secret.txt", b"over TLS");
    let certs = tempfile::tempdir().unwrap();
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = certs.path().join("cert.pem");
    let key = certs.path().join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.key_pair.serialize_pem()).unwrap();
    let tls = TlsPaths {
        cert: cert.clone(),
        key,
    };
    let bridge = TestBridge::start_on_thread_with(
        server.addr,
        BridgeOptions {
            tls: Some(tls),
            ..BridgeOptions::default()
        },
    );
    let url = format!("wss://127.0.0.1:{}/ws", bridge.addr.port());
    let cert = cert.to_str().unwrap();

    let cwd = tempfile::tempdir().unwrap();
    let output = ferry_in(
        cwd.path(),
        &["--ca-cert", cert, "get", &url, "secret.txt", "--verify"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(cwd.path().join("secret.txt")).unwrap(),
        b"over TLS"
    );

    // Without trusting the certificate, the handshake fails in words.
    let (output, _cwd) = ferry(&["ls", &url]);
    assert_fails_with(
        &output,
        &format!("the bridge at {url} refused the WebSocket connection: TLS failed: "),
    );
    assert!(
        stderr(&output).contains("certificate"),
        "{}",
        stderr(&output)
    );

    // A CA file that is not one is reported before connecting.
    let (output, _cwd) = ferry(&["--ca-cert", "/no/such.pem", "ls", &url]);
    assert_fails_with(&output, "cannot use the CA certificates in /no/such.pem");
}
