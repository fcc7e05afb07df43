//! Every command of the contract with its exact replies, over real sockets.

mod raw_client;

use ferry_testkit::TestServer;
use raw_client::Client;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn greeting_noop_help_quit() {
    let server = TestServer::start().await;
    let mut client = Client::connect_raw(server.addr).await;
    let greeting = client.reply().await;
    assert_eq!(greeting.code, 220);
    assert_eq!(
        greeting.text,
        format!("ferry {} ready", env!("CARGO_PKG_VERSION"))
    );
    let noop = client.command("NOOP").await;
    assert_eq!((noop.code, noop.text.as_str()), (200, "OK"));
    let help = client.command("help").await;
    assert_eq!(help.code, 214);
    assert_eq!(
        help.text,
        "LIST RETRIEVE READ STAT STORE RESUME DELETE MKDIR RMDIR RENAME HASH USER PASS NOOP \
         HELP QUIT"
    );
    let quit = client.command("Quit").await;
    assert_eq!((quit.code, quit.text.as_str()), (221, "Goodbye"));
    client.expect_closed().await;
}

#[tokio::test]
async fn store_list_retrieve_hash_delete() {
    let server = TestServer::start().await;
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.list().await, vec![]);

    let stored = client.store("notes.txt", b"hello world\n").await;
    assert_eq!(
        (stored.code, stored.text.as_str()),
        (226, "Stored 12 bytes")
    );
    assert_eq!(
        std::fs::read(server.path("notes.txt")).unwrap(),
        b"hello world\n"
    );

    let entries = client.list().await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name.as_str(), "notes.txt");
    assert_eq!(entries[0].size(), Some(12));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        entries[0].modified.abs_diff(now) < 120,
        "modified time {}",
        entries[0].modified
    );

    assert_eq!(
        client.retrieve("notes.txt").await.unwrap(),
        b"hello world\n"
    );
    assert_eq!(
        client.retrieve("RETR-alias-check").await.unwrap_err().code,
        550
    );
    let alias = client.command("retr notes.txt").await;
    assert_eq!(alias.text, "12 bytes");
    assert_eq!(client.data(12).await, b"hello world\n");
    assert_eq!(client.reply().await.code, 226);

    let hash = client.command("HASH notes.txt").await;
    assert_eq!(hash.code, 213);
    let expected = hex::encode(Sha256::digest(b"hello world\n"));
    assert_eq!(hash.text, format!("SHA-256 {expected}"));
    assert_eq!(hash.sha256_hex(), Some(expected.as_str()));

    let deleted = client.command("DELETE notes.txt").await;
    assert_eq!((deleted.code, deleted.text.as_str()), (250, "Deleted"));
    assert!(!server.path("notes.txt").exists());
    assert_eq!(client.command("DELE notes.txt").await.code, 550);
    assert_eq!(client.command("HASH notes.txt").await.code, 550);
    assert_eq!(client.retrieve("notes.txt").await.unwrap_err().code, 550);
    assert_eq!(client.list().await, vec![]);
}

#[tokio::test]
async fn aliases_and_store_replaces() {
    let server = TestServer::start().await;
    let mut client = Client::connect(server.addr).await;
    let start = client.command("stor 3 x").await;
    assert_eq!(start.code, 150);
    client.send_raw(b"abc").await;
    assert_eq!(client.reply().await.code, 226);
    assert_eq!(client.store("x", b"replaced").await.code, 226);
    assert_eq!(client.retrieve("x").await.unwrap(), b"replaced");
    assert_eq!(client.command("dele x").await.code, 250);
}

