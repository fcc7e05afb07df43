//! Kept partial uploads and RESUME (docs/PROTOCOL.md §3.3) over real
//! sockets: what a cut-off upload keeps, that RESUME sends only the rest
//! and the file comes out byte for byte, what discards the kept bytes,
//! the window's end, `450`, and a server killed with SIGKILL between (and
//! during) the two halves.

mod raw_client;

use ferry_testkit::{
    kept_entries, kept_records, Anonymous, ChildProcess, LoginOptions, ServerOptions, TestAccount,
    TestServer,
};
use raw_client::Client;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_ferry-server");

/// Deterministic file content that differs at every offset within a block
/// (so a byte taken from the wrong place shows).
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) % 256) as u8).collect()
}

/// Starts `STORE` (or `RESUME`) of `data.len()` bytes, sends `data[from..to]`,
/// then goes away as a killed client does (the socket closed, every byte
/// sent delivered first).
async fn cut_off(addr: std::net::SocketAddr, verb: &str, path: &str, data: &[u8], to: usize) {
    let mut client = Client::connect(addr).await;
    let start = client
        .command(&format!("{verb} {} {path}", data.len()))
        .await;
    assert_eq!(start.code, 150, "{start}");
    let from = match verb {
        "STORE" => 0,
        _ => data.len() - usize::try_from(start.data_len().unwrap()).unwrap(),
    };
    client.send_raw(&data[from..to]).await;
    drop(client);
}

/// `RESUME` of `data`: checks that the server asks for exactly the last
/// `rest` bytes, sends exactly those and nothing more, and that the upload
/// completes (the connection still in step afterwards).
async fn resume(client: &mut Client, path: &str, data: &[u8], rest: usize) {
    let start = client
        .command(&format!("RESUME {} {path}", data.len()))
        .await;
    assert_eq!(
        (start.code, start.text.clone()),
        (150, format!("{rest} bytes")),
        "RESUME {path}"
    );
    client.send_raw(&data[data.len() - rest..]).await;
    let done = client.reply().await;
    assert_eq!(
        (done.code, done.text),
        (226, format!("Stored {} bytes", data.len()))
    );
    assert_eq!(client.command("NOOP").await.code, 200, "no byte left over");
}

