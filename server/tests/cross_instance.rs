//! Several ferry-server instances on one object store (issue 13, items 3
//! and 5): two server processes on one prefix of one container of a real
//! Swift (`ferry_testkit::Swift`), sharing one accounts file, behind HAProxy
//! in TCP mode that sends each server's proxy listener a PROXY v2 header
//! (so the servers see the client's address, as a deployment would). What
//! must hold is that no instance keeps state of its own that matters: a
//! write through one is seen through the other at once, an upload cut on
//! one resumes on the other, a download cut by one dying finishes on the
//! other, and an edit of the accounts file reaches both without a restart.
//!
//! Each test brings up its own pair of servers and HAProxy on a prefix of
//! its own in the one Swift of this test binary.

mod raw_client;

use ferry_testkit::{
    closed_port, write_accounts_file, BackendState, ChildProcess, Haproxy, HaproxyOptions, Swift,
    TestAccount, STEP_TIMEOUT,
};
use raw_client::Client;
use rustix::process::{kill_process, Pid, Signal};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::io::AsyncReadExt;

const BIN: &str = env!("CARGO_BIN_EXE_ferry-server");

/// Index of each server among HAProxy's back-ends.
const A: usize = 0;
const B: usize = 1;

/// `host:port` of the Swift proxy.
fn swift_proxy(swift: &Swift) -> String {
    let rest = swift.auth_url.trim_start_matches("http://");
    rest.split('/').next().unwrap().to_owned()
}

/// One server process of the pair.
struct Instance {
    process: ChildProcess,
    /// The main listener, for a test that wants this instance and no other.
    addr: SocketAddr,
}

/// Two servers on one prefix of the test container and one accounts file,
/// HAProxy in front of their proxy listeners.
struct Cluster {
    servers: Vec<Instance>,
    haproxy: Haproxy,
    prefix: String,
    accounts: PathBuf,
    _dir: TempDir,
}

impl Cluster {
    /// Starts the pair on `prefix`, with `accounts` in the shared file; the
    /// sessions are anonymous read-write until they log in.
    fn start(prefix: &str, accounts: &[TestAccount]) -> Cluster {
        let swift = Swift::shared();
        let dir = tempfile::tempdir().unwrap();
        let accounts_file = dir.path().join("accounts.toml");
        write_accounts_file(&accounts_file, accounts);
        let key_file = dir.path().join("store.key");
        std::fs::write(&key_file, format!("{}\n", swift.key)).unwrap();
        let store = format!(
            "swift://{}/{}/{prefix}",
            swift_proxy(swift),
            swift.container
        );
        let servers: Vec<(Instance, SocketAddr)> = (0..2)
            .map(|index| {
                let addr = closed_port();
                let proxy = closed_port();
                let args: Vec<String> = [
                    "--store",
                    &store,
                    "--store-user",
                    &swift.user,
                    "--store-key-file",
                    key_file.to_str().unwrap(),
                    "--listen",
                    &addr.to_string(),
                    "--proxy-listen",
                    &proxy.to_string(),
                    "--accounts",
                    accounts_file.to_str().unwrap(),
                    "--anonymous",
                    "read-write",
                    "--login-delay",
                    "0",
                    "--login-limit",
                    "1000",
                    "--max-connections",
                    "2000",
                    "--max-per-address",
                    "2000",
                ]
                .iter()
                .map(|arg| arg.to_string())
                .collect();
                let log = dir.path().join(format!("server-{index}.log"));
                let process = ChildProcess::spawn_logged(Path::new(BIN), &args, addr, &log)
                    .unwrap_or_else(|error| panic!("ferry-server on the store: {error:#}"));
                wait_listening(proxy);
                (Instance { process, addr }, proxy)
            })
            .collect();
        let proxies: Vec<SocketAddr> = servers.iter().map(|(_, proxy)| *proxy).collect();
        let haproxy = Haproxy::start_with(
            &proxies,
            HaproxyOptions {
                send_proxy_v2: true,
            },
        );
        haproxy.wait_for(A, BackendState::Up);
        haproxy.wait_for(B, BackendState::Up);
        // Kept when a test fails, for its server logs.
        let dir = if std::env::var_os("FERRY_KEEP_LOGS").is_some() {
            eprintln!("server logs in {}", dir.keep().display());
            tempfile::tempdir().unwrap()
        } else {
            dir
        };
        Cluster {
            servers: servers.into_iter().map(|(instance, _)| instance).collect(),
            haproxy,
            prefix: prefix.to_owned(),
            accounts: accounts_file,
            _dir: dir,
        }
    }

    /// A session on server `index` itself (its main listener, no HAProxy).
    async fn direct(&self, index: usize) -> Client {
        Client::connect(self.servers[index].addr).await
    }

