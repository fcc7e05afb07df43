//! Many logged-in clients at once over real sockets, spread over accounts
//! that each have their own home, so that several connections share an
//! account: every client works in its own directory with every changing
//! and reading command, checks each byte it gets back against what it
//! stored, and checks that it sees nothing of the other accounts (§3.5).
//! In the end the files on disk are exactly what the clients left.

mod raw_client;

use ferry_proto::Reply;
use ferry_testkit::{data, LoginOptions, ServerOptions, TestAccount, TestServer};
use raw_client::Client;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Barrier, Semaphore};

const ACCOUNTS: usize = 50;
const CLIENTS: usize = 1000;
/// The largest size of each of a client's three files: one up to a few
/// hundred KiB, two smaller ones (what a debug build moves in seconds).
const MAX_SIZES: [usize; 3] = [300 * 1024, 64 * 1024, 16 * 1024];
/// Logins verified at once: the server verifies one password per core at
/// a time, and a PASS queued behind 1,000 others would wait longer than a
/// test step may.
const LOGINS_AT_ONCE: usize = 32;
/// The whole test's bound, so that a client stuck at a barrier fails it.
const TEST_TIMEOUT: Duration = Duration::from_secs(180);

fn account_name(account: usize) -> String {
    format!("user{account:02}")
}

fn password(account: usize) -> String {
    format!("secret of account {account}")
}

fn home(account: usize) -> String {
    format!("homes/{}", account_name(account))
}

/// Client `i`'s account.
fn account_of(client: usize) -> usize {
    client % ACCOUNTS
}

/// Client `i`'s directory in its account's home.
fn dir_of(client: usize) -> String {
    format!("c{client}")
}

/// The bytes client `i` stores as its `k`-th file: a random size from 0 to
/// its [`MAX_SIZES`] (every tenth client's first file is empty),
/// deterministic noise.
fn content(client: usize, k: usize) -> Vec<u8> {
    let seed = (client * 8 + k) as u64;
    let dice = data::noise(8, seed ^ 0x5eed);
    let roll = u64::from_le_bytes(dice.try_into().unwrap()) as usize;
    let size = if k == 0 && client.is_multiple_of(10) {
        0
    } else {
        roll % (MAX_SIZES[k] + 1)
    };
    data::noise(size, seed)
}