/// `RESUME` of `size` bytes of `path` once the connection that was cut off
/// has ended its upload (until then: `450`); returns the bytes asked for.
async fn resume_when_free(client: &mut Client, path: &str, size: usize) -> usize {
    let started = Instant::now();
    loop {
        let start = client.command(&format!("RESUME {size} {path}")).await;
        if start.code == 150 {
            return usize::try_from(start.data_len().unwrap()).unwrap();
        }
        assert_eq!(start.code, 450, "{start}");
        assert!(started.elapsed() < Duration::from_secs(20), "still 450");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_killed_client_resumes_with_only_the_rest_and_the_file_is_exact() {
    let server = TestServer::start().await;
    let data = content(3 << 20);
    server.put_file("f.bin", b"old content");
    cut_off(server.addr, "STORE", "f.bin", &data, 1_234_567).await;
    server.wait_kept(1).await;
    // Kept out of sight: the old file is intact, nothing else is listed or
    // reachable, and the staging area holds only the kept upload's two files.
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.names().await, vec!["f.bin"]);
    assert_eq!(client.retrieve("f.bin").await.unwrap(), b"old content");
    assert_eq!(server.temp_entries(), Vec::<String>::new());
    assert_eq!(
        server.kept_entries().len(),
        2,
        "{:?}",
        server.kept_entries()
    );
    assert_eq!(client.command("LIST .ferry-tmp/kept").await.code, 550);

    // Cut off a second time, during the RESUME: the kept part grows.
    cut_off(server.addr, "RESUME", "f.bin", &data, 2_000_000).await;
    let rest = resume_when_free(&mut client, "f.bin", data.len()).await;
    assert_eq!(rest, data.len() - 2_000_000);
    client.send_raw(&data[2_000_000..]).await;
    assert_eq!(client.reply().await.code, 226);
    assert!(
        server.file("f.bin").unwrap() == data,
        "the file is not exact"
    );
    assert!(
        server.kept_entries().is_empty(),
        "a completed upload keeps nothing"
    );
    assert_eq!(server.temp_entries(), Vec::<String>::new());
    // Nothing kept any more: a RESUME starts from zero.
    resume(&mut client, "f.bin", b"xyz", 3).await;
}

#[tokio::test]
async fn a_reset_and_an_idle_timeout_keep_what_arrived() {
    let server = TestServer::start_with(ServerOptions {
        idle_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    })
    .await;
    let data = content(1 << 20);
    // A reset (SO_LINGER 0): whatever the server had read is kept, exactly.
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let mut client = Client {
        stream: tokio::io::BufReader::new(stream),
    };
    assert_eq!(client.reply().await.code, 220);
    assert_eq!(
        client
            .command(&format!("STORE {} reset", data.len()))
            .await
            .code,
        150
    );
    client.send_raw(&data[..300_000]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // With a zero linger the close is a reset, and a close never blocks.
    #[allow(deprecated)]
    client
        .stream
        .get_ref()
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(client);
    server.wait_kept(1).await;
    let mut client = Client::connect(server.addr).await;
    let start = client
        .command(&format!("RESUME {} reset", data.len()))
        .await;
    let rest = usize::try_from(start.data_len().unwrap()).unwrap();
    assert!(rest < data.len() && rest >= data.len() - 300_000, "{start}");
    client.send_raw(&data[data.len() - rest..]).await;
    assert_eq!(client.reply().await.code, 226);
    assert!(server.file("reset").unwrap() == data);

    // Silent for the idle timeout: 421, and the bytes are kept.
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.command("STORE 10 idle").await.code, 150);
    client.send_raw(b"abcd").await;
    let reply = client.reply().await;
    assert_eq!((reply.code, reply.text.as_str()), (421, "Idle timeout"));
    server.wait_kept(1).await;
    let mut client = Client::connect(server.addr).await;
    resume(&mut client, "idle", b"abcdefghij", 6).await;
    assert_eq!(server.file("idle").unwrap(), b"abcdefghij");
}

#[tokio::test]
async fn another_size_and_a_store_start_over_and_discard() {
    let server = TestServer::start().await;
    let data = content(100_000);
    cut_off(server.addr, "STORE", "f", &data, 40_000).await;
    server.wait_kept(1).await;
    let mut client = Client::connect(server.addr).await;
    // Another size: from zero, and the kept bytes are gone at once.
    let other = content(50_000);
    let start = client.command("RESUME 50000 f").await;
    assert_eq!(start.text, "50000 bytes");
    assert_eq!(kept_records(&server.root), 0);
    client.send_raw(&other).await;
    assert_eq!(client.reply().await.code, 226);
    assert!(server.file("f").unwrap() == other);

    // A STORE of the path discards (whatever the size).
    cut_off(server.addr, "STORE", "f", &data, 40_000).await;
    server.wait_kept(1).await;
    let start = client.command("STORE 3 f").await;
    assert_eq!(start.text, "Ready for 3 bytes");
    assert_eq!(kept_records(&server.root), 0);
    client.send_raw(b"abc").await;
    assert_eq!(client.reply().await.code, 226);
    resume(&mut client, "f", &data, data.len()).await;

    // A STORE of the same size discards too: STORE never continues.
    cut_off(server.addr, "STORE", "f", &data, 40_000).await;
    server.wait_kept(1).await;
    assert_eq!(client.store("f", &data).await.code, 226);
    assert!(server.kept_entries().is_empty());
    // A completed upload of the path discards what another size kept.
    cut_off(server.addr, "STORE", "f", &other, 10).await;
    server.wait_kept(1).await;
    assert_eq!(client.store("f", b"done").await.code, 226);
    assert!(server.kept_entries().is_empty());
}

#[tokio::test]
async fn delete_rename_and_rmdir_discard_and_refusals_discard_nothing() {
    let server = TestServer::start().await;
    let data = content(10_000);
    let mut client = Client::connect(server.addr).await;
    let keep = |path: &'static str| {
        let addr = server.addr;
        let data = data.clone();
        async move { cut_off(addr, "STORE", path, &data, 5_000).await }
    };

    // DELETE: refused (no such file) it keeps; done it discards.
    keep("gone").await;
    server.wait_kept(1).await;
    assert_eq!(client.command("DELETE gone").await.code, 550);
    assert_eq!(
        kept_records(&server.root),
        1,
        "a refused DELETE discards nothing"
    );
    server.put_file("gone", b"old");
    assert_eq!(client.command("DELETE gone").await.code, 250);
    assert_eq!(kept_records(&server.root), 0);
    resume(&mut client, "gone", &data, data.len()).await;

    // RENAME from the path, and onto it.
    keep("from").await;
    server.wait_kept(1).await;
    server.put_file("from", b"x");
    assert_eq!(client.command("RENAME from\tmoved").await.code, 250);
    assert_eq!(kept_records(&server.root), 0);
    keep("onto").await;
    server.wait_kept(1).await;
    assert_eq!(client.command("RENAME missing\tonto").await.code, 550);
    assert_eq!(
        kept_records(&server.root),
        1,
        "a refused RENAME discards nothing"
    );
    assert_eq!(client.command("RENAME moved\tonto").await.code, 250);
    assert_eq!(kept_records(&server.root), 0);

    // RENAME of a directory holding it.
    assert_eq!(client.command("MKDIR d").await.code, 257);
    keep("d/f").await;
    server.wait_kept(1).await;
    assert_eq!(client.command("RENAME d\te").await.code, 250);
    assert_eq!(kept_records(&server.root), 0);
    let mut moved = Client::connect(server.addr).await;
    resume(&mut moved, "e/f", &data, data.len()).await;

    // RMDIR: a kept upload never makes a directory non-empty; a refused
    // RMDIR keeps it, a successful one discards it.
    assert_eq!(client.command("MKDIR r").await.code, 257);
    assert_eq!(client.command("MKDIR r/s").await.code, 257);
    keep("r/s/f").await;
    server.wait_kept(1).await;
    server.put_file("r/other", b"x");
    assert_eq!(client.command("RMDIR r").await.code, 550);
    assert_eq!(kept_records(&server.root), 1);
    assert_eq!(client.list_dir("r/s").await, vec![]);
    assert_eq!(client.command("RMDIR r/s").await.code, 250);
    assert_eq!(kept_records(&server.root), 0);
    assert!(server.kept_entries().is_empty());
    assert_eq!(server.temp_entries(), Vec::<String>::new());
}

