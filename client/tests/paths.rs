//! Version 2 of the `ferry` one-shot commands against a real ferry-server
//! on 127.0.0.1: paths, directories, renames, status, whole trees, and a
//! download continued after the server died in the middle of it.

mod cut_off;
mod ferry_binary;
mod trees;

use cut_off::{an_old_time, has_bytes, put_old_file, wait_until};
use ferry_binary::*;
use ferry_testkit::data::{all_bytes, noise};
use ferry_testkit::TestServer;
use trees::{build, tree};

#[test]
fn directories_are_made_listed_renamed_and_removed_by_path() {
    let server = TestServer::start_on_thread();
    let target = server.target();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("local.bin"), all_bytes(10)).unwrap();
    let run = |args: &[&str]| {
        let mut all = vec![args[0], &target];
        all.extend_from_slice(&args[1..]);
        let output = ferry_in(cwd.path(), &all, b"");
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        output
    };

    run(&["mkdir", "docs"]);
    assert_eq!(stdout(&run(&["ls", "docs"])), "No files in /docs.\n");
    run(&["mkdir", "/docs/sub dir"]);
    assert!(server.path("docs/sub dir").is_dir());
    run(&["put", "local.bin", "--as", "docs/sub dir/a file.bin"]);
    assert_eq!(
        server.file("docs/sub dir/a file.bin").unwrap(),
        all_bytes(10)
    );
    // A path ending in / is the directory to put the file in.
    let output = run(&["put", "local.bin", "--as", "docs/"]);
    assert!(stderr(&output).contains("Stored local.bin as \"docs/local.bin\""));
    run(&["rm", "docs/local.bin"]);

    let listed = stdout(&run(&["ls", "docs", "--names"]));
    assert_eq!(listed, "sub dir/\n");
    let table = stdout(&run(&["ls", "docs/sub dir"]));
    assert!(table.contains("2.5 KiB  "), "{table}");
    assert!(
        table.ends_with("  a file.bin\n1 file, 2.5 KiB in total\n"),
        "{table}"
    );
    let top = stdout(&run(&["ls"]));
    let row = top.lines().nth(1).unwrap();
    assert!(
        row.trim_start().starts_with("-  ") && row.ends_with("  docs/"),
        "{top}"
    );
    assert!(
        top.ends_with("0 files and 1 directory, 0 B in total\n"),
        "{top}"
    );

    let status = stdout(&run(&["stat", "docs/sub dir/a file.bin"]));
    assert!(
        status.starts_with(&format!(
            "docs/sub dir/a file.bin: file, {} bytes (2.5 KiB), modified 20",
            all_bytes(10).len()
        )),
        "{status}"
    );
    let status = stdout(&run(&["stat", "docs"]));
    assert!(
        status.starts_with("docs: directory, modified 20"),
        "{status}"
    );

    // `..` is resolved by the client: the server only ever sees docs/…
    run(&["mv", "docs/sub dir/a file.bin", "docs/sub dir/../moved.bin"]);
    assert_eq!(server.file("docs/moved.bin").unwrap(), all_bytes(10));
    let hash = stdout(&run(&["hash", "docs/moved.bin"]));
    assert!(hash.ends_with("  docs/moved.bin\n"), "{hash}");

    let output = run(&["get", "docs/moved.bin", "-o", "back.bin"]);
    assert!(stderr(&output).contains("Saved \"docs/moved.bin\" to back.bin"));
    assert_eq!(
        std::fs::read(cwd.path().join("back.bin")).unwrap(),
        all_bytes(10)
    );
    // Without -o the file is saved under its last name.
    run(&["get", "docs/moved.bin"]);
    assert!(cwd.path().join("moved.bin").is_file());

    run(&["rmdir", "docs/sub dir"]);
    run(&["rm", "docs/moved.bin"]);
    run(&["rmdir", "docs"]);
    assert!(!server.path("docs").exists());
}

