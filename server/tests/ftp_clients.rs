//! The FTP door (docs/PROTOCOL.md §6) driven by FTP clients nobody here
//! wrote: curl, lftp and Python's ftplib (tests/ftp/ftplib_suite.py), as
//! child processes against the real `ferry-server --ftp-listen` on
//! 127.0.0.1. Every transfer is checked byte for byte, on disk and back.

mod ftp_tools;

use ferry_testkit::data::noise;
use ferry_testkit::TestAccount;
use ftp_tools::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn alice() -> TestAccount {
    TestAccount::new("alice", "alice-pw").home("alice")
}

/// A door with alice's account (home `alice/`, made before she logs in).
fn door_for_alice(tls: bool) -> Door {
    let door = Door::start(DoorOptions {
        accounts: vec![alice()],
        tls,
        ..DoorOptions::default()
    });
    std::fs::create_dir(door.root.join("alice")).unwrap();
    door
}

#[test]
fn ftplib_suite_passes_but_for_the_known_gaps() {
    let door = Door::start(DoorOptions {
        accounts: vec![
            alice(),
            TestAccount::new("reader", "reader-pw").read_only(),
            TestAccount::new("tight", "tight-pw")
                .home("tight")
                .quota(65_536),
        ],
        max_file_size: Some("1MiB"),
        tls: true,
        ..DoorOptions::default()
    });
    for home in ["alice", "tight"] {
        std::fs::create_dir(door.root.join(home)).unwrap();
    }
    let port = door.ftp.port().to_string();
    let output = ftplib_suite(&[
        "--port",
        &port,
        "--root",
        door.root.to_str().unwrap(),
        "--ca",
        door.ca.as_ref().unwrap().to_str().unwrap(),
    ]);
    let report = stdout(&output);
    let failed: Vec<&str> = report
        .lines()
        .filter_map(|line| line.strip_prefix("FAIL "))
        .collect();
    assert_eq!(
        failed,
        KNOWN_GAPS,
        "ftplib cases failing, against the known gaps of the door:\n{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Every case ran: each reported ok or FAIL.
    let cases = report
        .lines()
        .filter(|line| line.starts_with("ok   ") || line.starts_with("FAIL "))
        .count();
    assert_eq!(cases, 21, "{report}");
    assert_eq!(output.status.success(), KNOWN_GAPS.is_empty(), "{report}");
}

/// ftplib cases the door does not pass yet, each a finding reported to the
/// door's author. Remove a name once its case passes: the test fails until
/// then, either way. (The first three, SYST before login, SIZE of a
/// directory and close_notify after an FTPS STOR, are fixed.)
const KNOWN_GAPS: [&str; 0] = [];

#[test]
fn curl_lists_downloads_and_uploads() {
    let door = door_for_alice(false);
    let home = door.root.join("alice");
    let big = noise(5 * 1024 * 1024 + 17, 11);
    std::fs::write(home.join("big.bin"), &big).unwrap();
    std::fs::write(home.join("name with space.txt"), b"spaced").unwrap();
    std::fs::create_dir(home.join("dir")).unwrap();
    let url = |path: &str| door.url("alice", "alice-pw", path);

    let listing = curl(&[&url("")]);
    assert_ok("curl LIST", &listing);
    let text = stdout(&listing);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let big_line = lines
        .iter()
        .find(|line| line.ends_with(" big.bin"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(big_line.starts_with('-'), "{big_line}");
    assert!(big_line.contains(&format!(" {} ", big.len())), "{big_line}");
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with('d') && line.ends_with(" dir")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.ends_with(" name with space.txt")),
        "{text}"
    );

    let names = curl(&["--list-only", &url("")]);
    assert_ok("curl NLST", &names);
    let mut names: Vec<String> = stdout(&names).lines().map(str::to_owned).collect();
    names.sort();
    assert_eq!(names, ["big.bin", "dir", "name with space.txt"]);

    let work = tempfile::tempdir().unwrap();
    let downloaded = work.path().join("big.bin");
    assert_ok(
        "curl RETR",
        &curl(&["-o", downloaded.to_str().unwrap(), &url("big.bin")]),
    );
    assert!(
        std::fs::read(&downloaded).unwrap() == big,
        "download differs"
    );
    // curl -C -: continues a partial download with REST from its length.
    let partial = work.path().join("partial.bin");
    std::fs::write(&partial, &big[..1024 * 1024 + 3]).unwrap();
    assert_ok(
        "curl -C - (REST + RETR)",
        &curl(&["-C", "-", "-o", partial.to_str().unwrap(), &url("big.bin")]),
    );
    assert!(
        std::fs::read(&partial).unwrap() == big,
        "continued download differs"
    );
    let spaced = work.path().join("spaced");
    assert_ok(
        "curl RETR with a space",
        &curl(&[
            "-o",
            spaced.to_str().unwrap(),
            &url("name%20with%20space.txt"),
        ]),
    );
    assert_eq!(std::fs::read(&spaced).unwrap(), b"spaced");

    let upload = work.path().join("up.bin");
    let bytes = noise(3 * 1024 * 1024 + 5, 12);
    std::fs::write(&upload, &bytes).unwrap();
    assert_ok(
        "curl -T",
        &curl(&["-T", upload.to_str().unwrap(), &url("dir/up.bin")]),
    );
    assert!(std::fs::read(home.join("dir/up.bin")).unwrap() == bytes);
    // Replacing, and into directories curl makes on the way (MKD).
    std::fs::write(&upload, b"second").unwrap();
    assert_ok(
        "curl -T over a file",
        &curl(&["-T", upload.to_str().unwrap(), &url("dir/up.bin")]),
    );
    assert_eq!(std::fs::read(home.join("dir/up.bin")).unwrap(), b"second");
    assert_ok(
        "curl -T --ftp-create-dirs",
        &curl(&[
            "--ftp-create-dirs",
            "-T",
            upload.to_str().unwrap(),
            &url("new/deeper/up.bin"),
        ]),
    );
    assert_eq!(
        std::fs::read(home.join("new/deeper/up.bin")).unwrap(),
        b"second"
    );

    // Failures: a missing file (550 to RETR: curl's 78), a wrong password
    // (530: curl's 67); nothing written locally nor on the server.
    let missing = work.path().join("missing");
    let output = curl(&["-o", missing.to_str().unwrap(), &url("missing")]);
    assert_eq!(output.status.code(), Some(78), "{output:?}");
    assert!(!missing.exists());
    let output = curl(&[&door.url("alice", "wrong", "")]);
    assert_eq!(output.status.code(), Some(67), "{output:?}");
    // A command through --quote: DELE.
    assert_ok(
        "curl -Q DELE",
        &curl(&["--quote", "DELE big.bin", "--list-only", &url("")]),
    );
    assert!(!home.join("big.bin").exists());
}

#[test]
fn curl_ftps_with_a_ca_made_at_test_time() {
    let door = door_for_alice(true);
    let home = door.root.join("alice");
    let ca = door.ca.clone().unwrap();
    let ca = ca.to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let upload = work.path().join("secret.bin");
    let bytes = noise(4 * 1024 * 1024 + 3, 13);
    std::fs::write(&upload, &bytes).unwrap();
    let url = |path: &str| door.url("alice", "alice-pw", path);

    let up = curl(&[
        "--ssl-reqd",
        "--cacert",
        ca,
        "-T",
        upload.to_str().unwrap(),
        &url("secret.bin"),
    ]);
    assert_ok("curl --ssl-reqd -T", &up);
    assert!(std::fs::read(home.join("secret.bin")).unwrap() == bytes);

    let down = work.path().join("down.bin");
    assert_ok(
        "curl --ssl-reqd RETR",
        &curl(&[
            "--ssl-reqd",
            "--cacert",
            ca,
            "-o",
            down.to_str().unwrap(),
            &url("secret.bin"),
        ]),
    );
    assert!(std::fs::read(&down).unwrap() == bytes);
    let names = curl(&["--ssl-reqd", "--cacert", ca, "--list-only", &url("")]);
    assert_ok("curl --ssl-reqd NLST", &names);
    assert_eq!(stdout(&names), "secret.bin\n");

    // Without the CA curl does not trust the door (60) and sends nothing.
    let output = curl(&[
        "--ssl-reqd",
        "-T",
        upload.to_str().unwrap(),
        &url("untrusted.bin"),
    ]);
    assert_eq!(output.status.code(), Some(60), "{output:?}");
    assert!(!home.join("untrusted.bin").exists());
}

#[test]
fn curl_ssl_reqd_refuses_a_door_without_tls() {
    let door = door_for_alice(false);
    let output = curl(&["--ssl-reqd", &door.url("alice", "alice-pw", "")]);
    // 64: the requested FTP SSL level failed (AUTH TLS refused).
    assert_eq!(output.status.code(), Some(64), "{output:?}");
}

/// A tree with nested and empty directories, an empty file, names with
/// spaces and a file of several MiB.
fn make_tree(dir: &Path) {
    std::fs::create_dir_all(dir.join("a/b/c")).unwrap();
    std::fs::create_dir_all(dir.join("empty dir")).unwrap();
    std::fs::create_dir_all(dir.join("with space")).unwrap();
    std::fs::write(dir.join("top.txt"), b"top\n").unwrap();
    std::fs::write(dir.join("zero"), b"").unwrap();
    std::fs::write(dir.join("a/one.bin"), noise(100_000, 21)).unwrap();
    std::fs::write(dir.join("a/b/c/deep.bin"), noise(3 * 1024 * 1024 + 1, 22)).unwrap();
    std::fs::write(dir.join("with space/file name.txt"), b"spaced\n").unwrap();
}

#[test]
fn lftp_mirrors_a_tree_up_and_back_down_identical() {
    let door = door_for_alice(false);
    let home = door.root.join("alice");
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("tree");
    make_tree(&local);
    let back = work.path().join("back");

    let output = lftp(
        &door,
        "alice",
        "alice-pw",
        None,
        &format!(
            "mirror -R --parallel=4 {} up\nmirror --parallel=4 up {}",
            local.display(),
            back.display()
        ),
    );
    assert_ok("lftp mirror -R, mirror", &output);
    let expected = tree(&local);
    assert_eq!(expected.len(), 10);
    assert!(tree(&home.join("up")) == expected, "the tree on the door");
    assert!(tree(&back) == expected, "the tree mirrored back");

    let output = lftp(
        &door,
        "alice",
        "alice-pw",
        None,
        "mkdir up/made\n\
         mv up/top.txt up/made/moved.txt\n\
         rm up/zero\n\
         rmdir 'up/empty dir'\n\
         mv 'up/with space' up/renamed",
    );
    assert_ok("lftp mkdir, mv, rm, rmdir", &output);
    assert_eq!(
        std::fs::read(home.join("up/made/moved.txt")).unwrap(),
        b"top\n"
    );
    assert!(!home.join("up/top.txt").exists());
    assert!(!home.join("up/zero").exists());
    assert!(!home.join("up/empty dir").exists());
    assert_eq!(
        std::fs::read(home.join("up/renamed/file name.txt")).unwrap(),
        b"spaced\n"
    );

    // A failing command fails the session (cmd:fail-exit): rm of a missing file.
    let output = lftp(&door, "alice", "alice-pw", None, "rm up/missing");
    assert!(!output.status.success(), "{output:?}");
    let output = lftp(&door, "alice", "wrong", None, "ls");
    assert!(!output.status.success(), "{output:?}");
}

#[test]
fn lftp_ftps_uploads_are_byte_exact() {
    let door = door_for_alice(true);
    let home = door.root.join("alice");
    let ca = door.ca.clone().unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("big.bin");
    let bytes = noise(8 * 1024 * 1024 + 7, 31);
    std::fs::write(&file, &bytes).unwrap();
    let local = work.path().join("tree");
    make_tree(&local);
    let back = work.path().join("back");

    let output = lftp(
        &door,
        "alice",
        "alice-pw",
        Some(&ca),
        &format!(
            "put {} -o big.bin\nmirror -R {} up\nmirror up {}",
            file.display(),
            local.display(),
            back.display()
        ),
    );
    assert_ok("lftp over FTPS", &output);
    let stored = std::fs::read(home.join("big.bin")).unwrap();
    assert_eq!(stored.len(), bytes.len(), "FTPS upload length");
    assert!(stored == bytes, "FTPS upload differs");
    assert!(tree(&home.join("up")) == tree(&local), "FTPS mirror -R");
    assert!(tree(&back) == tree(&local), "FTPS mirror back");
}

/// Bytes of the uploads in progress in the door's staging area (the kept
/// partial uploads of the Ferry protocol aside).
fn staged_bytes(root: &Path) -> Option<u64> {
    let staging = root.join(ferry_server::TEMP_DIR);
    let entries = std::fs::read_dir(staging).ok()?;
    // A staged file can be removed between the listing and its metadata
    // (the door drops it as the upload ends): such a file is gone, not an
    // error.
    let files: Vec<u64> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name() != ferry_server::KEPT_DIR)
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .collect();
    (!files.is_empty()).then(|| files.iter().sum())
}

