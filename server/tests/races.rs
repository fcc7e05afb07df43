//! Paths that change under the server while it serves them: a directory
//! swapped for a link to the outside over and over while requests run
//! through it, and a file renamed (and its name taken over) while a reader
//! is still streaming it.

mod raw_client;

use ferry_testkit::TestServer;
use raw_client::Client;
use rustix::fs::{RenameFlags, CWD};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const INSIDE: &[u8] = b"inside the root";
const SENTINEL: &[u8] = b"outside the root";

/// Requests per command kind while the directory flips.
const ROUNDS: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_swapped_for_a_link_never_leads_outside() {
    let server = TestServer::start().await;
    let outside = server.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("f"), SENTINEL).unwrap();
    std::fs::write(outside.join("only-outside"), SENTINEL).unwrap();
    std::fs::create_dir(server.path("d")).unwrap();
    std::fs::write(server.path("d/f"), INSIDE).unwrap();
    std::os::unix::fs::symlink(&outside, server.path("spare")).unwrap();

    // Exchanges `d` (a directory) and `spare` (a link out) atomically, as
    // fast as it can, until the requests are done (or a time bound).
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = Arc::clone(&stop);
        let (d, spare) = (server.path("d"), server.path("spare"));
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(30) {
                rustix::fs::renameat_with(CWD, &d, CWD, &spare, RenameFlags::EXCHANGE).unwrap();
                swaps += 1;
            }
            // Leave the real directory at `d`.
            if std::fs::symlink_metadata(&d)
                .unwrap()
                .file_type()
                .is_symlink()
            {
                rustix::fs::renameat_with(CWD, &d, CWD, &spare, RenameFlags::EXCHANGE).unwrap();
            }
            swaps
        })
    };

    let mut client = Client::connect(server.addr).await;
    let (mut served, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        match client.retrieve("d/f").await {
            Ok(content) => {
                assert_eq!(content, INSIDE, "RETRIEVE escaped the root");
                served += 1;
            }
            Err(reply) => {
                assert_eq!(reply.code, 550, "{reply}");
                refused += 1;
            }
        }
        match client.read(0, 100, "d/f").await {
            Ok(content) => assert_eq!(content, INSIDE, "READ escaped the root"),
            Err(reply) => assert_eq!(reply.code, 550, "{reply}"),
        }
        let list = client.command("LIST d").await;
        if list.code == 150 {
            let body = client.data(list.data_len().unwrap()).await;
            assert_eq!(client.reply().await.code, 226);
            let body = String::from_utf8(body).unwrap();
            assert!(!body.contains("only-outside"), "LIST escaped: {body}");
        } else {
            assert_eq!(list.code, 550, "{list}");
        }
        let stat = client.command("STAT d/only-outside").await;
        assert_eq!(stat.code, 550, "STAT escaped: {stat}");
        let name = format!("d/new-{round}");
        let stored = client.store(&name, b"x").await;
        assert!(matches!(stored.code, 226 | 550), "{stored}");
        let made = client.command(&format!("MKDIR d/dir-{round}")).await;
        assert!(matches!(made.code, 257 | 550), "{made}");
        let deleted = client.command("DELETE d/only-outside").await;
        assert_eq!(deleted.code, 550, "DELETE escaped: {deleted}");
        let renamed = client.command("RENAME d/f\td/f").await;
        assert!(matches!(renamed.code, 250 | 550), "{renamed}");
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 0);
    // Nothing was written, removed or replaced outside.
    let mut outside_names: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    outside_names.sort();
    assert_eq!(outside_names, vec!["f", "only-outside"]);
    assert_eq!(std::fs::read(outside.join("f")).unwrap(), SENTINEL);
    assert_eq!(
        std::fs::read(outside.join("only-outside")).unwrap(),
        SENTINEL
    );
    assert_eq!(std::fs::read(server.path("d/f")).unwrap(), INSIDE);
    eprintln!("{swaps} swaps; RETRIEVE served {served}, refused {refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_gets_the_old_file_whole_while_it_is_renamed_and_replaced() {
    let server = TestServer::start().await;
    std::fs::create_dir(server.path("d")).unwrap();
    // Larger than the socket buffers, so the server is mid-stream when the
    // reader pauses.
    let old = ferry_testkit::data::noise(24 * 1024 * 1024, 7);
    std::fs::write(server.path("d/big"), &old).unwrap();
    std::fs::write(server.path("d/newer"), b"the new content").unwrap();

    let mut reader = Client::connect(server.addr).await;
    let start = reader.command("RETRIEVE d/big").await;
    assert_eq!(start.code, 150);
    let len = start.data_len().unwrap();
    assert_eq!(len, old.len() as u64);
    let head = reader.data(1024 * 1024).await;

    let mut other = Client::connect(server.addr).await;
    assert_eq!(other.command("RENAME d/big\td/moved").await.code, 250);
    assert_eq!(other.command("RENAME d/newer\td/big").await.code, 250);
    assert_eq!(other.command("RENAME d\te").await.code, 250);
    assert_eq!(other.retrieve("e/big").await.unwrap(), b"the new content");

    let rest = reader.data(len - head.len() as u64).await;
    assert_eq!(reader.reply().await.code, 226);
    let mut whole = head;
    whole.extend_from_slice(&rest);
    assert!(whole == old, "the reader got the old content, complete");
    // And READ from the moved file still sees the old bytes.
    assert_eq!(reader.read(10, 5, "e/moved").await.unwrap(), &old[10..15]);
}