    /// A session through HAProxy, and the server it landed on.
    async fn through_haproxy(&self) -> (Client, usize) {
        let client = Client::connect(self.haproxy.addr).await;
        let local = client.stream.get_ref().local_addr().unwrap();
        let haproxy = &self.haproxy;
        let index = tokio::task::block_in_place(|| haproxy.backend_of(local));
        (client, index)
    }

    /// A session through HAProxy that landed on server `index` (round
    /// robin: a few tries at most).
    async fn through_haproxy_to(&self, index: usize) -> Client {
        for _ in 0..10 {
            let (client, landed) = self.through_haproxy().await;
            if landed == index {
                return client;
            }
        }
        panic!("HAProxy never sent a connection to server {index}");
    }
}

/// Waits until `addr` accepts TCP connections.
fn wait_listening(addr: SocketAddr) {
    let deadline = Instant::now() + STEP_TIMEOUT;
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Deterministic content, different for each `seed`.
fn content(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + i / 251 + seed * 131) % 256) as u8)
        .collect()
}

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `name size` for each entry of a listing (size `-` for a directory).
fn rows(entries: &[ferry_proto::ListingEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| match entry.size() {
            Some(size) => format!("{} {size}", entry.name),
            None => format!("{}/ -", entry.name),
        })
        .collect()
}

