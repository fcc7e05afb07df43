//! Uploads are atomic and leave no trace when cut off; the root is prepared
//! on start; read-only mode and the size limit.

mod raw_client;

use ferry_testkit::{ServerOptions, TestServer, STEP_TIMEOUT};
use raw_client::Client;
use std::time::Duration;

#[tokio::test]
async fn a_cut_off_store_leaves_nothing_and_keeps_the_old_file() {
    let server = TestServer::start().await;
    std::fs::write(server.path("keep.txt"), b"old content").unwrap();
    let mut client = Client::connect(server.addr).await;
    for name in ["keep.txt", "new.txt"] {
        let start = client.command(&format!("STORE 100000 {name}")).await;
        assert_eq!(start.code, 150);
        client.send_raw(&[b'x'; 5000]).await;
        // The upload is in progress: a temporary file exists, nothing is listed.
        let mut observer = Client::connect(server.addr).await;
        assert_eq!(observer.names().await, vec!["keep.txt"]);
        assert_eq!(observer.retrieve("keep.txt").await.unwrap(), b"old content");
        assert_eq!(server.temp_entries().len(), 1);
        drop(client);
        server.wait_no_temp_files().await;
        assert_eq!(observer.names().await, vec!["keep.txt"]);
        assert_eq!(observer.retrieve("keep.txt").await.unwrap(), b"old content");
        client = Client::connect(server.addr).await;
    }
}

#[tokio::test]
async fn two_concurrent_stores_of_one_name_leave_one_complete_upload() {
    let server = TestServer::start().await;
    const LEN: usize = 1 << 20;
    const CHUNK: usize = 64 * 1024;
    // Of two sizes: a second upload of the same path *and* size would be
    // the same upload, refused with 450 (tests/resume.rs).
    const OTHER_LEN: usize = LEN - CHUNK;
    let mut first = Client::connect(server.addr).await;
    let mut second = Client::connect(server.addr).await;
    assert_eq!(first.command(&format!("STORE {LEN} same")).await.code, 150);
    assert_eq!(
        second
            .command(&format!("STORE {OTHER_LEN} same"))
            .await
            .code,
        150
    );
    // Interleave the two uploads chunk by chunk.
    let chunk = [b'a'; CHUNK];
    let other = [b'b'; CHUNK];
    for i in 0..LEN / CHUNK {
        first.send_raw(&chunk).await;
        if i < OTHER_LEN / CHUNK {
            second.send_raw(&other).await;
        }
    }
    assert_eq!(first.reply().await.code, 226);
    assert_eq!(second.reply().await.code, 226);
    let content = std::fs::read(server.path("same")).unwrap();
    assert!(
        (content.len() == LEN && content.iter().all(|&b| b == b'a'))
            || (content.len() == OTHER_LEN && content.iter().all(|&b| b == b'b')),
        "the file mixes both uploads"
    );
    assert!(server.temp_entries().is_empty());
    assert!(server.kept_entries().is_empty());
}

#[tokio::test]
async fn a_reader_gets_the_old_content_whole_while_the_file_is_replaced() {
    let server = TestServer::start().await;
    let old: Vec<u8> = (0..8 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(server.path("big"), &old).unwrap();
    let mut reader = Client::connect(server.addr).await;
    let start = reader.command("RETRIEVE big").await;
    assert_eq!(start.data_len(), Some(old.len() as u64));
    let head = reader.data(1000).await;
    let mut writer = Client::connect(server.addr).await;
    assert_eq!(writer.store("big", b"new and short").await.code, 226);
    let mut received = head;
    received.extend(reader.data(old.len() as u64 - 1000).await);
    assert_eq!(reader.reply().await.code, 226);
    assert!(received == old, "the reader got a mix");
    assert_eq!(reader.retrieve("big").await.unwrap(), b"new and short");
}

#[tokio::test]
async fn a_file_that_shrinks_during_retrieve_closes_the_connection() {
    use tokio::io::AsyncReadExt;
    let server = TestServer::start().await;
    let len: u64 = 64 << 20;
    std::fs::write(server.path("shrinking"), vec![9u8; len as usize]).unwrap();
    let mut client = Client::connect(server.addr).await;
    let start = client.command("RETRIEVE shrinking").await;
    assert_eq!(start.data_len(), Some(len));
    // Truncating the same file (not replacing it) shortens what the open
    // handle can still read.
    std::fs::OpenOptions::new()
        .write(true)
        .open(server.path("shrinking"))
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let mut received = 0u64;
    let mut buffer = vec![0; 1 << 20];
    loop {
        let read = tokio::time::timeout(STEP_TIMEOUT, client.stream.read(&mut buffer))
            .await
            .expect("the server neither sent the bytes nor closed");
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n as u64,
        }
    }
    assert!(
        received < len,
        "got all {received} bytes of a truncated file"
    );
}

