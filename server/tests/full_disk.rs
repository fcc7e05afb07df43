//! A full disk: ferry-server's root is an 8 MiB tmpfs, mounted in a user and
//! mount namespace of the server's own (`unshare --user --map-root-user
//! --mount`, so no root is needed and nothing stays mounted: the mount goes
//! with the server's namespace when it exits). The test sees the root's
//! files through /proc/<pid>/root, and fills the disk from there while an
//! upload is under way.
//!
//! A STORE that does not fit is refused with 552 before `150`; one that
//! fits when it starts but meets the full disk midway gets 552 as soon as a
//! write fails, keeps nothing (no file, nothing in the staging area) and
//! leaves the old file of its path intact; the connection stays in step and
//! serves reads, and once space is freed STOREs work again. Two uploads
//! that fit one at a time but not together (nothing reserves space) end
//! each complete or without a trace.

mod raw_client;

use ferry_testkit::{closed_port, ChildProcess};
use raw_client::Client;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const DISK: &str = "size=8m";
const NO_SPACE: (u16, &str) = (552, "Not enough space on the server");

/// Bytes `len` long from `seed`, no two files alike.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
        .collect()
}

/// The shell line that mounts the tmpfs on `$0` and becomes ferry-server.
const MOUNT_AND_SERVE: &str =
    r#"mount -t tmpfs -o "$1" ferry-full-disk "$0" && shift && exec "$@""#;

/// Fails, saying why, where this test cannot run.
fn check_namespaces(dir: &Path) {
    let output = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(MOUNT_AND_SERVE)
        .arg(dir)
        .args([DISK, "true"])
        .stdin(Stdio::null())
        .output();
    let why = match output {
        Ok(output) if output.status.success() => return,
        Ok(output) => String::from_utf8_lossy(&output.stderr).into_owned(),
        Err(error) => format!("cannot run unshare (util-linux): {error}"),
    };
    panic!(
        "the full-disk test mounts a tmpfs in a user namespace of its own \
         (unshare --user --map-root-user --mount), and that failed here: {why}\n\
         It needs unshare (util-linux) and unprivileged user namespaces \
         (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0, \
         and on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0)."
    );
}

/// ferry-server serving a fresh tmpfs of [`DISK`] mounted on `mount_point`.
fn server_on_tmpfs(mount_point: &Path) -> ChildProcess {
    let addr = closed_port();
    let args: Vec<String> = [
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        MOUNT_AND_SERVE,
    ]
    .iter()
    .map(|arg| arg.to_string())
    .chain([
        mount_point.display().to_string(),
        DISK.to_owned(),
        env!("CARGO_BIN_EXE_ferry-server").to_owned(),
        "--root".to_owned(),
        mount_point.display().to_string(),
        "--listen".to_owned(),
        addr.to_string(),
    ])
    .collect();
    ChildProcess::spawn(Path::new("unshare"), &args, addr).expect("ferry-server on a tmpfs")
}

/// Names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Appends to `path` until the file system is full; returns the bytes
/// written.
fn fill(path: &Path) -> u64 {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open the filler");
    let block = vec![0xa5u8; 64 << 10];
    let mut written = 0u64;
    loop {
        match file.write(&block) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(error) if error.kind() == io::ErrorKind::StorageFull => break,
            Err(error) => panic!("filling {}: {error}", path.display()),
        }
    }
    written
}

