//! Version 2's directories over real sockets: nested paths for every
//! command, LIST of a directory and its sort order, STAT, READ's ranges,
//! MKDIR, RMDIR and RENAME with their refusals, and the order in which
//! failures are answered (docs/PROTOCOL.md §3–3.2).

mod raw_client;

use ferry_proto::{EntryKind, Status};
use ferry_testkit::{ServerOptions, TestServer};
use raw_client::Client;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn every_command_works_on_nested_paths() {
    let server = TestServer::start().await;
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.command("MKDIR docs").await.code, 257);
    let created = client.command("MKDIR docs/2026 notes").await;
    assert_eq!((created.code, created.text.as_str()), (257, "Created"));
    let path = "docs/2026 notes/ünï.txt";
    let stored = client.store(path, b"nested content").await;
    assert_eq!(
        (stored.code, stored.text.as_str()),
        (226, "Stored 14 bytes")
    );
    assert_eq!(std::fs::read(server.path(path)).unwrap(), b"nested content");
    assert_eq!(client.retrieve(path).await.unwrap(), b"nested content");
    assert_eq!(client.read(7, 100, path).await.unwrap(), b"content");
    let hash = client.command(&format!("HASH {path}")).await;
    let expected = hex::encode(Sha256::digest(b"nested content"));
    assert_eq!(hash.text, format!("SHA-256 {expected}"));
    let stat = client.command(&format!("STAT {path}")).await;
    assert_eq!(stat.code, 213);
    let status = Status::parse(&stat.text).unwrap();
    assert_eq!(status.kind, EntryKind::File { size: 14 });
    let dir = client.command("STAT docs").await;
    assert_eq!(dir.code, 213);
    assert!(dir.text.starts_with("dir - "), "{dir}");
    let listed = client.list_dir("docs/2026 notes").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name.as_str(), "ünï.txt");
    assert_eq!(client.names().await, vec!["docs"]);
    let renamed = client
        .command(&format!("RENAME {path}\tdocs/moved.txt"))
        .await;
    assert_eq!((renamed.code, renamed.text.as_str()), (250, "Renamed"));
    assert_eq!(
        client.retrieve("docs/moved.txt").await.unwrap(),
        b"nested content"
    );
    assert_eq!(client.retrieve(path).await.unwrap_err().code, 550);
    let deleted = client.command("DELETE docs/moved.txt").await;
    assert_eq!((deleted.code, deleted.text.as_str()), (250, "Deleted"));
    let removed = client.command("RMDIR docs/2026 notes").await;
    assert_eq!((removed.code, removed.text.as_str()), (250, "Removed"));
    assert_eq!(client.command("RMDIR docs").await.code, 250);
    assert_eq!(client.list().await, vec![]);
}

#[tokio::test]
async fn listing_shows_directories_one_level_in_byte_order() {
    let server = TestServer::start().await;
    std::fs::create_dir_all(server.path("a/inner")).unwrap();
    std::fs::write(server.path("a/inner/hidden-deeper"), b"x").unwrap();
    std::fs::write(server.path("a.txt"), b"12345").unwrap();
    std::fs::write(server.path("a0"), b"").unwrap();
    std::fs::create_dir(server.path("B")).unwrap();
    let mut client = Client::connect(server.addr).await;
    let body = String::from_utf8(client.listing_body("").await).unwrap();
    let rows: Vec<(&str, &str)> = body
        .lines()
        .map(|row| {
            let fields: Vec<&str> = row.split('\t').collect();
            assert_eq!(fields.len(), 3, "{row:?}");
            (fields[0], fields[2])
        })
        .collect();
    assert_eq!(
        rows,
        vec![("-", "B/"), ("5", "a.txt"), ("-", "a/"), ("0", "a0")]
    );
    assert!(body.ends_with('\n'));
    let inner = client.listing_body("a").await;
    let inner = String::from_utf8(inner).unwrap();
    assert!(
        inner.starts_with("-\t") && inner.ends_with("\tinner/\n"),
        "{inner:?}"
    );
    // LIST of a file, of something missing, of a path through a file.
    for dir in ["a.txt", "missing", "a.txt/x", "a/missing"] {
        assert_eq!(client.command(&format!("LIST {dir}")).await.code, 550);
    }
    let done = client.command("LIST a/inner").await;
    assert_eq!(done.code, 150);
    client.data(done.data_len().unwrap()).await;
    assert_eq!(client.reply().await.text, "1 entries");
}