fn code_and_text(reply: &Reply) -> (u16, &str) {
    (reply.code, reply.text.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_logged_in_clients_over_fifty_accounts_keep_to_their_homes() {
    raw_client::raise_open_file_limit();
    let accounts = (0..ACCOUNTS)
        .map(|account| {
            TestAccount::new(&account_name(account), &password(account)).home(&home(account))
        })
        .collect();
    let server = TestServer::start_with(ServerOptions {
        accounts: Some(accounts),
        max_connections: CLIENTS + 64,
        login: LoginOptions {
            delay: Duration::ZERO,
            ..LoginOptions::default()
        },
        ..ServerOptions::default()
    })
    .await;
    let addr = server.addr;

    let logins = Arc::new(Semaphore::new(LOGINS_AT_ONCE));
    let all_logged_in = Arc::new(Barrier::new(CLIENTS));
    let all_stored = Arc::new(Barrier::new(CLIENTS));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..CLIENTS {
        let (logins, all_logged_in, all_stored) = (
            Arc::clone(&logins),
            Arc::clone(&all_logged_in),
            Arc::clone(&all_stored),
        );
        tasks.spawn(async move {
            let account = account_of(i);
            let mut client = Client::connect(addr).await;
            {
                let _permit = logins.acquire().await.unwrap();
                let user = client
                    .command(&format!("USER {}", account_name(account)))
                    .await;
                assert_eq!(user.code, 331, "client {i}: {user}");
                let pass = client.command(&format!("PASS {}", password(account))).await;
                assert_eq!(code_and_text(&pass), (230, "Logged in"), "client {i}");
            }
            // All 1,000 sessions are open and logged in from here on.
            all_logged_in.wait().await;
            let files = work_in_own_directory(&mut client, i).await;
            all_stored.wait().await;
            // Every client has made its directory and stored its files now:
            // the other accounts' exist, and this session must not see them.
            check_isolation(&mut client, i).await;
            clean_up(&mut client, i, &files).await;
            assert_eq!(client.command("QUIT").await.code, 221);
            client.expect_closed().await;
            i
        });
    }
    let done = tokio::time::timeout(TEST_TIMEOUT, async {
        let mut done = BTreeSet::new();
        while let Some(result) = tasks.join_next().await {
            done.insert(result.unwrap());
        }
        done
    })
    .await
    .expect("the clients did not finish in time");
    assert_eq!(done.len(), CLIENTS);

    // On disk: each home holds exactly its clients' directories, each with
    // the one file its client kept, byte for byte.
    for account in 0..ACCOUNTS {
        let home_dir = server.path(&home(account));
        let names: BTreeSet<String> = std::fs::read_dir(&home_dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        let expected: BTreeSet<String> = (0..CLIENTS)
            .filter(|&i| account_of(i) == account)
            .map(dir_of)
            .collect();
        assert_eq!(names, expected, "{}", home_dir.display());
        for i in (0..CLIENTS).filter(|&i| account_of(i) == account) {
            let dir = home_dir.join(dir_of(i));
            let kept: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|entry| entry.unwrap().file_name())
                .collect();
            assert_eq!(kept, ["kept.bin"], "{}", dir.display());
            assert!(
                std::fs::read(dir.join("kept.bin")).unwrap() == content(i, 2),
                "client {i}: kept.bin differs on disk"
            );
        }
    }
    let top: Vec<_> = std::fs::read_dir(&server.root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.starts_with('.'))
        .collect();
    assert_eq!(top, ["homes"], "nothing outside the homes");
    assert!(server.temp_entries().is_empty());
}

/// MKDIR, STORE, LIST, RETRIEVE, READ, STAT, RENAME and DELETE in client
/// `i`'s directory; returns the files it holds afterwards (path, content).
async fn work_in_own_directory(client: &mut Client, i: usize) -> Vec<(String, Vec<u8>)> {
    let dir = dir_of(i);
    assert_eq!(
        code_and_text(&client.command(&format!("MKDIR {dir}")).await),
        (257, "Created")
    );
    assert_eq!(client.command(&format!("MKDIR {dir}/sub")).await.code, 257);
    assert_eq!(client.command(&format!("MKDIR {dir}")).await.code, 550);
    let mut files: Vec<(String, Vec<u8>)> = (0..MAX_SIZES.len())
        .map(|k| (format!("{dir}/f{k}.bin"), content(i, k)))
        .collect();
    for (path, bytes) in &files {
        let stored = client.store(path, bytes).await;
        assert_eq!(
            stored.text,
            format!("Stored {} bytes", bytes.len()),
            "client {i}: {path}"
        );
    }

    let listing = client.list_dir(&dir).await;
    let listed: Vec<(String, Option<u64>)> = listing
        .iter()
        .map(|entry| (entry.name.as_str().to_owned(), entry.size()))
        .collect();
    let mut expected: Vec<(String, Option<u64>)> = files
        .iter()
        .map(|(path, bytes)| {
            let name = path.rsplit('/').next().unwrap().to_owned();
            (name, Some(bytes.len() as u64))
        })
        .collect();
    expected.push(("sub".to_owned(), None));
    assert_eq!(listed, expected, "client {i}: LIST {dir}");

    for (k, (path, bytes)) in files.iter().enumerate() {
        let back = client.retrieve(path).await.unwrap();
        assert!(back == *bytes, "client {i}: RETRIEVE {path} differs");
        let size = bytes.len();
        let stat = client.command(&format!("STAT {path}")).await;
        assert_eq!(stat.code, 213, "client {i}: {stat}");
        assert!(
            stat.text.starts_with(&format!("file {size} ")),
            "client {i}: {stat}"
        );
        // Ranges from the client's own dice: anywhere inside, one past the
        // end and running over the end.
        let dice = data::noise(16, (i * 8 + k) as u64 ^ 0xd1ce);
        let offset = usize::from(dice[0]) * size / 255;
        let length = usize::from(u16::from_le_bytes([dice[1], dice[2]])) * 8;
        for (offset, length) in [(offset, length), (size, 10), (size / 2, size + 1)] {
            let got = client
                .read(offset as u64, length as u64, path)
                .await
                .unwrap();
            let end = (offset + length).min(size);
            assert!(
                got == bytes[offset..end],
                "client {i}: READ {offset} {length} {path} differs"
            );
        }
        let past = client.read(size as u64 + 1, 1, path).await.unwrap_err();
        assert_eq!(past.code, 501, "client {i}: {past}");
    }
    let stat = client.command(&format!("STAT {dir}/sub")).await;
    assert!(stat.text.starts_with("dir - "), "client {i}: {stat}");

    // RENAME into the subdirectory: the old name is gone, the bytes moved.
    let (old, bytes) = files.remove(0);
    let moved = format!("{dir}/sub/moved.bin");
    let renamed = client.command(&format!("RENAME {old}\t{moved}")).await;
    assert_eq!(code_and_text(&renamed), (250, "Renamed"), "client {i}");
    assert_eq!(client.command(&format!("STAT {old}")).await.code, 550);
    assert!(client.retrieve(&moved).await.unwrap() == bytes);
    // The subdirectory is not empty, so RMDIR refuses.
    assert_eq!(client.command(&format!("RMDIR {dir}/sub")).await.code, 550);
    files.push((moved, bytes));
    files
}

/// LIST of the home shows only this account's directories; nothing of
/// another account can be named, from inside the home or by climbing out.
async fn check_isolation(client: &mut Client, i: usize) {
    let account = account_of(i);
    let names: BTreeSet<String> = client.names().await.into_iter().collect();
    let own: BTreeSet<String> = (0..CLIENTS)
        .filter(|&j| account_of(j) == account)
        .map(dir_of)
        .collect();
    assert_eq!(names, own, "client {i}: LIST of the home");
    // The next client is another account's; its directory exists by now.
    let other = (i + 1) % CLIENTS;
    let other_file = format!("{}/f2.bin", dir_of(other));
    for line in [
        format!("STAT {}", dir_of(other)),
        format!("RETRIEVE {other_file}"),
        format!("LIST {}", dir_of(other)),
        format!("DELETE {other_file}"),
    ] {
        let reply = client.command(&line).await;
        assert_eq!(reply.code, 550, "client {i}: {line}: {reply}");
    }
    let climbing = format!("../{}/{other_file}", account_name(account_of(other)));
    for line in [
        format!("RETRIEVE {climbing}"),
        format!("STAT {climbing}"),
        "LIST ..".to_owned(),
    ] {
        let reply = client.command(&line).await;
        assert_eq!(reply.code, 553, "client {i}: {line}: {reply}");
    }
}

/// DELETE and RMDIR all but one file: `f2.bin`, renamed to `kept.bin`.
async fn clean_up(client: &mut Client, i: usize, files: &[(String, Vec<u8>)]) {
    let dir = dir_of(i);
    for (path, _) in files.iter().filter(|(path, _)| !path.ends_with("f2.bin")) {
        let deleted = client.command(&format!("DELETE {path}")).await;
        assert_eq!(code_and_text(&deleted), (250, "Deleted"), "client {i}");
        assert_eq!(client.retrieve(path).await.unwrap_err().code, 550);
    }
    let removed = client.command(&format!("RMDIR {dir}/sub")).await;
    assert_eq!(code_and_text(&removed), (250, "Removed"), "client {i}");
    let kept = format!("{dir}/kept.bin");
    let renamed = client
        .command(&format!("RENAME {dir}/f2.bin\t{kept}"))
        .await;
    assert_eq!(renamed.code, 250, "client {i}: {renamed}");
    let listing = client.list_dir(&dir).await;
    let names: Vec<&str> = listing.iter().map(|entry| entry.name.as_str()).collect();
    assert_eq!(names, ["kept.bin"], "client {i}");
    assert!(client.retrieve(&kept).await.unwrap() == content(i, 2));
}