/// Polls `done` every 20 ms for up to the step timeout.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + ferry_testkit::STEP_TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_curl_killed_mid_upload_leaves_the_old_file_and_nothing_else() {
    let door = door_for_alice(false);
    let home = door.root.join("alice");
    std::fs::write(home.join("victim.bin"), b"the old bytes").unwrap();
    let work = tempfile::tempdir().unwrap();
    let upload = work.path().join("new.bin");
    std::fs::write(&upload, noise(64 * 1024 * 1024, 51)).unwrap();
    // Slowed down, so the kill surely comes part way.
    let mut curl = Command::new("curl")
        .args(["--silent", "--limit-rate", "2M", "--max-time", "60", "-T"])
        .arg(&upload)
        .arg(door.url("alice", "alice-pw", "victim.bin"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("curl");
    wait_until("the upload's first MiB to be staged", || {
        staged_bytes(&door.root).is_some_and(|bytes| bytes > 1024 * 1024)
    });
    // SIGKILL: the kernel ends both of curl's connections with a FIN, as
    // a clean end of the data would look.
    curl.kill().unwrap();
    curl.wait().unwrap();
    wait_until("the staged upload to be removed", || {
        staged_bytes(&door.root).is_none()
    });
    assert_eq!(
        std::fs::read(home.join("victim.bin")).unwrap(),
        b"the old bytes"
    );
    let names = curl_names(&door);
    assert_eq!(names, ["victim.bin"]);
}

fn curl_names(door: &Door) -> Vec<String> {
    let output = curl(&["--list-only", &door.url("alice", "alice-pw", "")]);
    assert_ok("curl NLST", &output);
    stdout(&output).lines().map(str::to_owned).collect()
}
