//! The FTP door on an object store: `ferry-server --store swift://…
//! --ftp-listen …` against a real OpenStack Swift (`ferry_testkit::Swift`,
//! scripts/swift.sh's all-in-one on loopback), driven by FTP clients nobody
//! here wrote (curl, lftp, Python's ftplib) as child processes. What the
//! door stores is checked in Swift itself and through the Ferry protocol
//! of a second server on the same container, and the other way round.
//! Each test serves a prefix of its own in the shared Swift.

#[allow(dead_code)] // some of the bare client's ways out are for ftp.rs only
mod ftp_raw;
mod ftp_tools;
mod raw_client;

use ferry_testkit::data::noise;
use ferry_testkit::{Swift, TestAccount};
use ftp_raw::{reset, Raw};
use ftp_tools::*;
use raw_client::Client;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

fn alice() -> TestAccount {
    TestAccount::new("alice", "alice-pw").home("alice")
}

/// `--store` on `prefix` of the test container, with its credentials.
fn store_flags(swift: &Swift, prefix: &str) -> Vec<String> {
    let proxy = swift
        .auth_url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    let url = format!("swift://{proxy}/{}/{prefix}", swift.container);
    [
        "--store",
        &url,
        "--store-user",
        &swift.user,
        "--store-key",
        &swift.key,
    ]
    .map(String::from)
    .to_vec()
}

/// A door on `prefix` of the shared Swift, with `accounts`.
fn door_on(prefix: &str, accounts: Vec<TestAccount>, max_file_size: Option<&'static str>) -> Door {
    Door::start(DoorOptions {
        accounts,
        max_file_size,
        store: store_flags(Swift::shared(), prefix),
        ..DoorOptions::default()
    })
}

/// The objects under `prefix/` in Swift, the prefix taken off; the
/// staging area's (kept parts, journals) and the large objects' segments
/// (`.segments/PREFIX/…`) listed with their own prefix.
fn objects(prefix: &str) -> Vec<String> {
    let swift = Swift::shared();
    let mut names: Vec<String> = swift
        .objects(&format!("{prefix}/"))
        .into_iter()
        .map(|name| name[prefix.len() + 1..].to_owned())
        .collect();
    names.extend(swift.objects(&format!(".segments/{prefix}/")));
    names
}

/// What an upload in progress or an unfinished one leaves in the store:
/// kept parts or a journal in the staging area, a large object's segments.
fn traces(prefix: &str) -> Vec<String> {
    objects(prefix)
        .into_iter()
        .filter(|name| name.starts_with(".ferry-tmp/") || name.starts_with(".segments/"))
        .collect()
}

/// Logs in to the Ferry protocol as alice.
async fn ferry_login(door: &Door) -> Client {
    let mut client = Client::connect(door.ferry).await;
    assert_eq!(client.command("USER alice").await.code, 331);
    assert_eq!(client.command("PASS alice-pw").await.code, 230);
    client
}