#[test]
fn every_refusal_is_one_line_in_words() {
    let server = TestServer::start_on_thread();
    std::fs::create_dir_all(server.path("full/inner")).unwrap();
    server.put_file("file.txt", b"x");
    let target = server.target();
    let fails = |args: &[&str], words: &str| {
        let mut all = vec![args[0], &target];
        all.extend_from_slice(&args[1..]);
        let (output, cwd) = ferry(&all);
        assert_fails_with(&output, words);
        assert!(dir_entries(cwd.path()).is_empty(), "{args:?} left files");
    };
    fails(
        &["rmdir", "full"],
        "cannot remove \"full\": it is not empty",
    );
    fails(&["mkdir", "full"], "cannot create \"full\": it exists");
    fails(
        &["mkdir", "no/such/parent"],
        "its parent directory is missing",
    );
    fails(
        &["stat", "nothing"],
        "no such file or directory \"nothing\" on the server",
    );
    fails(
        &["ls", "nothing"],
        "no such directory \"nothing\" on the server",
    );
    fails(&["ls", "file.txt"], "no such directory \"file.txt\"");
    fails(&["mv", "nothing", "else"], "cannot rename \"nothing\"");
    fails(&["get", "full"], "no such file \"full\" on the server");
    fails(
        &["get", "full", "--continue"],
        "\"full\" is a directory on the server (use -r",
    );
    fails(
        &["get", "-r", "file.txt"],
        "\"file.txt\" is a file on the server, not a directory",
    );
    fails(&["rm", "full"], "cannot delete \"full\"");
    fails(&["get", "a\tb"], "invalid file name \"a\\tb\"");
    fails(&["rm", "/"], "the home directory itself");
    assert!(server.path("full/inner").is_dir() && server.file("file.txt").is_some());
}

#[test]
fn a_read_only_server_refuses_changes_in_words() {
    let server = TestServer::start_on_thread_with(ferry_testkit::ServerOptions {
        read_only: true,
        ..Default::default()
    });
    std::fs::create_dir(server.path("d")).unwrap();
    let target = server.target();
    let (output, _cwd) = ferry(&["mkdir", &target, "new"]);
    assert_fails_with(&output, "or the server is read-only (server said: 550");
    let (output, _cwd) = ferry(&["rmdir", &target, "d"]);
    assert_fails_with(&output, "or the server is read-only (server said: 550");
    assert!(server.path("d").is_dir() && !server.path("new").exists());
}

