//! The protocol against `ferry-server` serving an object store (`--store
//! memory://…`, OpenDAL's memory service in this process): each command's
//! behaviour over real sockets, and two servers on one store (a file
//! stored through one is read through the other; an upload cut off on one
//! is resumed on the other). tests/swift_store.rs runs the same against a
//! real Swift.

mod raw_client;

use ferry_server::{Config, Server, StoreSpec};
use raw_client::Client;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;

/// A server in this process on a memory store; stops when dropped.
struct StoreServer {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl StoreServer {
    async fn start(store: &str) -> StoreServer {
        let mut config = Config::new("/nonexistent/unused-with-a-store");
        config.store = Some(StoreSpec::parse(store).unwrap());
        config.resume_window = Duration::from_secs(600);
        let server = Server::bind(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        StoreServer { addr, _stop: stop }
    }

    async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }
}

fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "memory://protocol-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Content that differs at every offset within a block.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) % 256) as u8).collect()
}

fn listed(entries: &[ferry_proto::ListingEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| match entry.size() {
            Some(size) => format!("{} {size}", entry.name),
            None => format!("{}/", entry.name),
        })
        .collect()
}

#[tokio::test]
async fn every_command_on_the_store() {
    let server = StoreServer::start(&unique()).await;
    let mut client = server.client().await;
    assert!(
        client.list().await.is_empty(),
        "a new store is empty: no sample files"
    );
    let data = content(300_000);
    assert_eq!(client.store("a.txt", &data).await.code, 226);
    assert_eq!(client.command("MKDIR a").await.code, 257);
    assert_eq!(client.store("a0", b"").await.code, 226);
    assert_eq!(listed(&client.list().await), ["a.txt 300000", "a/", "a0 0"]);
    assert_eq!(client.retrieve("a.txt").await.unwrap(), data);
    assert_eq!(
        client.read(1000, 5000, "a.txt").await.unwrap(),
        &data[1000..6000]
    );
    assert_eq!(
        client.read(299_990, 100, "a.txt").await.unwrap(),
        &data[299_990..]
    );
    assert!(client.read(300_000, 1, "a.txt").await.unwrap().is_empty());
    assert_eq!(
        client.read(300_001, 1, "a.txt").await.unwrap_err().code,
        501
    );
    let stat = client.command("STAT a.txt").await;
    assert_eq!(stat.code, 213);
    assert!(stat.text.starts_with("file 300000 "), "{stat}");
    let stat = client.command("STAT a").await;
    assert!(stat.text.starts_with("dir - "), "{stat}");
    let hash = client.command("HASH a.txt").await;
    assert_eq!(
        hash.text,
        format!("SHA-256 {}", hex::encode(Sha256::digest(&data)))
    );
    // Refusals, as on disk.
    assert_eq!(client.command("STAT nope").await.code, 550);
    assert_eq!(client.retrieve("a").await.unwrap_err().code, 550);
    assert_eq!(client.command("STORE 3 missing/x").await.code, 550);
    assert_eq!(
        client.command("STORE 3 a").await.code,
        550,
        "a directory in the way"
    );
    assert_eq!(client.command("MKDIR a").await.code, 550);
    assert_eq!(client.command("LIST a.txt").await.code, 550);
    assert_eq!(client.command("LIST missing").await.code, 550);
    // A directory and what is in it.
    assert_eq!(client.store("a/inner", b"in").await.code, 226);
    assert_eq!(listed(&client.list_dir("a").await), ["inner 2"]);
    assert_eq!(client.command("RMDIR a").await.code, 550, "not empty");
    assert_eq!(client.command("DELETE a").await.code, 550, "a directory");
    assert_eq!(client.command("DELETE a/inner").await.code, 250);
    assert_eq!(client.command("DELETE a/inner").await.code, 550);
    assert_eq!(client.command("RMDIR a").await.code, 250);
    assert_eq!(client.command("RMDIR a").await.code, 550);
    // RENAME of a file, onto a file, refused for a directory.
    assert_eq!(client.command("RENAME a.txt\tb.txt").await.code, 250);
    assert_eq!(client.retrieve("a.txt").await.unwrap_err().code, 550);
    assert_eq!(client.retrieve("b.txt").await.unwrap(), data);
    assert_eq!(client.command("RENAME a0\tb.txt").await.code, 250);
    assert!(client.retrieve("b.txt").await.unwrap().is_empty());
    assert_eq!(client.command("MKDIR d").await.code, 257);
    assert_eq!(client.command("MKDIR d/sub").await.code, 257);
    assert_eq!(client.store("d/sub/f", b"f").await.code, 226);
    assert_eq!(client.command("RENAME d\te").await.code, 250);
    assert_eq!(client.command("STAT d").await.code, 550);
    assert_eq!(client.retrieve("e/sub/f").await.unwrap(), b"f");
    assert_eq!(client.command("RENAME e\td").await.code, 250);
    assert_eq!(
        client.command("RENAME d\td/x").await.code,
        550,
        "into itself"
    );
    assert_eq!(
        client.command("RENAME b.txt\td").await.code,
        550,
        "onto a directory"
    );
    assert_eq!(listed(&client.list().await), ["b.txt 0", "d/"]);
    // The staging area is out of reach.
    for line in [
        "LIST .ferry-tmp",
        "STAT .ferry-tmp",
        "STAT .ferry-tmp/kept",
        "RETRIEVE .ferry-tmp/x",
        "MKDIR .ferry-tmp",
        "STORE 1 .ferry-tmp/x",
        "DELETE .ferry-tmp/kept",
    ] {
        assert_eq!(client.command(line).await.code, 550, "{line}");
    }
    assert_eq!(client.command("QUIT").await.code, 221);
}