#[tokio::test]
async fn read_edge_cases() {
    let server = TestServer::start().await;
    let content: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    std::fs::create_dir(server.path("d")).unwrap();
    std::fs::write(server.path("d/f"), &content).unwrap();
    let mut client = Client::connect(server.addr).await;
    let len = content.len() as u64;
    assert_eq!(client.read(0, len, "d/f").await.unwrap(), content);
    assert_eq!(
        client.read(0, len, "d/f").await.unwrap(),
        client.retrieve("d/f").await.unwrap()
    );
    assert_eq!(client.read(0, u64::MAX, "d/f").await.unwrap(), content);
    assert_eq!(
        client.read(99_990, 1000, "d/f").await.unwrap(),
        &content[99_990..]
    );
    assert_eq!(
        client.read(12_345, 10, "d/f").await.unwrap(),
        &content[12_345..12_355]
    );
    assert_eq!(client.read(5, 0, "d/f").await.unwrap(), b"");
    // offset = size: 150 0 bytes.
    let at_end = client.command(&format!("READ {len} 10 d/f")).await;
    assert_eq!((at_end.code, at_end.text.as_str()), (150, "0 bytes"));
    assert_eq!(client.reply().await.code, 226);
    // Beyond the end, bad numbers: 501; a directory or nothing: 550.
    let beyond = client.command(&format!("READ {} 1 d/f", len + 1)).await;
    assert_eq!(beyond.code, 501, "{beyond}");
    for bad in [
        "READ -1 1 d/f",
        "READ 1 +1 d/f",
        "READ 18446744073709551616 1 d/f",
        "READ 0 99999999999999999999 d/f",
        "READ 0x10 1 d/f",
        "READ 1 d/f",
        "READ",
    ] {
        assert_eq!(client.command(bad).await.code, 501, "{bad}");
    }
    assert_eq!(client.command("READ 0 1 d").await.code, 550);
    assert_eq!(client.command("READ 0 1 d/missing").await.code, 550);
    assert_eq!(client.command("READ 0 1 d/../f").await.code, 553);
    // The same file empty: READ 0 0 and offset 0 = size.
    std::fs::write(server.path("d/empty"), b"").unwrap();
    assert_eq!(client.read(0, 10, "d/empty").await.unwrap(), b"");
    assert_eq!(client.command("READ 1 0 d/empty").await.code, 501);
    assert_eq!(client.command("NOOP").await.code, 200);
}

#[tokio::test]
async fn mkdir_rmdir_and_their_refusals() {
    let server = TestServer::start().await;
    std::fs::write(server.path("file"), b"x").unwrap();
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.command("MKDIR d").await.code, 257);
    assert!(server.path("d").is_dir());
    for (line, why) in [
        ("MKDIR d", "exists"),
        ("MKDIR file", "a file exists"),
        ("MKDIR missing/d", "parent missing"),
        ("MKDIR file/d", "parent is a file"),
        ("RMDIR missing", "no such directory"),
        ("RMDIR file", "not a directory"),
        ("RMDIR d/missing", "no such directory"),
    ] {
        assert_eq!(client.command(line).await.code, 550, "{line}: {why}");
    }
    // Not empty: a file, a link, a FIFO each keep it.
    std::fs::write(server.path("d/f"), b"x").unwrap();
    assert_eq!(client.command("RMDIR d").await.code, 550);
    std::fs::remove_file(server.path("d/f")).unwrap();
    std::os::unix::fs::symlink("/nowhere", server.path("d/link")).unwrap();
    assert_eq!(client.command("RMDIR d").await.code, 550, "a link counts");
    std::fs::remove_file(server.path("d/link")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        server.path("d/fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        0,
    )
    .unwrap();
    assert_eq!(client.command("RMDIR d").await.code, 550, "a FIFO counts");
    std::fs::remove_file(server.path("d/fifo")).unwrap();
    assert_eq!(client.command("RMDIR d").await.code, 250);
    assert!(!server.path("d").exists());
    // DELETE is for files only; STORE onto a directory is refused.
    std::fs::create_dir(server.path("e")).unwrap();
    assert_eq!(client.command("DELETE e").await.code, 550);
    assert_eq!(client.command("STORE 1 e").await.code, 550);
    assert_eq!(client.command("STORE 1 missing/f").await.code, 550);
    assert!(server.path("e").is_dir());
    assert_eq!(client.command("NOOP").await.code, 200);
}

