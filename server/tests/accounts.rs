//! `ferry-server accounts ...` on a real file, and a real server following
//! that file: the account tool as a user runs it.

use ferry_server::accounts::{Access, AccountsFile, Home};
use ferry_testkit::{run_to_end, LoggedProcess};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

const BIN: &str = env!("CARGO_BIN_EXE_ferry-server");

/// A temporary directory holding the accounts file (not created yet).
struct Fixture {
    dir: tempfile::TempDir,
    file: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accounts.toml");
        Fixture { dir, file }
    }

    /// `ferry-server accounts <command> <args...> --accounts FILE`.
    fn tool(&self, command: &str, args: &[&str], stdin: &str) -> Output {
        let mut all = vec!["accounts", command];
        all.extend(args);
        all.extend(["--accounts", self.file.to_str().unwrap()]);
        run_to_end(Path::new(BIN), &all, stdin.as_bytes())
    }

    fn tool_ok(&self, command: &str, args: &[&str], stdin: &str) -> String {
        let output = self.tool(command, args, stdin);
        assert!(
            output.status.success(),
            "{command} {args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    fn accounts(&self) -> AccountsFile {
        AccountsFile::read(&self.file).unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit status 1 and one `ferry-server: ...` line that says `says`.
fn assert_fails_saying(output: &Output, says: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("ferry-server: "), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
}

#[test]
fn add_creates_the_file_private_and_list_shows_no_hash() {
    let fixture = Fixture::new();
    let said = fixture.tool_ok(
        "add",
        &[
            "alice",
            "--home",
            "users/alice",
            "--quota",
            "10GiB",
            "--password-stdin",
        ],
        "open sesame\n",
    );
    assert!(said.contains("added alice"), "{said}");
    fixture.tool_ok(
        "add",
        &["bob", "--read-only", "--password-stdin"],
        "hunter2\r\n",
    );
    let mode = std::fs::metadata(&fixture.file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let accounts = fixture.accounts();
    let alice = accounts.verify("alice", "open sesame").unwrap();
    assert_eq!(alice.home, Home::Below("users/alice".to_owned()));
    assert_eq!(
        (alice.access, alice.quota),
        (Access::ReadWrite, Some(10 << 30))
    );
    let bob = accounts
        .verify("bob", "hunter2")
        .expect("the CR LF is dropped");
    assert_eq!(
        (bob.home, bob.access, bob.quota),
        (Home::Root, Access::ReadOnly, None)
    );

    let listing = fixture.tool_ok("list", &[], "");
    assert_eq!(
        listing,
        "NAME   HOME         ACCESS      QUOTA\n\
         alice  users/alice  read-write  10GiB\n\
         bob    (root)       read-only   none\n"
    );
    let file = std::fs::read_to_string(&fixture.file).unwrap();
    assert!(file.contains("$argon2id$v=19$m=19456,t=2,p=1$"), "{file}");
    assert!(!listing.contains("argon2"));
    let names: Vec<_> = std::fs::read_dir(fixture.dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
}

#[test]
fn passwd_changes_the_hash_and_remove_removes() {
    let fixture = Fixture::new();
    fixture.tool_ok("add", &["alice", "--password-stdin"], "old\n");
    let before = std::fs::read_to_string(&fixture.file).unwrap();
    std::fs::set_permissions(&fixture.file, std::fs::Permissions::from_mode(0o644)).unwrap();
    fixture.tool_ok("passwd", &["alice", "--password-stdin"], "new\n");
    let after = std::fs::read_to_string(&fixture.file).unwrap();
    assert_ne!(before, after);
    let mode = std::fs::metadata(&fixture.file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "every write makes it 0600");
    assert!(fixture.accounts().verify("alice", "new").is_some());
    assert!(fixture.accounts().verify("alice", "old").is_none());

    fixture.tool_ok("remove", &["alice"], "");
    assert!(fixture.accounts().is_empty());
    assert_eq!(
        fixture.tool_ok("list", &[], ""),
        "NAME  HOME  ACCESS  QUOTA\n"
    );
}

#[test]
fn runs_at_the_same_time_take_turns() {
    let fixture = Fixture::new();
    let names: Vec<String> = (0..6).map(|n| format!("user{n}")).collect();
    std::thread::scope(|scope| {
        for name in &names {
            let fixture = &fixture;
            scope.spawn(move || fixture.tool_ok("add", &[name, "--password-stdin"], "pw\n"));
        }
    });
    let accounts = fixture.accounts();
    assert_eq!(accounts.len(), names.len(), "no change was lost");
}

#[test]
fn refusals_are_one_line_and_change_nothing() {
    let fixture = Fixture::new();
    fixture.tool_ok("add", &["alice", "--password-stdin"], "pw\n");
    let before = std::fs::read(&fixture.file).unwrap();
    assert_fails_saying(
        &fixture.tool("add", &["alice", "--password-stdin"], "pw\n"),
        "already an account named alice",
    );
    assert_fails_saying(
        &fixture.tool("passwd", &["bob", "--password-stdin"], "pw\n"),
        "no account named bob",
    );
    assert_fails_saying(
        &fixture.tool("remove", &["bob"], ""),
        "no account named bob",
    );
    assert_fails_saying(
        &fixture.tool("add", &["bob", "--password-stdin"], "\n"),
        "empty password",
    );
    assert_fails_saying(
        &fixture.tool("add", &["bob", "--password-stdin"], ""),
        "no password",
    );
    // No terminal to ask at (the test kit runs the tool without one).
    assert_fails_saying(&fixture.tool("add", &["bob"], "pw\n"), "--password-stdin");
    assert_eq!(std::fs::read(&fixture.file).unwrap(), before);

    for args in [
        &["-bob", "--password-stdin"][..],
        &["bob", "--home", "/etc"],
        &["bob", "--quota", "lots"],
    ] {
        let output = fixture.tool("add", args, "pw\n");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(
            text(&output.stderr).lines().count(),
            1,
            "{}",
            text(&output.stderr)
        );
    }
}

#[test]
fn a_bad_file_is_named_with_its_line_by_the_tool_and_at_start_up() {
    let fixture = Fixture::new();
    std::fs::write(&fixture.file, "[accounts.alice]\npassword = \"hunter2\"\n").unwrap();
    let output = fixture.tool("list", &[], "");
    assert_fails_saying(&output, "accounts.toml, line 2: not a PHC password hash");

    let root = fixture.dir.path().join("root");
    let args = [
        "--root",
        root.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--accounts",
        fixture.file.to_str().unwrap(),
    ];
    let output = run_to_end(Path::new(BIN), &args, b"");
    assert_fails_saying(&output, "cannot load accounts: ");
    assert!(text(&output.stderr).contains("line 2"));
    assert!(!root.exists(), "a failed start created the root");
}

#[test]
fn anonymous_off_needs_accounts() {
    let output = run_to_end(Path::new(BIN), &["--anonymous", "off"], b"");
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--accounts"), "{stderr}");
}

#[test]
fn the_running_server_follows_the_file() {
    let fixture = Fixture::new();
    fixture.tool_ok("add", &["alice", "--password-stdin"], "pw\n");
    let root = fixture.dir.path().join("root");
    let server = LoggedProcess::spawn(
        Path::new(BIN),
        &[
            "--root",
            root.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--accounts",
            fixture.file.to_str().unwrap(),
        ],
    );
    let loaded = server.wait_for_line("accounts loaded");
    assert!(loaded.contains("accounts=1"), "{loaded}");
    server.wait_for_line("listening");
    fixture.tool_ok("add", &["bob", "--password-stdin"], "pw\n");
    let reloaded = server.wait_for_line("accounts file reloaded");
    assert!(reloaded.contains("accounts=2"), "{reloaded}");
    std::fs::write(&fixture.file, "not toml [").unwrap();
    let kept = server.wait_for_line("accounts file not reloaded");
    assert!(kept.contains("keeping the accounts in force"), "{kept}");
    assert!(kept.contains("accounts=2"), "{kept}");
}

#[test]
fn a_file_others_may_read_is_served_with_a_warning() {
    let fixture = Fixture::new();
    fixture.tool_ok("add", &["alice", "--password-stdin"], "pw\n");
    std::fs::set_permissions(&fixture.file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let root = fixture.dir.path().join("root");
    let server = LoggedProcess::spawn(
        Path::new(BIN),
        &[
            "--root",
            root.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--accounts",
            fixture.file.to_str().unwrap(),
        ],
    );
    let warning = server.wait_for_line("others may read it");
    assert!(warning.contains("mode=644"), "{warning}");
    server.wait_for_line("listening");
}