/// Polls `done` every 50 ms for up to the step timeout.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + ferry_testkit::STEP_TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_up_and_down_and_the_ferry_protocol_of_a_second_server() {
    let prefix = "ftp-curl";
    let a = door_on(prefix, vec![alice()], None);
    let b = door_on(prefix, vec![alice()], None);
    let work = tempfile::tempdir().unwrap();
    let url = |path: &str| a.url("alice", "alice-pw", path);
    // Over the 8 MiB writer chunk: a static large object of segments.
    let big = noise(9 * 1024 * 1024 + 17, 61);
    let upload = work.path().join("big.bin");
    std::fs::write(&upload, &big).unwrap();
    assert_ok(
        "curl -T",
        &curl(&["-T", upload.to_str().unwrap(), &url("big.bin")]),
    );
    let down = work.path().join("down.bin");
    assert_ok(
        "curl RETR",
        &curl(&["-o", down.to_str().unwrap(), &url("big.bin")]),
    );
    assert!(std::fs::read(&down).unwrap() == big, "download differs");
    // curl -C -: REST from the partial file's length, a ranged GET.
    let partial = work.path().join("partial.bin");
    std::fs::write(&partial, &big[..8 * 1024 * 1024 - 5]).unwrap();
    assert_ok(
        "curl -C - (REST + RETR)",
        &curl(&["-C", "-", "-o", partial.to_str().unwrap(), &url("big.bin")]),
    );
    assert!(
        std::fs::read(&partial).unwrap() == big,
        "continued download differs"
    );

    // Stored through A's door, read through B's Ferry protocol.
    let mut on_b = ferry_login(&b).await;
    assert!(on_b.retrieve("big.bin").await.unwrap() == big, "through B");
    // And the other way round, into a directory curl makes (MKD).
    let small = noise(300_000, 62);
    assert_eq!(on_b.command("MKDIR dir").await.code, 257);
    assert_eq!(on_b.store("dir/from-b.bin", &small).await.code, 226);
    let from_b = work.path().join("from-b.bin");
    assert_ok(
        "curl RETR of B's file",
        &curl(&["-o", from_b.to_str().unwrap(), &url("dir/from-b.bin")]),
    );
    assert!(
        std::fs::read(&from_b).unwrap() == small,
        "B's file through A"
    );
    std::fs::write(&upload, b"second").unwrap();
    assert_ok(
        "curl -T --ftp-create-dirs",
        &curl(&[
            "--ftp-create-dirs",
            "-T",
            upload.to_str().unwrap(),
            &url("new/deeper/up.bin"),
        ]),
    );
    assert_eq!(on_b.retrieve("new/deeper/up.bin").await.unwrap(), b"second");

    let listing = curl(&[&url("")]);
    assert_ok("curl LIST", &listing);
    let text = stdout(&listing);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with('-') && line.contains(&format!(" {} ", big.len()))),
        "{text}"
    );
    let names = curl(&["--list-only", &url("")]);
    assert_ok("curl NLST", &names);
    assert_eq!(stdout(&names), "big.bin\ndir\nnew\n");
    // The store holds the files at their paths under the home, and
    // nothing of the uploads besides (no kept part, no stray segment).
    let mut stored = objects(prefix);
    stored.retain(|name| !name.starts_with(".segments/"));
    assert_eq!(
        stored,
        [
            "alice/",
            "alice/big.bin",
            "alice/dir/",
            "alice/dir/from-b.bin",
            "alice/new/",
            "alice/new/deeper/",
            "alice/new/deeper/up.bin",
        ]
    );
    // A missing file is 550 (curl's 78); DELE through --quote.
    let output = curl(&["-o", "/dev/null", &url("missing")]);
    assert_eq!(output.status.code(), Some(78), "{output:?}");
    assert_ok(
        "curl -Q DELE",
        &curl(&["--quote", "DELE big.bin", "--list-only", &url("")]),
    );
    assert_eq!(on_b.retrieve("big.bin").await.unwrap_err().code, 550);
    assert_eq!(
        Swift::shared().objects(&format!(".segments/{prefix}/")),
        Vec::<String>::new(),
        "the large object's segments went with it"
    );
}