#[tokio::test]
async fn rename_moves_replaces_files_and_refuses_the_rest() {
    let server = TestServer::start().await;
    for dir in ["d", "d/sub", "other"] {
        std::fs::create_dir(server.path(dir)).unwrap();
    }
    std::fs::write(server.path("a"), b"new").unwrap();
    std::fs::write(server.path("b"), b"old").unwrap();
    std::fs::write(server.path("d/f"), b"in d").unwrap();
    let mut client = Client::connect(server.addr).await;
    // A file onto an existing file replaces it.
    assert_eq!(client.command("RENAME a\tb").await.code, 250);
    assert_eq!(std::fs::read(server.path("b")).unwrap(), b"new");
    assert!(!server.path("a").exists());
    // A directory moves with what it holds.
    assert_eq!(client.command("RENAME d\tother/d2").await.code, 250);
    assert_eq!(std::fs::read(server.path("other/d2/f")).unwrap(), b"in d");
    for (line, why) in [
        ("RENAME missing\tx", "source missing"),
        ("RENAME b\tmissing/x", "target's parent missing"),
        ("RENAME b\tother", "target is a directory"),
        ("RENAME other/d2\tb", "a directory onto a file"),
        ("RENAME other\tother/d2/inside", "a directory into itself"),
        ("RENAME other\tother", "a directory onto itself"),
        ("RENAME b\tb/x", "target's parent is a file"),
    ] {
        let reply = client.command(line).await;
        assert_eq!(reply.code, 550, "{line:?}: {why}: {reply}");
    }
    assert_eq!(client.command("RENAME b").await.code, 501, "no TAB");
    assert_eq!(client.command("RENAME").await.code, 501);
    assert_eq!(client.command("RENAME b\tc\td").await.code, 553);
    assert_eq!(client.command("RENAME ../b\tc").await.code, 553);
    assert_eq!(client.command("RENAME b\t").await.code, 553);
    // Nothing changed after the refusals.
    assert_eq!(std::fs::read(server.path("b")).unwrap(), b"new");
    assert!(server.path("other/d2/sub").is_dir());
    assert_eq!(client.names().await, vec!["b", "other"]);
}

#[tokio::test]
async fn read_only_refusals_come_first_and_reads_still_work() {
    let server = TestServer::start_with(ServerOptions {
        read_only: true,
        max_file_size: 10,
        ..ServerOptions::default()
    })
    .await;
    std::fs::create_dir(server.path("d")).unwrap();
    std::fs::write(server.path("d/f"), b"kept").unwrap();
    let mut client = Client::connect(server.addr).await;
    for line in [
        "MKDIR new",
        "MKDIR missing/new",
        "RMDIR d",
        "RENAME d/f\tg",
        "RENAME missing\tg",
        "DELETE d/f",
        "STORE 1 d/g",
        "STORE 100 missing/g",
        "RESUME 1 d/g",
    ] {
        let reply = client.command(line).await;
        assert_eq!(
            (reply.code, reply.text.as_str()),
            (550, "Read-only"),
            "{line}"
        );
    }
    assert_eq!(client.command("MKDIR ../x").await.code, 553, "553 first");
    assert_eq!(client.command("STORE x d/g").await.code, 501, "501 first");
    assert_eq!(client.read(0, 2, "d/f").await.unwrap(), b"ke");
    assert_eq!(client.command("STAT d/f").await.code, 213);
    assert_eq!(client.names().await, vec!["d"]);
}

#[tokio::test]
async fn store_refusals_in_the_contract_order() {
    let server = TestServer::start_with(ServerOptions {
        max_file_size: 10,
        ..ServerOptions::default()
    })
    .await;
    std::fs::create_dir(server.path("d")).unwrap();
    let mut client = Client::connect(server.addr).await;
    // 550 (parent missing, a directory) before 552 (over the limit).
    assert_eq!(client.command("STORE 100 missing/f").await.code, 550);
    assert_eq!(client.command("STORE 100 d").await.code, 550);
    assert_eq!(client.command("STORE 100 d/f").await.code, 552);
    assert_eq!(client.store("d/f", b"fits").await.code, 226);
}

#[tokio::test]
async fn login_verbs_without_accounts() {
    let server = TestServer::start().await;
    let mut client = Client::connect(server.addr).await;
    // PASS before USER: no accounts, so nothing to sequence.
    let pass = client.command("PASS anything").await;
    assert_eq!((pass.code, pass.text.as_str()), (230, "No login required"));
    let user = client.command("USER alice").await;
    assert_eq!((user.code, user.text.as_str()), (230, "No login required"));
    assert_eq!(client.command("PASS secret").await.code, 230);
    assert_eq!(client.command("USER").await.code, 501);
    assert_eq!(client.command("PASS").await.code, 501);
    assert_eq!(client.list().await, vec![]);
}

#[tokio::test]
async fn resume_without_kept_bytes_starts_from_zero() {
    let server = TestServer::start().await;
    std::fs::create_dir(server.path("d")).unwrap();
    let mut client = Client::connect(server.addr).await;
    let start = client.command("RESUME 5 d/r").await;
    assert_eq!((start.code, start.text.as_str()), (150, "5 bytes"));
    client.send_raw(b"hello").await;
    assert_eq!(client.reply().await.text, "Stored 5 bytes");
    assert_eq!(std::fs::read(server.path("d/r")).unwrap(), b"hello");
}