#[tokio::test]
async fn listing_is_sorted_by_bytes_and_shows_only_files_and_directories() {
    let server = TestServer::start().await;
    for name in ["b", "B a", "é", "a", ".hidden"] {
        std::fs::write(server.path(name), name).unwrap();
    }
    std::fs::create_dir(server.path("a directory")).unwrap();
    std::os::unix::fs::symlink("a", server.path("link to a")).unwrap();
    // A name the protocol cannot express is not listed either.
    std::fs::write(server.path("tab\tname"), "x").unwrap();
    let mut client = Client::connect(server.addr).await;
    // Version 2 lists directories too (`a directory/` sorts after `a`).
    assert_eq!(
        client.names().await,
        vec![".hidden", "B a", "a", "a directory", "b", "é"]
    );
}

#[tokio::test]
async fn names_with_spaces_and_non_ascii() {
    let server = TestServer::start().await;
    let mut client = Client::connect(server.addr).await;
    for name in [
        "with  two spaces ",
        " leading",
        "ünïcödé 名前.txt",
        "emoji 🚢",
        "...",
        "a..b",
    ] {
        let content = format!("content of {name}");
        assert_eq!(
            client.store(name, content.as_bytes()).await.code,
            226,
            "{name:?}"
        );
        assert_eq!(std::fs::read_to_string(server.path(name)).unwrap(), content);
        assert_eq!(client.retrieve(name).await.unwrap(), content.as_bytes());
    }
    let names = client.names().await;
    assert!(names.contains(&"with  two spaces ".to_owned()));
    assert!(names.contains(&"ünïcödé 名前.txt".to_owned()));
    let longest = "n".repeat(255);
    assert_eq!(client.store(&longest, b"x").await.code, 226);
    assert_eq!(client.store(&"n".repeat(256), b"x").await.code, 553);
}