#[tokio::test]
async fn a_large_file_round_trips_byte_exact() {
    let server = StoreServer::start(&unique()).await;
    let mut client = server.client().await;
    let data = content(20 * 1024 * 1024 + 3);
    assert_eq!(client.store("big", &data).await.code, 226);
    assert_eq!(client.retrieve("big").await.unwrap(), data);
    let hash = client.command("HASH big").await;
    assert_eq!(
        hash.text,
        format!("SHA-256 {}", hex::encode(Sha256::digest(&data)))
    );
}

#[tokio::test]
async fn a_listing_of_many_files_lists_each_once_in_order() {
    let server = StoreServer::start(&unique()).await;
    let mut client = server.client().await;
    assert_eq!(client.command("MKDIR many").await.code, 257);
    let count = 2000;
    for index in 0..count {
        let reply = client.store(&format!("many/f{index:05}"), b"x").await;
        assert_eq!(reply.code, 226);
    }
    assert_eq!(
        client.command("MKDIR many/f00010").await.code,
        550,
        "a file is there"
    );
    assert_eq!(client.command("MKDIR many/f0001").await.code, 257);
    let entries = client.list_dir("many").await;
    assert_eq!(entries.len(), count + 1);
    let mut sorted = entries.clone();
    sorted.sort_by(ferry_proto::ListingEntry::listing_order);
    assert_eq!(entries, sorted, "in the listing's order");
    // "f00009" < "f0001/" < "f00010": the directory's '/' sorts among them.
    assert_eq!(
        entries[10].name.as_str(),
        "f0001",
        "a directory among files"
    );
    assert!(entries[10].is_dir());
}

#[tokio::test]
async fn a_file_stored_through_one_server_is_read_through_another() {
    let store = unique();
    let (a, b) = (
        StoreServer::start(&store).await,
        StoreServer::start(&store).await,
    );
    let data = content(1_000_000);
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    assert_eq!(on_a.command("MKDIR shared").await.code, 257);
    assert_eq!(on_a.store("shared/f", &data).await.code, 226);
    assert_eq!(
        listed(&on_b.list_dir("shared").await),
        ["f 1000000"],
        "no stale listing after 226"
    );
    assert_eq!(on_b.retrieve("shared/f").await.unwrap(), data);
    assert_eq!(on_b.command("DELETE shared/f").await.code, 250);
    assert_eq!(on_a.retrieve("shared/f").await.unwrap_err().code, 550);
}

#[tokio::test]
async fn an_upload_cut_on_one_server_is_resumed_on_another() {
    let store = unique();
    let (a, b) = (
        StoreServer::start(&store).await,
        StoreServer::start(&store).await,
    );
    let data = content(3 * 1024 * 1024 + 77);
    let cut_at = 1024 * 1024 + 5000;
    let mut on_a = a.client().await;
    let start = on_a.command(&format!("STORE {} f", data.len())).await;
    assert_eq!(start.code, 150);
    on_a.send_raw(&data[..cut_at]).await;
    // Invisible while it is in progress.
    let mut on_b = b.client().await;
    assert_eq!(on_b.command("STAT f").await.code, 550);
    drop(on_a);
    // A keeps what arrived once it sees the connection gone.
    let mut resumed = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut probe = b.client().await;
        let start = probe.command(&format!("RESUME {} f", data.len())).await;
        assert_eq!(start.code, 150, "{start}");
        let rest = start.data_len().unwrap() as usize;
        if rest < data.len() {
            resumed = Some((probe, rest));
            break;
        }
        // Nothing kept yet: this RESUME started from zero; give it up.
        drop(probe);
    }
    let (mut on_b, rest) = resumed.expect("the cut-off upload was kept in the store");
    assert_eq!(
        rest,
        data.len() - cut_at,
        "every byte that arrived was kept"
    );
    on_b.send_raw(&data[data.len() - rest..]).await;
    let done = on_b.reply().await;
    assert_eq!(
        (done.code, done.text.clone()),
        (226, format!("Stored {} bytes", data.len()))
    );
    let mut on_a = a.client().await;
    assert_eq!(
        on_a.retrieve("f").await.unwrap(),
        data,
        "byte for byte through A"
    );
    let again = on_a.command(&format!("RESUME {} f", data.len())).await;
    assert_eq!(
        again.data_len(),
        Some(data.len() as u64),
        "nothing kept after it completed"
    );
}