#[tokio::test]
async fn a_full_disk_refuses_the_store_keeps_the_old_file_and_goes_on_serving() {
    let host = tempfile::tempdir().unwrap();
    let mount_point = host.path().join("root");
    std::fs::create_dir(&mount_point).unwrap();
    check_namespaces(&mount_point);
    let mut server = server_on_tmpfs(&mount_point);
    // The tmpfs as the server sees it.
    let root = PathBuf::from(format!("/proc/{}/root", server.pid())).join(
        mount_point
            .strip_prefix("/")
            .expect("an absolute temporary path"),
    );
    let staging = root.join(ferry_server::TEMP_DIR);
    let kept = staging.join(ferry_server::KEPT_DIR);

    let mut client = Client::connect(server.addr).await;
    let old = pattern(1 << 20, 1);
    assert_eq!(client.store("keep.bin", &old).await.code, 226);

    // Larger than the disk: refused before any data.
    let start = client.command("STORE 16777216 huge.bin").await;
    assert_eq!((start.code, start.text.as_str()), NO_SPACE);

    // Fits when it starts (5 of about 7 MiB free), then the disk fills up.
    let new = pattern(5 << 20, 2);
    let start = client
        .command(&format!("STORE {} keep.bin", new.len()))
        .await;
    assert_eq!(start.code, 150, "{start}");
    client.send_raw(&new[..1 << 20]).await;
    let filler = root.join("filler");
    assert!(fill(&filler) > 0, "the disk had room left to fill");
    // The server answers once a write fails, while 3 MiB are still to come.
    client.send_raw(&new[1 << 20..2 << 20]).await;
    let refused = client.reply().await;
    assert_eq!((refused.code, refused.text.as_str()), NO_SPACE);
    // The rest is read and dropped: the connection stays in step.
    client.send_raw(&new[2 << 20..]).await;
    assert_eq!(client.command("NOOP").await.code, 200);

    // Nothing of the upload is left, and the old file is as it was.
    assert_eq!(
        entries(&root),
        [ferry_server::TEMP_DIR, "filler", "keep.bin"]
    );
    assert_eq!(entries(&staging), [ferry_server::KEPT_DIR]);
    assert!(entries(&kept).is_empty(), "kept: {:?}", entries(&kept));
    assert_eq!(client.retrieve("keep.bin").await.unwrap(), old);
    let names: Vec<String> = client.names().await;
    assert_eq!(names, ["filler", "keep.bin"]);

    // Full again (the dropped upload's bytes are free): a STORE is refused
    // at once.
    fill(&filler);
    let start = client.command("STORE 65536 more.bin").await;
    assert_eq!((start.code, start.text.as_str()), NO_SPACE);
    // Reads go on: a second client too.
    let mut reader = Client::connect(server.addr).await;
    assert_eq!(reader.retrieve("keep.bin").await.unwrap(), old);

    // Space freed, the same STORE works.
    assert_eq!(client.command("DELETE filler").await.code, 250);
    assert_eq!(client.store("keep.bin", &new).await.code, 226);
    assert_eq!(reader.retrieve("keep.bin").await.unwrap(), new);
    assert_eq!(entries(&staging), [ferry_server::KEPT_DIR]);

    server.terminate(Duration::from_secs(10)).unwrap();
    // The tmpfs went with the server's namespace; nothing reached the host.
    assert!(entries(&mount_point).is_empty());
}

/// Two uploads that each fit the free space when they start but not both:
/// nothing reserves space, so the disk fills midway. Each ends in `226`
/// with its file complete or in `552` with no trace, at least one in `552`.
#[tokio::test]
async fn uploads_that_fill_the_disk_together_end_complete_or_without_a_trace() {
    let host = tempfile::tempdir().unwrap();
    let mount_point = host.path().join("root");
    std::fs::create_dir(&mount_point).unwrap();
    check_namespaces(&mount_point);
    let mut server = server_on_tmpfs(&mount_point);
    let root = PathBuf::from(format!("/proc/{}/root", server.pid())).join(
        mount_point
            .strip_prefix("/")
            .expect("an absolute temporary path"),
    );

    let uploads = (0..2u8).map(|i| {
        let addr = server.addr;
        tokio::spawn(async move {
            let data = pattern(5 << 20, 10 + i);
            let name = format!("up{i}.bin");
            let mut client = Client::connect(addr).await;
            let start = client
                .command(&format!("STORE {} {name}", data.len()))
                .await;
            assert_eq!(start.code, 150, "{start}");
            // In pieces, so that the two uploads interleave.
            for piece in data.chunks(256 << 10) {
                client.send_raw(piece).await;
                tokio::task::yield_now().await;
            }
            let answer = client.reply().await;
            let stored = match (answer.code, answer.text.as_str()) {
                (226, _) => true,
                NO_SPACE => false,
                _ => panic!("{name}: {answer}"),
            };
            let on_server = client.retrieve(&name).await;
            if stored {
                assert!(on_server.unwrap() == data, "{name} differs");
            } else {
                assert_eq!(on_server.unwrap_err().code, 550, "{name} left a file");
            }
            stored
        })
    });
    let mut stored = Vec::new();
    for upload in uploads.collect::<Vec<_>>() {
        stored.push(upload.await.unwrap());
    }
    assert!(stored.contains(&false), "both fit: {stored:?}");
    let staging = root.join(ferry_server::TEMP_DIR);
    assert_eq!(entries(&staging), [ferry_server::KEPT_DIR]);
    assert!(entries(&staging.join(ferry_server::KEPT_DIR)).is_empty());
    server.terminate(Duration::from_secs(10)).unwrap();
}