#[tokio::test]
async fn binary_and_empty_files_round_trip() {
    let server = TestServer::start().await;
    let mut client = Client::connect(server.addr).await;
    let all_bytes: Vec<u8> = (0..=255u8).cycle().take(256 * 40).collect();
    // Data that looks like replies and line ends must not confuse anyone.
    let mut tricky = b"226 Transfer complete\r\n\n\r\r\n150 5 bytes\r\n".to_vec();
    tricky.extend_from_slice(&all_bytes);
    assert_eq!(client.store("bin", &tricky).await.code, 226);
    assert_eq!(std::fs::read(server.path("bin")).unwrap(), tricky);
    assert_eq!(client.retrieve("bin").await.unwrap(), tricky);

    let stored = client.store("empty", b"").await;
    assert_eq!(stored.text, "Stored 0 bytes");
    assert_eq!(std::fs::metadata(server.path("empty")).unwrap().len(), 0);
    let start = client.command("RETRIEVE empty").await;
    assert_eq!(start.text, "0 bytes");
    assert_eq!(client.reply().await.text, "Transfer complete");
    let hash = client.command("HASH empty").await;
    assert_eq!(
        hash.text,
        "SHA-256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // The connection is still in step after all of that.
    assert_eq!(client.command("NOOP").await.code, 200);
}

#[tokio::test]
async fn malformed_commands_get_the_contract_codes() {
    let server = TestServer::start().await;
    let mut client = Client::connect(server.addr).await;
    let cases: &[(&[u8], u16)] = &[
        (b"FROB", 502),
        (b"", 502),
        (b"RETRIEVEX x", 502),
        (b"\xff\xfe", 502),
        (b"RETR", 501),
        (b"RETR ", 501),
        (b"DELE", 501),
        (b"HASH", 501),
        // Version 2: LIST takes a directory; this one does not exist.
        (b"LIST extra", 550),
        (b"NOOP x", 501),
        (b"QUIT now", 501),
        (b"STORE", 501),
        (b"STORE x", 501),
        (b"STORE 10", 501),
        (b"STORE -1 x", 501),
        (b"STORE 1e3 x", 501),
        (b"STORE 99999999999999999999 x", 501),
        (b"STORE 5 ../x", 553),
        (b"RETR ../x", 553),
        (b"RETR \xff", 553),
        (b"DELE .", 553),
        (b"HASH a\tb", 553),
    ];
    for (line, code) in cases {
        let mut bytes = line.to_vec();
        bytes.extend_from_slice(b"\r\n");
        client.send_raw(&bytes).await;
        let reply = client.reply().await;
        assert_eq!(
            reply.code,
            *code,
            "{:?} got {reply}",
            String::from_utf8_lossy(line)
        );
    }
    assert_eq!(client.command("FROB").await.text, "Unknown command");
    assert_eq!(client.command("NOOP").await.code, 200);
}

#[tokio::test]
async fn long_lines_get_500_and_the_connection_stays_usable() {
    let server = TestServer::start().await;
    let mut client = Client::connect(server.addr).await;
    // 8192 bytes with CRLF is allowed (and then fails as a command).
    let at_limit = format!("NOOP {}", "x".repeat(8192 - 2 - 5));
    assert_eq!(client.command(&at_limit).await.code, 501);
    let over = format!("NOOP {}", "x".repeat(8192 - 1 - 5));
    let reply = client.command(&over).await;
    assert_eq!((reply.code, reply.text.as_str()), (500, "Line too long"));
    // A much longer line, sent in pieces, is discarded up to its LF.
    client.send_raw(&vec![b'y'; 100_000]).await;
    client.send_raw(&vec![b'z'; 100_000]).await;
    client.send_raw(b"\r\n").await;
    assert_eq!(client.reply().await.code, 500);
    assert_eq!(client.command("NOOP").await.code, 200);
    assert_eq!(client.list().await, vec![]);
}

#[tokio::test]
async fn bare_lf_and_pipelined_commands() {
    let server = TestServer::start().await;
    let mut client = Client::connect(server.addr).await;
    client.send_raw(b"NOOP\nHELP\n").await;
    assert_eq!(client.reply().await.code, 200);
    assert_eq!(client.reply().await.code, 214);
    // STORE data in the same packet as the command, followed by more commands.
    client
        .send_raw(b"STORE 5 p\nhelloRETRIEVE p\r\nHASH p\nQUIT\n")
        .await;
    assert_eq!(client.reply().await.code, 150);
    assert_eq!(client.reply().await.text, "Stored 5 bytes");
    assert_eq!(client.reply().await.text, "5 bytes");
    assert_eq!(client.data(5).await, b"hello");
    assert_eq!(client.reply().await.code, 226);
    assert_eq!(client.reply().await.code, 213);
    assert_eq!(client.reply().await.code, 221);
    client.expect_closed().await;
}

#[tokio::test]
async fn store_over_a_directory_is_refused_before_data() {
    let server = TestServer::start().await;
    std::fs::create_dir(server.path("dir")).unwrap();
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.command("STORE 4 dir").await.code, 550);
    assert_eq!(client.command("STORE 4 .ferry-tmp").await.code, 550);
    assert_eq!(client.command("RETRIEVE .ferry-tmp").await.code, 550);
    assert_eq!(client.command("DELETE .ferry-tmp").await.code, 550);
    assert!(server.path("dir").is_dir());
    assert_eq!(client.command("NOOP").await.code, 200);
}

#[tokio::test]
async fn the_shared_client_driver_understands_the_server() {
    // ferry-client's Session is the one loop over ferry-proto's ClientDriver
    // that every client uses; each typed exchange accepts only its own
    // success code, so the Oks below are the 226, 226 and 221 of the contract.
    use ferry_client::{Session, SessionOptions, TcpTransport};
    use ferry_proto::Name;
    let server = TestServer::start().await;
    std::fs::write(server.path("f"), b"codec").unwrap();
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let transport = TcpTransport::new(stream);
    let options = SessionOptions::default();
    let mut session = Session::start(transport, server.addr.to_string(), options)
        .await
        .unwrap();
    let mut data = Vec::new();
    let name = Name::new("f").unwrap();
    session
        .retrieve(&name.clone().into(), &mut data, &mut ())
        .await
        .unwrap();
    assert_eq!(data, b"codec");
    let listed = session.list(None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, name);
    session.quit().await.unwrap();
}