#[test]
fn lftp_mirrors_a_tree_up_and_back_down_identical() {
    let prefix = "ftp-lftp";
    let door = door_on(prefix, vec![alice()], None);
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("tree");
    std::fs::create_dir_all(local.join("a/b")).unwrap();
    std::fs::create_dir_all(local.join("empty dir")).unwrap();
    std::fs::write(local.join("top.txt"), b"top\n").unwrap();
    std::fs::write(local.join("zero"), b"").unwrap();
    std::fs::write(local.join("a/one.bin"), noise(100_000, 71)).unwrap();
    std::fs::write(local.join("a/b/deep name.bin"), noise(1_000_001, 72)).unwrap();
    let back = work.path().join("back");
    let again = work.path().join("again");

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
    assert_eq!(expected.len(), 7);
    assert!(tree(&back) == expected, "the tree mirrored back");

    // mv of a file and of a directory (a copy and a delete per object on
    // the store), rm, rmdir; then the tree as the store has it now.
    let output = lftp(
        &door,
        "alice",
        "alice-pw",
        None,
        &format!(
            "mv up/top.txt up/a/moved.txt\n\
             mv up/a up/renamed\n\
             rm up/zero\n\
             rmdir 'up/empty dir'\n\
             mirror up {}",
            again.display()
        ),
    );
    assert_ok("lftp mv, rm, rmdir, mirror", &output);
    let now: Vec<String> = tree(&again).into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        now,
        [
            "renamed/",
            "renamed/b/",
            "renamed/b/deep name.bin",
            "renamed/moved.txt",
            "renamed/one.bin",
        ]
    );
    assert_eq!(
        std::fs::read(again.join("renamed/b/deep name.bin")).unwrap(),
        noise(1_000_001, 72)
    );
    assert_eq!(traces(prefix), Vec::<String>::new());
}

/// REST+RETR, SIZE, MDTM, MLSD, MLST, RNFR/RNTO, DELE, MKD/RMD, CWD/CDUP
/// and the refusals (home, read-only, quota, size limit) through ftplib.
const FTPLIB_CASES: &str = r#"
import ftplib, io, sys
port = int(sys.argv[1])

def session(user, password):
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port, timeout=20)
    ftp.login(user, password)
    return ftp

def refused(code, call, *args):
    try:
        call(*args)
    except ftplib.all_errors as error:
        assert str(error).startswith(code), (code, call.__name__, args, str(error))
        return
    raise AssertionError(f"{call.__name__}{args}: not refused, expected {code}")

def stor_refused(code, ftp, name, data):
    """A STOR refused before or during the data: its final reply's code."""
    try:
        conn = ftp.transfercmd(f"STOR {name}")
    except ftplib.all_errors as error:
        assert str(error).startswith(code), (code, name, str(error))
        return
    try:
        conn.sendall(data)
    except OSError:
        pass  # the server stopped reading: its reply says why
    finally:
        conn.close()
    try:
        reply = ftp.voidresp()
    except ftplib.all_errors as error:
        assert str(error).startswith(code), (code, name, str(error))
        return
    raise AssertionError(f"STOR {name} of {len(data)} bytes succeeded: {reply!r}")