#[tokio::test]
async fn max_file_size_is_checked_before_any_data() {
    let server = TestServer::start_with(ServerOptions {
        max_file_size: 10,
        ..ServerOptions::default()
    })
    .await;
    let mut client = Client::connect(server.addr).await;
    let refused = client.command("STORE 11 big").await;
    assert_eq!(refused.code, 552);
    // The client sends nothing after a refusal; the next command works.
    assert_eq!(client.store("fits", b"0123456789").await.code, 226);
    assert_eq!(
        client.command("STORE 18446744073709551615 huge").await.code,
        552
    );
    assert_eq!(client.names().await, vec!["fits"]);
}

#[tokio::test]
async fn read_only_refuses_store_and_delete() {
    let server = TestServer::start_with(ServerOptions {
        read_only: true,
        ..ServerOptions::default()
    })
    .await;
    std::fs::write(server.path("file"), b"data").unwrap();
    let mut client = Client::connect(server.addr).await;
    let store = client.command("STORE 4 other").await;
    assert_eq!((store.code, store.text.as_str()), (550, "Read-only"));
    let store_over = client.command("STORE 4 file").await;
    assert_eq!(store_over.code, 550);
    let delete = client.command("DELETE file").await;
    assert_eq!((delete.code, delete.text.as_str()), (550, "Read-only"));
    // Name checks still come first.
    assert_eq!(client.command("DELETE ../x").await.code, 553);
    assert_eq!(client.retrieve("file").await.unwrap(), b"data");
    assert_eq!(client.command("HASH file").await.code, 213);
    assert_eq!(client.names().await, vec!["file"]);
    assert_eq!(std::fs::read(server.path("file")).unwrap(), b"data");
    assert!(server.temp_entries().is_empty());
}

#[tokio::test]
async fn first_run_creates_the_root_with_sample_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("new").join("root");
    let server = TestServer::start_in(dir, root, ServerOptions::default()).await;
    let mut client = Client::connect(server.addr).await;
    let mut expected: Vec<_> = ferry_server::SAMPLE_FILES.iter().map(|(n, _)| *n).collect();
    expected.sort();
    assert_eq!(client.names().await, expected);
    assert!(expected.contains(&"serverTestFile.txt"));
    for (name, content) in ferry_server::SAMPLE_FILES {
        assert_eq!(client.retrieve(name).await.unwrap(), content.as_bytes());
    }
}

#[tokio::test]
async fn crash_leftovers_are_removed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let temp = root.join(ferry_server::TEMP_DIR);
    std::fs::create_dir_all(temp.join("half-written-dir")).unwrap();
    std::fs::write(temp.join("upload-1-0"), b"partial").unwrap();
    std::fs::write(temp.join("half-written-dir/x"), b"partial").unwrap();
    std::fs::write(root.join("kept"), b"kept").unwrap();
    let server = TestServer::start_in(dir, root, ServerOptions::default()).await;
    assert!(server.temp_entries().is_empty());
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.names().await, vec!["kept"]);
}

#[tokio::test]
async fn a_root_that_is_a_file_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("not-a-dir");
    std::fs::write(&root, b"x").unwrap();
    let config = ferry_server::Config::new(&root);
    let error = ferry_server::Server::bind(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ferry_server::ServerError::Root { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("not-a-dir"), "{error}");
}

#[tokio::test]
async fn an_upload_that_stalls_is_ended_by_the_idle_timeout() {
    let server = TestServer::start_with(ServerOptions {
        idle_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    })
    .await;
    std::fs::write(server.path("keep"), b"old").unwrap();
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.command("STORE 10 keep").await.code, 150);
    client.send_raw(b"abc").await;
    let reply = client.reply().await;
    assert_eq!((reply.code, reply.text.as_str()), (421, "Idle timeout"));
    client.expect_closed().await;
    server.wait_no_temp_files().await;
    assert_eq!(std::fs::read(server.path("keep")).unwrap(), b"old");
    let mut other = Client::connect(server.addr).await;
    assert_eq!(other.names().await, vec!["keep"]);
}