#[tokio::test]
async fn the_window_ends_and_the_sweep_removes_the_bytes_without_a_request() {
    let server = TestServer::start_with(ServerOptions {
        resume_window: Duration::from_secs(2),
        ..ServerOptions::default()
    })
    .await;
    let data = content(10_000);
    cut_off(server.addr, "STORE", "f", &data, 6_000).await;
    server.wait_kept(1).await;
    let kept_at = Instant::now();
    while !server.kept_entries().is_empty() {
        assert!(
            kept_at.elapsed() < Duration::from_secs(6),
            "still kept: {:?}",
            server.kept_entries()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gone_after = kept_at.elapsed();
    assert!(gone_after >= Duration::from_millis(1500), "{gone_after:?}");
    let mut client = Client::connect(server.addr).await;
    resume(&mut client, "f", &data, data.len()).await;
}

#[tokio::test]
async fn a_zero_window_keeps_nothing() {
    let server = TestServer::start_with(ServerOptions {
        resume_window: Duration::ZERO,
        ..ServerOptions::default()
    })
    .await;
    let data = content(10_000);
    cut_off(server.addr, "STORE", "f", &data, 6_000).await;
    server.wait_no_temp_files().await;
    assert!(server.kept_entries().is_empty());
    let mut client = Client::connect(server.addr).await;
    resume(&mut client, "f", &data, data.len()).await;
}

#[tokio::test]
async fn the_same_upload_on_a_second_connection_gets_450() {
    let server = TestServer::start().await;
    let data = content(100_000);
    cut_off(server.addr, "STORE", "p", &data, 30_000).await;
    server.wait_kept(1).await;
    let mut first = Client::connect(server.addr).await;
    let mut second = Client::connect(server.addr).await;
    let start = first.command("RESUME 100000 p").await;
    assert_eq!(start.text, "70000 bytes");
    for line in ["RESUME 100000 p", "STORE 100000 p"] {
        let reply = second.command(line).await;
        assert_eq!(reply.code, 450, "{line}: {reply}");
    }
    // Earlier failures come first: 553, 552 and 550 before 450.
    assert_eq!(second.command("RESUME 100000 ../p").await.code, 553);
    first.send_raw(&data[30_000..60_000]).await;
    // Cut off again: the 450s discarded nothing.
    drop(first);
    let mut client = Client::connect(server.addr).await;
    let rest = resume_when_free(&mut client, "p", data.len()).await;
    assert_eq!(rest, 40_000);
    client.send_raw(&data[60_000..]).await;
    assert_eq!(client.reply().await.code, 226);
    assert!(server.file("p").unwrap() == data);

    // Without anything kept too: two STOREs of one path and size at once.
    let mut first = Client::connect(server.addr).await;
    assert_eq!(first.command("STORE 3 q").await.code, 150);
    assert_eq!(second.command("STORE 3 q").await.code, 450);
    assert_eq!(second.command("RESUME 3 q").await.code, 450);
    first.send_raw(b"abc").await;
    assert_eq!(first.reply().await.code, 226);
    assert_eq!(second.store("q", b"xyz").await.code, 226);
}

#[tokio::test]
async fn kept_bytes_belong_to_their_account_and_anonymous_sessions_share_one_owner() {
    let server = TestServer::start_with(ServerOptions {
        accounts: Some(vec![
            TestAccount::new("alice", "a-pw"),
            TestAccount::new("bob", "b-pw"),
        ]),
        anonymous: Some(Anonymous::ReadWrite),
        login: LoginOptions {
            delay: Duration::ZERO,
            ..LoginOptions::default()
        },
        ..ServerOptions::default()
    })
    .await;
    let data = content(20_000);
    let as_user = |name: &'static str, password: &'static str| async move {
        let mut client = Client::connect(server.addr).await;
        assert_eq!(client.command(&format!("USER {name}")).await.code, 331);
        assert_eq!(client.command(&format!("PASS {password}")).await.code, 230);
        client
    };
    let mut alice = as_user("alice", "a-pw").await;
    assert_eq!(alice.command("STORE 20000 shared").await.code, 150);
    alice.send_raw(&data[..8_000]).await;
    drop(alice);
    server.wait_kept(1).await;
    // Nobody else continues alice's bytes (and their RESUMEs of the same
    // size discard nothing); two anonymous sessions are one owner.
    let mut anonymous = Client::connect(server.addr).await;
    assert_eq!(
        anonymous.command("RESUME 20000 shared").await.text,
        "20000 bytes"
    );
    anonymous.send_raw(&data[..3_000]).await;
    drop(anonymous);
    server.wait_kept(2).await;
    let mut bob = as_user("bob", "b-pw").await;
    assert_eq!(bob.command("RESUME 20000 shared").await.text, "20000 bytes");
    drop(bob);
    let mut anonymous = Client::connect(server.addr).await;
    let rest = resume_when_free(&mut anonymous, "shared", data.len()).await;
    assert_eq!(rest, 17_000, "anonymous sessions share their kept bytes");
    drop(anonymous);
    let mut alice = as_user("alice", "a-pw").await;
    let rest = resume_when_free(&mut alice, "shared", data.len()).await;
    assert_eq!(rest, 12_000);
    alice.send_raw(&data[8_000..]).await;
    assert_eq!(alice.reply().await.code, 226);
    assert!(server.file("shared").unwrap() == data);
    // The completed upload discarded what the anonymous owner kept (or
    // keeps as its second connection's end is still under way).
    wait_until("nothing kept", || server.kept_entries().is_empty()).await;
}

#[tokio::test]
async fn a_forced_shutdown_keeps_the_uploads_it_cuts_off() {
    let mut server = TestServer::start_with(ServerOptions {
        shutdown_grace: Duration::from_millis(300),
        ..ServerOptions::default()
    })
    .await;
    let data = content(50_000);
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.command("STORE 50000 s").await.code, 150);
    client.send_raw(&data[..20_000]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = server.begin_shutdown();
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("the server did not stop")
        .unwrap()
        .unwrap();
    assert_eq!(kept_records(&server.root), 1, "{:?}", server.kept_entries());
    // A new server on the same root continues it.
    let TestServer { dir, root, .. } = server;
    let server = TestServer::start_in(dir, root, ServerOptions::default()).await;
    let mut client = Client::connect(server.addr).await;
    resume(&mut client, "s", &data, 30_000).await;
    assert!(server.file("s").unwrap() == data);
}

/// The size of the kept data file under `root` (there must be one).
fn kept_data_len(root: &Path) -> Option<u64> {
    let dir = root.join(".ferry-tmp/kept");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .find(|entry| entry.file_name().to_string_lossy().ends_with(".data"))
        .map(|entry| entry.metadata().unwrap().len())
}

/// Kills the process `pid` with SIGKILL, as `kill -9` does.
fn kill_9(pid: u32) {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
}

/// Waits until `ready` holds, for a while.
async fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < Duration::from_secs(20), "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigkill_between_and_during_the_halves_never_gives_wrong_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let data = content(4 << 20);
    let start = || ChildProcess::ferry_server(Path::new(BIN), &root, &[]).unwrap();

    // Killed during the first half: nothing was recorded, nothing kept.
    let server = start();
    let mut client = Client::connect(server.addr).await;
    assert_eq!(
        client
            .command(&format!("STORE {} f", data.len()))
            .await
            .code,
        150
    );
    client.send_raw(&data[..500_000]).await;
    kill_9(server.pid());
    drop(server);
    drop(client);
    let server = start();
    let mut client = Client::connect(server.addr).await;
    assert_eq!(
        client
            .command(&format!("RESUME {} f", data.len()))
            .await
            .text,
        format!("{} bytes", data.len()),
        "after a crash mid-upload RESUME starts from zero"
    );
    drop(client);

    // Cut off cleanly and kept; killed between the halves.
    cut_off(server.addr, "STORE", "g", &data, 1_500_000).await;
    wait_until("the record of g", || kept_records(&root) == 1).await;
    assert_eq!(kept_data_len(&root), Some(1_500_000));
    assert_eq!(kept_entries(&root).len(), 2);
    kill_9(server.pid());
    drop(server);
    let server = start();
    let mut client = Client::connect(server.addr).await;
    // The second half, killed midway: appended bytes not yet recorded.
    let start_reply = client.command(&format!("RESUME {} g", data.len())).await;
    let rest = usize::try_from(start_reply.data_len().unwrap()).unwrap();
    assert_eq!(
        rest,
        data.len() - 1_500_000,
        "continues exactly: {start_reply}"
    );
    client.send_raw(&data[1_500_000..2_500_000]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    kill_9(server.pid());
    drop(server);
    drop(client);

    // After the restart: continues exactly from what was recorded, or from
    // zero; either way the file ends up byte for byte the client's.
    let server = start();
    let mut client = Client::connect(server.addr).await;
    let start_reply = client.command(&format!("RESUME {} g", data.len())).await;
    let rest = usize::try_from(start_reply.data_len().unwrap()).unwrap();
    assert!(
        rest == data.len() - 1_500_000 || rest == data.len(),
        "{start_reply}"
    );
    client.send_raw(&data[data.len() - rest..]).await;
    assert_eq!(client.reply().await.code, 226);
    assert!(
        std::fs::read(root.join("g")).unwrap() == data,
        "wrong bytes"
    );
    assert!(!root.join("f").exists());
    let staging: Vec<String> = std::fs::read_dir(root.join(".ferry-tmp"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(staging, vec!["kept"], "no staging leftovers");
    drop(server);
}