data = bytes((i * 7 + i // 251) % 256 for i in range(700_000))
ftp = session("alice", "alice-pw")
assert ftp.pwd() == "/", ftp.pwd()
ftp.storbinary("STOR f.bin", io.BytesIO(data))
assert ftp.size("f.bin") == len(data)
assert ftp.sendcmd("MDTM f.bin").startswith("213 20")
got = bytearray()
ftp.retrbinary("RETR f.bin", got.extend, rest=123_457)
assert bytes(got) == data[123_457:], len(got)
got = bytearray()
ftp.retrbinary("RETR f.bin", got.extend)
assert bytes(got) == data
assert ftp.sendcmd("MKD d").startswith("257 ")
ftp.cwd("d")
assert ftp.pwd() == "/d"
ftp.storbinary("STOR inner.txt", io.BytesIO(b"inner"))
ftp.cwd("..")
ftp.cwd("../..")
assert ftp.pwd() == "/", "CWD .. at the home stays there"
ftp.cwd("d")
ftp.sendcmd("CDUP")
assert ftp.pwd() == "/"
# The server's default facts (type, size, modify): no OPTS MLST.
facts = {name: f for name, f in ftp.mlsd() if f.get("type") not in ("cdir", "pdir")}
assert facts["f.bin"]["type"] == "file" and facts["f.bin"]["size"] == str(len(data)), facts
assert facts["d"]["type"] == "dir", facts
assert sorted(facts) == ["d", "f.bin"], facts
assert "type=file" in ftp.sendcmd("MLST f.bin")
assert sorted(ftp.nlst()) == ["d", "f.bin"]
ftp.rename("f.bin", "d/g.bin")
refused("550", ftp.size, "f.bin")
assert ftp.size("d/g.bin") == len(data)
ftp.storbinary("STOR other.bin", io.BytesIO(b"other"))
ftp.rename("other.bin", "d/g.bin")  # onto an existing file: replaces it
assert ftp.size("d/g.bin") == 5
refused("550", ftp.rmd, "d")  # not empty
ftp.delete("d/g.bin")
ftp.delete("d/inner.txt")
ftp.rmd("d")
refused("550", ftp.cwd, "d")
refused("550", ftp.delete, "missing")
refused("550", ftp.size, "../../..")  # the home itself, never above it
refused("553", ftp.sendcmd, "MKD bad\\name")
stor_refused("552", ftp, "huge.bin", bytes(2 * 1024 * 1024))
refused("550", ftp.size, "huge.bin")
assert ftp.nlst() == [], ftp.nlst()
ftp.quit()

tight = session("tight", "tight-pw")
tight.storbinary("STOR fits.bin", io.BytesIO(bytes(60_000)))
stor_refused("552", tight, "over.bin", bytes(10_000))
assert tight.nlst() == ["fits.bin"], tight.nlst()
tight.quit()

reader = session("reader", "reader-pw")
assert "fits.bin" not in reader.nlst()
stor_refused("550", reader, "r.bin", b"r")
refused("550", reader.mkd, "r")
reader.quit()
print("ftplib cases passed")
"#;

#[test]
fn ftplib_rest_size_mlsd_renames_dirs_and_refusals() {
    let prefix = "ftp-ftplib";
    let door = door_on(
        prefix,
        vec![
            alice(),
            TestAccount::new("reader", "reader-pw").read_only(),
            TestAccount::new("tight", "tight-pw")
                .home("tight")
                .quota(65_536),
        ],
        Some("1MiB"),
    );
    let port = door.ftp.port().to_string();
    let output = ferry_testkit::run_to_end_within(
        Path::new("python3"),
        &["-", &port],
        FTPLIB_CASES.as_bytes(),
        Duration::from_secs(120),
    );
    assert_ok("the ftplib cases", &output);
    assert_eq!(stdout(&output), "ftplib cases passed\n");
    assert_eq!(traces(prefix), Vec::<String>::new());
    let mut stored = objects(prefix);
    stored.sort();
    assert_eq!(stored, ["alice/", "tight/", "tight/fits.bin"]);
}

#[test]
fn a_curl_killed_mid_upload_leaves_no_object_and_the_old_one_intact() {
    let prefix = "ftp-killed";
    let door = door_on(prefix, vec![alice()], None);
    let work = tempfile::tempdir().unwrap();
    let old = work.path().join("old.bin");
    std::fs::write(&old, b"the old bytes").unwrap();
    let url = door.url("alice", "alice-pw", "victim.bin");
    assert_ok("curl -T", &curl(&["-T", old.to_str().unwrap(), &url]));
    let upload = work.path().join("new.bin");
    std::fs::write(&upload, noise(64 * 1024 * 1024, 81)).unwrap();
    // Slowed down, so the kill surely comes part way.
    let mut curl_up = Command::new("curl")
        .args(["--silent", "--limit-rate", "4M", "--max-time", "60", "-T"])
        .arg(&upload)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("curl");
    // The upload under way leaves its traces: a kept part every 4 MiB.
    wait_until("the upload's first part in the store", || {
        !traces(prefix).is_empty()
    });
    // SIGKILL: the kernel ends both of curl's connections with a FIN, as
    // a clean end of the data would look.
    curl_up.kill().unwrap();
    curl_up.wait().unwrap();
    wait_until("the aborted upload's traces to go", || {
        traces(prefix).is_empty()
    });
    assert_eq!(objects(prefix), ["alice/", "alice/victim.bin"]);
    let down = work.path().join("down.bin");
    assert_ok("curl RETR", &curl(&["-o", down.to_str().unwrap(), &url]));
    assert_eq!(std::fs::read(&down).unwrap(), b"the old bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abor_and_a_reset_data_connection_leave_nothing_on_the_store() {
    let prefix = "ftp-abor";
    let door = door_on(prefix, vec![alice()], None);
    let mut raw = Raw::login(door.ftp, "alice", "alice-pw").await;
    let mut data = raw.start_stor("victim.bin").await;
    data.write_all(b"the old bytes").await.unwrap();
    drop(data);
    assert_eq!(raw.reply().await.0, 226);
    for abor in [true, false] {
        let mut data = raw.start_stor("victim.bin").await;
        // Past a kept part and a segment of the writer.
        data.write_all(&noise(9 * 1024 * 1024, 91)).await.unwrap();
        data.flush().await.unwrap();
        let traced = tokio::task::spawn_blocking(move || {
            wait_until("the upload's traces in the store", || {
                !traces(prefix).is_empty()
            })
        });
        traced.await.unwrap();
        if abor {
            // The same path by the same account meanwhile: 450.
            let mut second = Raw::login(door.ftp, "alice", "alice-pw").await;
            let _data = second.data().await;
            assert_eq!(second.command("STOR victim.bin").await.0, 150);
            let (code, text) = second.reply().await;
            assert_eq!(code, 450, "a second STOR of the path: {text}");
            let (code, text) = raw.command("ABOR").await;
            assert_eq!(code, 226, "ABOR: {text}");
            drop(data);
        } else {
            reset(data);
            let (code, text) = raw.reply().await;
            assert!(
                (400..500).contains(&code),
                "a failed transfer: {code} {text}"
            );
        }
        let gone = tokio::task::spawn_blocking(move || {
            wait_until("the upload's traces to go", || traces(prefix).is_empty());
            objects(prefix)
        });
        assert_eq!(
            gone.await.unwrap(),
            ["alice/", "alice/victim.bin"],
            "ABOR: {abor}"
        );
    }
    assert_eq!(raw.command("SIZE victim.bin").await, (213, "213 13".into()));
    let mut on_ferry = ferry_login(&door).await;
    assert_eq!(
        on_ferry.retrieve("victim.bin").await.unwrap(),
        b"the old bytes"
    );
}

#[test]
fn curl_ftps_up_and_down_on_the_store() {
    let prefix = "ftp-tls";
    let door = Door::start(DoorOptions {
        accounts: vec![alice()],
        tls: true,
        store: store_flags(Swift::shared(), prefix),
        ..DoorOptions::default()
    });
    let ca = door.ca.clone().unwrap();
    let ca = ca.to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let upload = work.path().join("secret.bin");
    let bytes = noise(2 * 1024 * 1024 + 3, 101);
    std::fs::write(&upload, &bytes).unwrap();
    let url = |path: &str| door.url("alice", "alice-pw", path);
    assert_ok(
        "curl --ssl-reqd -T",
        &curl(&[
            "--ssl-reqd",
            "--cacert",
            ca,
            "-T",
            upload.to_str().unwrap(),
            &url("secret.bin"),
        ]),
    );
    // Through TLS, from REST's offset: the writer, not sendfile.
    let partial = work.path().join("partial.bin");
    std::fs::write(&partial, &bytes[..1_000_001]).unwrap();
    assert_ok(
        "curl --ssl-reqd -C - (REST + RETR)",
        &curl(&[
            "--ssl-reqd",
            "--cacert",
            ca,
            "-C",
            "-",
            "-o",
            partial.to_str().unwrap(),
            &url("secret.bin"),
        ]),
    );
    assert!(
        std::fs::read(&partial).unwrap() == bytes,
        "FTPS download differs"
    );
    assert_eq!(objects(prefix), ["alice/", "alice/secret.bin"]);
}