async fn login(client: &mut Client, name: &str, password: &str) -> u16 {
    assert_eq!(client.command(&format!("USER {name}")).await.code, 331);
    client.command(&format!("PASS {password}")).await.code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_server_is_seen_through_the_other_at_once() {
    let cluster = Cluster::start("xi-visible", &[]);
    let mut a = cluster.direct(A).await;
    let mut b = cluster.direct(B).await;
    // Small files (one PUT each) and one over the 8 MiB writer chunk (a
    // static large object of segments).
    let sizes = [0, 1, 4096, 300 * 1024, 9 * 1024 * 1024 + 17];
    let mut expected = Vec::new();
    for (seed, &size) in sizes.iter().enumerate() {
        let name = format!("f{seed}");
        let data = content(seed, size);
        assert_eq!(a.store(&name, &data).await.code, 226, "STORE {name} on A");
        // Right after A's 226: B lists it, with its size, and serves it.
        expected.push(format!("{name} {size}"));
        assert_eq!(rows(&b.list().await), expected, "B's listing after {name}");
        assert_eq!(b.retrieve(&name).await.unwrap(), data, "{name} through B");
        let hash = b.command(&format!("HASH {name}")).await;
        assert_eq!(hash.text, format!("SHA-256 {}", sha256(&data)));
    }
    // Replaced through B, read through A: the new content at once.
    let replaced = content(99, 5000);
    assert_eq!(b.store("f2", &replaced).await.code, 226);
    assert_eq!(a.retrieve("f2").await.unwrap(), replaced);
    assert_eq!(a.read(10, 20, "f2").await.unwrap(), &replaced[10..30]);
    // Directories, renames and deletes the same way.
    assert_eq!(b.command("MKDIR d").await.code, 257);
    assert!(a.list_dir("d").await.is_empty());
    assert_eq!(a.command("MKDIR d").await.code, 550, "exists, through A");
    assert_eq!(a.command("RENAME f1\td/one").await.code, 250);
    assert_eq!(b.retrieve("f1").await.unwrap_err().code, 550);
    assert_eq!(rows(&b.list_dir("d").await), ["one 1"]);
    assert_eq!(b.command("DELETE d/one").await.code, 250);
    assert!(a.list_dir("d").await.is_empty());
    assert_eq!(a.command("RMDIR d").await.code, 250);
    assert_eq!(b.command("STAT d").await.code, 550, "removed, through B");
    for seed in [0, 2, 3, 4] {
        assert_eq!(b.command(&format!("DELETE f{seed}")).await.code, 250);
    }
    assert!(a.list().await.is_empty());
    let swift = Swift::shared();
    assert_eq!(
        swift.objects(&format!("{}/", cluster.prefix)),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_on_one_server_resumes_on_the_other_through_haproxy() {
    let cluster = Cluster::start("xi-resume", &[]);
    let swift = Swift::shared();
    let data = content(7, 9 * 1024 * 1024 + 3);
    let cut_at = 5 * 1024 * 1024 + 1000;
    let mut on_a = cluster.through_haproxy_to(A).await;
    let start = on_a.command(&format!("STORE {} up", data.len())).await;
    assert_eq!(start.code, 150, "{start}");
    on_a.send_raw(&data[..cut_at]).await;
    drop(on_a);
    // A keeps the bytes in the store; its manifest says they are all in.
    let kept = format!("{}/.ferry-tmp/kept/", cluster.prefix);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !swift
        .objects(&kept)
        .iter()
        .any(|name| name.ends_with("/manifest"))
    {
        assert!(Instant::now() < deadline, "A never kept the cut-off upload");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut on_b = cluster.through_haproxy_to(B).await;
    assert_eq!(
        on_b.command("STAT up").await.code,
        550,
        "invisible meanwhile"
    );
    let resume = on_b.command(&format!("RESUME {} up", data.len())).await;
    assert_eq!(resume.code, 150, "{resume}");
    assert_eq!(
        resume.data_len(),
        Some((data.len() - cut_at) as u64),
        "B continues from every byte A kept"
    );
    on_b.send_raw(&data[cut_at..]).await;
    let done = on_b.reply().await;
    assert_eq!(done.text, format!("Stored {} bytes", data.len()));
    let mut back = cluster.direct(A).await;
    assert_eq!(back.retrieve("up").await.unwrap(), data, "byte-exact on A");
    let again = on_b.command(&format!("RESUME {} up", data.len())).await;
    assert_eq!(
        again.data_len(),
        Some(data.len() as u64),
        "nothing kept after the upload completed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_by_a_killed_server_finishes_on_the_other_with_read() {
    let mut cluster = Cluster::start("xi-kill", &[]);
    // Far more than the socket buffers between the server and the client
    // hold, so the server is killed part way through sending.
    let data = content(3, 40 * 1024 * 1024);
    let mut setup = cluster.direct(B).await;
    assert_eq!(setup.store("big", &data).await.code, 226);
    let mut client = cluster.through_haproxy_to(A).await;
    let start = client.command("RETRIEVE big").await;
    assert_eq!(start.data_len(), Some(data.len() as u64), "{start}");
    let mut got = vec![0; 2 * 1024 * 1024];
    tokio::time::timeout(STEP_TIMEOUT, client.stream.read_exact(&mut got))
        .await
        .expect("the first bytes")
        .unwrap();
    let pid = cluster.servers[A].process.pid();
    kill_process(Pid::from_raw(pid as i32).unwrap(), Signal::KILL).expect("SIGKILL to A");
    assert!(cluster.servers[A].process.kill().is_ok(), "A is reaped");
    // The client takes what was in flight until HAProxy closes its side.
    let mut buffer = vec![0; 256 * 1024];
    loop {
        let read = tokio::time::timeout(STEP_TIMEOUT, client.stream.read(&mut buffer))
            .await
            .expect("the cut connection ends");
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buffer[..n]),
        }
    }
    let have = got.len();
    assert!(have < data.len(), "the download ended before A was killed");
    assert_eq!(got, data[..have], "what arrived is the file's beginning");
    cluster.haproxy.wait_for(A, BackendState::Down);
    let (mut again, landed) = cluster.through_haproxy().await;
    assert_eq!(landed, B, "HAProxy sends the reconnection to B");
    let rest = again
        .read(have as u64, (data.len() - have) as u64, "big")
        .await
        .unwrap();
    got.extend_from_slice(&rest);
    assert_eq!(got.len(), data.len());
    assert!(got == data, "byte-exact after the READ on B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_the_shared_accounts_file_reaches_both_servers() {
    let first = TestAccount::new("first", "one");
    let cluster = Cluster::start("xi-accounts", std::slice::from_ref(&first));
    let mut sessions = vec![cluster.direct(A).await, cluster.direct(B).await];
    for session in &mut sessions {
        assert_eq!(login(session, "second", "two").await, 530, "not yet");
    }
    let second = TestAccount::new("second", "two").home("homes/second");
    write_accounts_file(&cluster.accounts, &[first.clone(), second]);
    // Each server looks at the file once a second: both take the new
    // account within a few seconds, neither restarted.
    for index in [A, B] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut session = cluster.direct(index).await;
            if login(&mut session, "second", "two").await == 230 {
                let name = format!("from-{index}");
                assert_eq!(session.store(&name, b"x").await.code, 226);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "server {index} never took the new account"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // The home was made in the store, so each server sees both files.
    let mut root = cluster.direct(B).await;
    assert_eq!(login(&mut root, "first", "one").await, 230);
    assert_eq!(
        rows(&root.list_dir("homes/second").await),
        ["from-0 1", "from-1 1"]
    );
    // A removal reaches both the same way.
    write_accounts_file(&cluster.accounts, &[first]);
    for index in [A, B] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut session = cluster.direct(index).await;
            if login(&mut session, "second", "two").await == 530 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "server {index} kept the removed account"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// How many clients the load test runs at once.
const CLIENTS: usize = 200;

/// How many of them have commands in flight at a time. Swift's
/// all-in-one on two shared cores answers some 60-100 requests a second:
/// with every client at once each reply would wait for thousands of
/// requests ahead of it, longer than a client's step timeout.
const IN_FLIGHT: usize = 40;

/// What one client of the load test saw: the servers its two sessions
/// landed on.
struct Spread {
    writer: usize,
    reader: usize,
}

/// One client of the load test: a directory of its own, written through
/// one session and read through another (each through HAProxy, so on
/// either server), every content checked byte for byte. Each makes the
/// directory and a file, lists and reads it, then does one more thing by
/// its number: a RENAME, a DELETE, a READ of a range or a HASH. (Some 25
/// requests to Swift each: the store, not the servers, sets the pace.)
async fn mixed_client(
    cluster: &Cluster,
    client: usize,
    connected: &tokio::sync::Barrier,
    in_flight: &tokio::sync::Semaphore,
) -> Spread {
    let (mut writer, writer_on) = cluster.through_haproxy().await;
    let (mut reader, reader_on) = cluster.through_haproxy().await;
    // Every session is open before any client starts: both servers hold
    // all of theirs at once.
    connected.wait().await;
    let _turn = in_flight.acquire().await.expect("never closed");
    let dir = format!("c{client}");
    let mkdir = writer.command(&format!("MKDIR {dir}")).await;
    assert_eq!(mkdir.code, 257, "client {client}: {mkdir}");
    let data = content(client, client * 997 % (200 * 1024));
    let path = format!("{dir}/f");
    let stored = writer.store(&path, &data).await;
    assert_eq!(stored.code, 226, "client {client}: STORE: {stored}");
    let listed = rows(&reader.list_dir(&dir).await);
    assert_eq!(listed, [format!("f {}", data.len())], "client {client}");
    assert!(reader.retrieve(&path).await.unwrap() == data, "{client}");
    match client % 4 {
        0 => {
            let to = format!("{dir}/g");
            let rename = writer.command(&format!("RENAME {path}\t{to}")).await;
            assert_eq!(rename.code, 250, "client {client}: {rename}");
            let listed = rows(&reader.list_dir(&dir).await);
            assert_eq!(listed, [format!("g {}", data.len())], "client {client}");
        }
        1 => {
            let delete = writer.command(&format!("DELETE {path}")).await;
            assert_eq!(delete.code, 250, "client {client}: {delete}");
            assert!(reader.list_dir(&dir).await.is_empty(), "client {client}");
        }
        2 => {
            let half = data.len() as u64 / 2;
            let range = reader.read(half, 1000, &path).await.unwrap();
            let end = data.len().min(half as usize + 1000);
            assert!(range == data[half as usize..end], "client {client}");
        }
        _ => {
            let hash = reader.command(&format!("HASH {path}")).await;
            assert_eq!(hash.text, format!("SHA-256 {}", sha256(&data)));
        }
    }
    Spread {
        writer: writer_on,
        reader: reader_on,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_spread_over_both_servers_stay_byte_exact() {
    raw_client::raise_open_file_limit();
    let cluster = Arc::new(Cluster::start("xi-load", &[]));
    let started = Instant::now();
    let connected = Arc::new(tokio::sync::Barrier::new(CLIENTS));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let cluster = Arc::clone(&cluster);
            let connected = Arc::clone(&connected);
            let in_flight = Arc::clone(&in_flight);
            tokio::spawn(
                async move { mixed_client(&cluster, client, &connected, &in_flight).await },
            )
        })
        .collect();
    let mut spreads = Vec::new();
    for task in tasks {
        let spread = tokio::time::timeout(Duration::from_secs(120), task)
            .await
            .expect("the clients finish by themselves")
            .expect("a client's checks hold");
        spreads.push(spread);
    }
    let elapsed = started.elapsed();
    let on = |index: usize| {
        spreads
            .iter()
            .filter(|spread| spread.writer == index)
            .count()
    };
    let crossed = spreads
        .iter()
        .filter(|spread| spread.writer != spread.reader)
        .count();
    eprintln!(
        "{CLIENTS} clients in {elapsed:.1?}: writers {} on A, {} on B; {crossed} read through the other server",
        on(A),
        on(B)
    );
    assert!(
        on(A) >= CLIENTS / 4 && on(B) >= CLIENTS / 4,
        "spread over both"
    );
    assert!(
        crossed >= CLIENTS / 4,
        "many read what the other server wrote"
    );
    let mut check = cluster.direct(A).await;
    assert_eq!(check.list().await.len(), CLIENTS, "one directory each");
}