#[test]
fn whole_trees_go_up_and_come_back_byte_exact() {
    let server = TestServer::start_on_thread();
    let cwd = tempfile::tempdir().unwrap();
    let big = noise(3 * 1024 * 1024 + 17, 7);
    let binary = all_bytes(3);
    build(
        &cwd.path().join("project"),
        &[
            ("README", Some(b"top\n")),
            ("empty file", Some(b"")),
            ("src/main.rs", Some(b"fn main() {}\n")),
            ("src/deep/er/still/bytes.bin", Some(&binary)),
            ("src/deep/big.bin", Some(&big)),
            ("empty dir", None),
            ("ünï cödé/名前.txt", Some("名前".as_bytes())),
        ],
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", cwd.path().join("project/link")).unwrap();
    let sent = tree(&cwd.path().join("project"));

    let output = ferry_in(cwd.path(), &["put", "-r", &server.target(), "project"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("Skipped ") && err.contains("link"), "{err}");
    assert!(
        err.contains("Stored project as \"/project\" (6 files in 7 directories, 3.0 MiB)"),
        "{err}"
    );
    assert_eq!(tree(&server.path("project")), sent);
    // Missing directories above the target are made too.
    let output = ferry_in(
        cwd.path(),
        &["put", "-r", &server.target(), "project", "--as", "copy/of"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(tree(&server.path("copy/of")), sent);

    let output = ferry_in(
        cwd.path(),
        &["get", "-r", &server.target(), "copy/of", "-o", "back"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(tree(&cwd.path().join("back")), sent);
    assert!(
        stderr(&output).contains("Saved \"/copy/of\" to back (6 files in 7 directories, 3.0 MiB)"),
        "{}",
        stderr(&output)
    );
    // Without -o the tree lands under its own name; existing files are kept
    // unless --force says otherwise.
    let output = ferry_in(cwd.path(), &["get", "-r", &server.target(), "project"], b"");
    assert_fails_with(&output, "already exists; not overwriting it");
    let output = ferry_in(
        cwd.path(),
        &["get", "-r", "-f", &server.target(), "project"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(tree(&cwd.path().join("project")), sent);
}

#[test]
fn get_continue_picks_up_after_the_server_died_mid_download() {
    let content = noise(96 * 1024 * 1024, 3);
    let server = TestServer::start_on_thread();
    put_old_file(&server, "big.bin", &content);
    let cwd = tempfile::tempdir().unwrap();
    let part = cwd.path().join(".big.bin.part");
    let child = spawn_ferry(
        cwd.path(),
        &["get", &server.target(), "big.bin", "--continue"],
    );
    wait_until("the download never began", || has_bytes(&part));
    drop(server); // the server dies with the download under way
    let output = child.wait_with_output().unwrap();
    assert_fails_with(&output, "the download of \"big.bin\" was cut off at ");
    assert!(
        stderr(&output).contains("the part is kept in "),
        "{}",
        stderr(&output)
    );
    assert!(
        !cwd.path().join("big.bin").exists(),
        "no final file before it is complete"
    );
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 0 && kept < content.len() as u64, "kept {kept}");
    assert_eq!(std::fs::read(&part).unwrap(), content[..kept as usize]);

    // The same file on another server: continued with READ from the part's length.
    let again = TestServer::start_on_thread();
    put_old_file(&again, "big.bin", &content);
    let output = ferry_in(
        cwd.path(),
        &["get", &again.target(), "big.bin", "--continue", "--verify"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(", SHA-256 verified, continued after "),
        "{}",
        stderr(&output)
    );
    assert!(
        std::fs::read(cwd.path().join("big.bin")).unwrap() == content,
        "byte-exact"
    );
    assert_eq!(dir_entries(cwd.path()), ["big.bin"], "the part is gone");
}

#[test]
fn a_part_of_another_version_of_the_file_is_started_over() {
    let server = TestServer::start_on_thread();
    server.put_file("f.txt", b"the new content");
    let cwd = tempfile::tempdir().unwrap();
    // A part stamped long before the file on the server last changed.
    let part = cwd.path().join(".f.txt.part");
    std::fs::write(&part, b"OLD").unwrap();
    let file = std::fs::File::options().write(true).open(&part).unwrap();
    file.set_modified(an_old_time()).unwrap();
    drop(file);
    let output = ferry_in(cwd.path(), &["get", &server.target(), "f.txt", "-c"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("continued"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read(cwd.path().join("f.txt")).unwrap(),
        b"the new content"
    );
    assert_eq!(dir_entries(cwd.path()), ["f.txt"]);
}

#[test]
fn put_resume_against_a_server_that_kept_nothing_sends_the_whole_file() {
    let server = TestServer::start_on_thread();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("up.bin"), all_bytes(40)).unwrap();
    let output = ferry_in(
        cwd.path(),
        &["put", &server.target(), "up.bin", "--resume", "--verify"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Stored up.bin as \"up.bin\" (10.0 KiB, SHA-256 verified)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(server.file("up.bin").unwrap(), all_bytes(40));
}

#[test]
fn a_user_on_a_server_without_accounts_needs_no_password() {
    let server = TestServer::start_on_thread();
    server.put_file("open.txt", b"x");
    let (output, _cwd) = ferry(&["ls", &format!("alice@{}", server.target()), "--names"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "open.txt\n");
}

#[test]
fn put_resume_sends_only_what_the_server_kept_after_a_cut() {
    let content = noise(64 * 1024 * 1024, 11);
    let server = TestServer::start_on_thread();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("big.bin"), &content).unwrap();
    let mut child = spawn_ferry(cwd.path(), &["put", &server.target(), "big.bin"]);
    // Cut the upload (the client dies) once the server holds some of it.
    let staging = server.root.join(ferry_server_temp_dir());
    wait_until("the upload never began", || {
        server
            .temp_entries()
            .iter()
            .any(|name| std::fs::metadata(staging.join(name)).map_or(0, |m| m.len()) > 1024 * 1024)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until("nothing was kept", || {
        ferry_testkit::kept_records(&server.root) == 1
    });
    assert!(
        server.file("big.bin").is_none(),
        "a cut upload is not visible"
    );

    let output = ferry_in(
        cwd.path(),
        &["put", &server.target(), "big.bin", "--resume", "--verify"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("Stored big.bin as \"big.bin\" (64.0 MiB, SHA-256 verified, "),
        "{err}"
    );
    assert!(err.contains(" of it kept by the server)"), "{err}");
    assert!(server.file("big.bin").unwrap() == content, "byte-exact");
    assert_eq!(ferry_testkit::kept_records(&server.root), 0);
}

/// The server's staging directory below its root.
fn ferry_server_temp_dir() -> &'static str {
    ".ferry-tmp"
}