/// The `450` of an upload in progress is known per server: two uploads
/// of the same path and size by the same account through two servers on
/// one store run at once, each under its own kept parts. Both cut off
/// (after different bytes), a RESUME continues the one cut off last, all
/// it kept and nothing of the other, and completing it gives that upload
/// byte for byte.
#[tokio::test]
async fn two_uploads_of_one_path_at_once_through_two_servers_are_kept_apart() {
    let store = unique();
    let (a, b) = (
        StoreServer::start(&store).await,
        StoreServer::start(&store).await,
    );
    let size = 9 * 1024 * 1024 + 13;
    let first = content(size);
    let second: Vec<u8> = first.iter().map(|byte| byte ^ 0x5a).collect();
    let (cut_first, cut_second) = (5 * 1024 * 1024 + 3, 6 * 1024 * 1024 + 11);
    let mut on_a = a.client().await;
    let mut on_b = b.client().await;
    assert_eq!(on_a.command(&format!("STORE {size} f")).await.code, 150);
    assert_eq!(on_b.command(&format!("STORE {size} f")).await.code, 150);
    on_a.send_raw(&first[..cut_first]).await;
    // A's first 4 MiB part is in the store before B writes its own.
    tokio::time::sleep(Duration::from_secs(1)).await;
    on_b.send_raw(&second[..cut_second]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(on_a);
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(on_b);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut client = a.client().await;
    let resume = client.command(&format!("RESUME {size} f")).await;
    assert_eq!(resume.code, 150, "{resume}");
    let kept = size - resume.data_len().unwrap() as usize;
    assert_eq!(
        kept, cut_second,
        "the upload cut off last is continued, every byte it kept"
    );
    client.send_raw(&second[kept..]).await;
    let done = client.reply().await;
    assert_eq!(done.code, 226, "{done}");
    assert_eq!(
        client.retrieve("f").await.unwrap(),
        second,
        "byte for byte that upload, nothing of the other"
    );
    let again = client.command(&format!("RESUME {size} f")).await;
    assert_eq!(
        again.data_len(),
        Some(size as u64),
        "nothing of either kept after it completed"
    );
}

#[tokio::test]
async fn the_same_upload_twice_at_once_gets_450() {
    let server = StoreServer::start(&unique()).await;
    let mut first = server.client().await;
    assert_eq!(first.command("STORE 10 f").await.code, 150);
    first.send_raw(b"12345").await;
    let mut second = server.client().await;
    assert_eq!(second.command("RESUME 10 f").await.code, 450);
    first.send_raw(b"67890").await;
    assert_eq!(first.reply().await.code, 226);
    assert_eq!(second.retrieve("f").await.unwrap(), b"1234567890");
}

/// The FTP door serves the store too (tests/ftp_store.rs has the clients
/// and the rules on a real Swift): a file put over FTP is read over the
/// Ferry protocol, and the other way round.
#[tokio::test]
async fn the_ftp_door_serves_the_store() {
    let mut config = Config::new("/nonexistent/unused-with-a-store");
    config.store = Some(StoreSpec::parse(&unique()).unwrap());
    config.ftp = Some(ferry_server::FtpListener::new(
        "127.0.0.1:0".parse().unwrap(),
    ));
    let server = Server::bind(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (ferry, ftp_addr) = (server.local_addr(), server.ftp_addr().unwrap());
    let (_stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let mut ftp = suppaftp::tokio::AsyncFtpStream::connect(ftp_addr)
        .await
        .unwrap();
    ftp.login("anonymous", "x").await.unwrap();
    ftp.transfer_type(suppaftp::types::FileType::Binary)
        .await
        .unwrap();
    let data = content(300_000);
    ftp.put_file("up", &mut &data[..]).await.unwrap();
    let mut client = Client::connect(ferry).await;
    assert_eq!(client.retrieve("up").await.unwrap(), data);
    assert_eq!(
        client.store("down", b"from the Ferry protocol").await.code,
        226
    );
    let mut stream = ftp.retr_as_stream("down").await.unwrap();
    let mut bytes = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut bytes)
        .await
        .unwrap();
    stream.finish().await.unwrap();
    assert_eq!(bytes, b"from the Ferry protocol");
    assert_eq!(ftp.nlst(None).await.unwrap(), ["down", "up"]);
    ftp.quit().await.unwrap();
}
