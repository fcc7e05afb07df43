//! The `ferry` binary's one-shot subcommands against a real ferry-server on
//! 127.0.0.1 (and scripted fake servers for failures a real one never makes).

mod fake_server;
mod ferry_binary;

use fake_server::*;
use ferry_binary::*;
use ferry_testkit::data::all_bytes;
use ferry_testkit::{closed_port, ServerOptions, TestServer};
use sha2::{Digest, Sha256};

#[test]
fn ls_shows_an_aligned_table_with_human_sizes() {
    let server = TestServer::start_on_thread();
    server.put_file("a.txt", b"hello");
    server.put_file("big file.bin", &vec![7; 3 * 1024 * 1024 / 2]);
    server.put_file("名前.txt", b"");
    let (output, _cwd) = ferry(&["ls", &server.target()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[0].trim_start().starts_with("SIZE  MODIFIED (UTC)"),
        "{text}"
    );
    assert!(
        lines[1].ends_with("  a.txt") && lines[1].trim_start().starts_with("5 B  "),
        "{text}"
    );
    assert!(
        lines[2].starts_with("1.5 MiB  ") && lines[2].ends_with("  big file.bin"),
        "{text}"
    );
    assert!(
        lines[3].trim_start().starts_with("0 B  ") && lines[3].ends_with("  名前.txt"),
        "{text}"
    );
    assert_eq!(lines[4], "3 files, 1.5 MiB in total");
    // The name column starts at the same place on every row.
    let column = lines[0].find("NAME").unwrap();
    assert_eq!(&lines[1][column..], "a.txt");
    assert_eq!(&lines[2][column..], "big file.bin");

    let (output, _cwd) = ferry(&["ls", &server.target(), "--names"]);
    assert_eq!(stdout(&output), "a.txt\nbig file.bin\n名前.txt\n");
    let (output, _cwd) = ferry(&["ls", &server.target(), "--bytes"]);
    assert!(stdout(&output).contains("1572864  "), "{}", stdout(&output));
}

#[test]
fn ls_of_an_empty_server_says_so() {
    let server = TestServer::start_on_thread();
    let (output, _cwd) = ferry(&["ls", &server.target()]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), "No files on the server.\n");
}

#[test]
fn get_is_byte_exact_for_binary_empty_and_oddly_named_files() {
    let server = TestServer::start_on_thread();
    let binary = all_bytes(4000);
    server.put_file("all bytes.bin", &binary);
    server.put_file("empty", b"");
    server.put_file("ünï cödé 名前", b"unicode\r\n");
    for (name, content) in [
        ("all bytes.bin", &binary[..]),
        ("empty", &b""[..]),
        ("ünï cödé 名前", &b"unicode\r\n"[..]),
    ] {
        let (output, cwd) = ferry(&["get", &server.target(), name]);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(
            std::fs::read(cwd.path().join(name)).unwrap(),
            content,
            "{name}"
        );
        assert_eq!(dir_entries(cwd.path()), [name], "no temporary file left");
        assert!(stderr(&output).contains("Saved"), "{}", stderr(&output));
    }
}

#[test]
fn get_to_a_path_a_directory_or_standard_output() {
    let server = TestServer::start_on_thread();
    server.put_file("f.bin", &all_bytes(3));
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("sub")).unwrap();
    let output = ferry_in(
        cwd.path(),
        &["get", &server.target(), "f.bin", "-o", "out.bin"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(cwd.path().join("out.bin")).unwrap(),
        all_bytes(3)
    );
    let output = ferry_in(
        cwd.path(),
        &["get", &server.target(), "f.bin", "-o", "sub"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(cwd.path().join("sub/f.bin")).unwrap(),
        all_bytes(3)
    );
    let output = ferry_in(
        cwd.path(),
        &["get", &server.target(), "f.bin", "-o", "-", "--verify"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(output.stdout, all_bytes(3));
}

#[test]
fn get_never_replaces_a_file_silently() {
    let server = TestServer::start_on_thread();
    server.put_file("f", b"new");
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("f"), b"mine").unwrap();
    let output = ferry_in(cwd.path(), &["get", &server.target(), "f"], b"");
    assert_fails_with(&output, "f already exists; not overwriting it");
    assert_eq!(std::fs::read(cwd.path().join("f")).unwrap(), b"mine");
    let output = ferry_in(cwd.path(), &["get", &server.target(), "f", "--force"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(cwd.path().join("f")).unwrap(), b"new");
    // Naming the file with -o is consent to replace it.
    std::fs::write(cwd.path().join("g"), b"old").unwrap();
    let output = ferry_in(cwd.path(), &["get", &server.target(), "f", "-o", "g"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(cwd.path().join("g")).unwrap(), b"new");
}

#[test]
fn put_then_get_round_trips_with_and_without_as() {
    let server = TestServer::start_on_thread();
    let cwd = tempfile::tempdir().unwrap();
    let data = all_bytes(20_000); // about 5 MiB: many chunks each way
    std::fs::write(cwd.path().join("local file.bin"), &data).unwrap();
    let output = ferry_in(
        cwd.path(),
        &["put", &server.target(), "local file.bin"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Stored local file.bin as \"local file.bin\""),
        "{}",
        stderr(&output)
    );
    assert_eq!(server.file("local file.bin").unwrap(), data);

    let output = ferry_in(
        cwd.path(),
        &[
            "put",
            &server.target(),
            "local file.bin",
            "--as",
            "remote é.bin",
        ],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.file("remote é.bin").unwrap(), data);

    let output = ferry_in(
        cwd.path(),
        &["get", &server.target(), "remote é.bin", "-o", "back.bin"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(cwd.path().join("back.bin")).unwrap(), data);

    // An empty file goes up too.
    std::fs::write(cwd.path().join("zero"), b"").unwrap();
    let output = ferry_in(cwd.path(), &["put", &server.target(), "zero"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.file("zero").unwrap(), b"");
}

#[test]
fn verify_checks_both_directions_with_hash() {
    let server = TestServer::start_on_thread();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("v.bin"), all_bytes(10)).unwrap();
    let output = ferry_in(
        cwd.path(),
        &["put", &server.target(), "v.bin", "--verify"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("SHA-256 verified"),
        "{}",
        stderr(&output)
    );
    let output = ferry_in(
        cwd.path(),
        &["get", &server.target(), "v.bin", "-o", "w.bin", "--verify"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("SHA-256 verified"),
        "{}",
        stderr(&output)
    );

    let output = ferry_in(cwd.path(), &["hash", &server.target(), "v.bin"], b"");
    let expected = hex::encode(Sha256::digest(all_bytes(10)));
    assert_eq!(stdout(&output), format!("{expected}  v.bin\n"));
}

#[test]
fn verify_failure_leaves_no_file() {
    let addr = fake_server(|command| match command {
        "RETRIEVE f" => Then::Answer(b"150 3 bytes\r\nabc226 Transfer complete\r\n".to_vec()),
        "HASH f" => Then::Answer(format!("213 SHA-256 {}\r\n", "0".repeat(64)).into_bytes()),
        _ => Then::AnswerAndClose(b"221 Goodbye\r\n".to_vec()),
    });
    let (output, cwd) = ferry(&["get", &addr.to_string(), "f", "--verify"]);
    assert_fails_with(&output, "verification failed for \"f\"");
    assert!(
        dir_entries(cwd.path()).is_empty(),
        "{:?}",
        dir_entries(cwd.path())
    );
}

#[test]
fn rm_deletes_and_explains_a_missing_file() {
    let server = TestServer::start_on_thread();
    server.put_file("doomed", b"x");
    let (output, _cwd) = ferry(&["rm", &server.target(), "doomed"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(server.file("doomed").is_none());
    let (output, _cwd) = ferry(&["rm", &server.target(), "doomed"]);
    assert_fails_with(
        &output,
        "cannot delete \"doomed\": no such file on the server",
    );
}

#[test]
fn failures_exit_non_zero_with_one_clear_line() {
    let server = TestServer::start_on_thread();
    let (output, cwd) = ferry(&["get", &server.target(), "nope"]);
    assert_fails_with(
        &output,
        "no such file \"nope\" on the server (server said: 550",
    );
    assert!(dir_entries(cwd.path()).is_empty());

    // `..` never goes above the home (and is never sent): this is etc/passwd in it.
    let (output, _cwd) = ferry(&["get", &server.target(), "../etc/passwd"]);
    assert_fails_with(
        &output,
        "no such file \"etc/passwd\" on the server (server said: 550",
    );
    let (output, _cwd) = ferry(&["rm", &server.target(), ".."]);
    assert_fails_with(
        &output,
        "invalid file name \"..\": that is the home directory itself",
    );
    let (output, _cwd) = ferry(&["get", &server.target(), "a\\b"]);
    assert_fails_with(&output, "invalid file name \"a\\\\b\"");

    let closed = closed_port().to_string();
    let (output, _cwd) = ferry(&["ls", &closed]);
    assert_fails_with(
        &output,
        &format!("connection refused by {closed}: no Ferry server is listening there"),
    );

    let (output, _cwd) = ferry(&["put", &server.target(), "/no/such/file"]);
    assert_fails_with(&output, "cannot open /no/such/file");

    let (output, _cwd) = ferry(&["ls", "not a target"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("invalid address"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn read_only_server_refuses_uploads_and_deletes_in_words() {
    let server = TestServer::start_on_thread_with(ServerOptions {
        read_only: true,
        ..ServerOptions::default()
    });
    server.put_file("keep", b"precious");
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("up"), b"data").unwrap();
    let output = ferry_in(cwd.path(), &["put", &server.target(), "up"], b"");
    assert_fails_with(&output, "the server is read-only: uploads are not allowed");
    assert!(server.file("up").is_none());
    let output = ferry_in(cwd.path(), &["rm", &server.target(), "keep"], b"");
    assert_fails_with(&output, "or the server is read-only");
    assert_eq!(server.file("keep").unwrap(), b"precious");
}

#[test]
fn over_the_size_limit_is_explained() {
    let server = TestServer::start_on_thread_with(ServerOptions {
        max_file_size: 10,
        ..ServerOptions::default()
    });
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("big"), [1; 11]).unwrap();
    let output = ferry_in(cwd.path(), &["put", &server.target(), "big"], b"");
    assert_fails_with(&output, "over the server's size limit or quota");
}

#[test]
fn a_server_dying_mid_transfer_leaves_no_partial_file() {
    let addr = fake_server(|command| {
        assert_eq!(command, "RETRIEVE f");
        let mut bytes = b"150 100 bytes\r\n".to_vec();
        bytes.extend_from_slice(&[b'x'; 10]);
        Then::AnswerAndClose(bytes)
    });
    let (output, cwd) = ferry(&["get", &addr.to_string(), "f"]);
    assert_fails_with(
        &output,
        "transfer failed: the connection was lost after 10 of 100 bytes; nothing was kept (with --continue a cut-off download is kept and continued)",
    );
    assert!(
        dir_entries(cwd.path()).is_empty(),
        "{:?}",
        dir_entries(cwd.path())
    );
}

#[test]
fn a_cut_upload_says_how_to_resume_it_and_a_local_failure_does_not() {
    let addr = fake_server(|command| {
        assert_eq!(command, "STORE 5000 up");
        Then::AnswerAndClose(b"150 Ready for 5000 bytes\r\n".to_vec())
    });
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("up"), vec![1; 5000]).unwrap();
    let output = ferry_in(cwd.path(), &["put", &addr.to_string(), "up"], b"");
    assert_fails_with(
        &output,
        "; `ferry put --resume` continues it where the server kept the part",
    );
    let server = TestServer::start_on_thread();
    let (output, _cwd) = ferry(&["put", &server.target(), "/no/such/file"]);
    assert!(!stderr(&output).contains("--resume"), "{}", stderr(&output));
}

#[test]
fn a_file_that_changes_during_a_continued_download_is_not_saved() {
    let stats = std::sync::atomic::AtomicUsize::new(0);
    let addr = fake_server(move |command| match command {
        "STAT f" => {
            // The second STAT sees another modification time.
            let n = stats.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let reply = format!("213 file 10 2026-11-24T16:13:2{n}Z\r\n");
            Then::Answer(reply.into_bytes())
        }
        "READ 0 10 f" => {
            Then::Answer(b"150 10 bytes\r\n0123456789226 Transfer complete\r\n".to_vec())
        }
        _ => Then::AnswerAndClose(b"221 Goodbye\r\n".to_vec()),
    });
    let (output, cwd) = ferry(&["get", &addr.to_string(), "f", "--continue"]);
    assert_fails_with(
        &output,
        "\"f\" changed on the server during the download; nothing was kept, try again",
    );
    assert!(
        dir_entries(cwd.path()).is_empty(),
        "{:?}",
        dir_entries(cwd.path())
    );
}

#[test]
fn put_resume_to_a_version_1_server_stores_the_whole_file() {
    let (addr, seen) = recording_server(|command| match command {
        "RESUME 4 up" => Then::Answer(b"502 Unknown command\r\n".to_vec()),
        "STORE 4 up" => Then::Answer(b"150 Ready for 4 bytes\r\n".to_vec()),
        "dat" => Then::Answer(b"226 Stored 4 bytes\r\n".to_vec()),
        _ => Then::AnswerAndClose(b"221 Goodbye\r\n".to_vec()),
    });
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("up"), b"dat\n").unwrap();
    let output = ferry_in(
        cwd.path(),
        &["put", &addr.to_string(), "up", "--resume"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    std::thread::sleep(std::time::Duration::from_millis(100));
    // The fake server reads the 4 data bytes as a line of their own.
    assert_eq!(
        *seen.lock().unwrap(),
        ["RESUME 4 up", "STORE 4 up", "dat", "QUIT"]
    );
}

#[test]
fn a_full_server_is_explained() {
    // A full server answers 421 instead of the 220 greeting.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::Write;
        let (mut stream, _) = listener.accept().unwrap();
        let _ = stream.write_all(b"421 Too many connections\r\n");
    });
    let (output, _cwd) = ferry(&["ls", &addr.to_string()]);
    assert_fails_with(
        &output,
        "the server closed the connection: Too many connections",
    );
}

#[test]
fn help_and_bad_flags() {
    let (output, _cwd) = ferry(&["--help"]);
    assert!(output.status.success());
    let help = stdout(&output);
    for word in ["ls", "get", "put", "rm", "--verify"] {
        assert!(help.contains(word), "{help}");
    }
    let (output, _cwd) = ferry(&["get", "127.0.0.1:1"]);
    assert!(!output.status.success());
}

#[cfg(unix)]
#[test]
fn get_into_a_pipe_writes_through_it_instead_of_replacing_it() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let server = TestServer::start_on_thread();
    server.put_file("f", &all_bytes(50));
    let cwd = tempfile::tempdir().unwrap();
    let fifo = cwd.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut data = Vec::new();
            std::fs::File::open(fifo)
                .unwrap()
                .read_to_end(&mut data)
                .unwrap();
            data
        })
    };
    let output = ferry_in(
        cwd.path(),
        &["get", &server.target(), "f", "-o", "pipe"],
        b"",
    );
    let still_a_pipe = std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo();
    if !still_a_pipe || !output.status.success() {
        // Unblock the reader before failing.
        let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
    }
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(still_a_pipe, "the pipe was replaced by a file");
    assert_eq!(reader.join().unwrap(), all_bytes(50));
    assert_eq!(dir_entries(cwd.path()), ["pipe"]);
}

#[cfg(unix)]
#[test]
fn get_over_a_symbolic_link_replaces_the_file_it_points_to() {
    let server = TestServer::start_on_thread();
    server.put_file("f", b"new content");
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("real")).unwrap();
    std::fs::write(cwd.path().join("real/target.txt"), b"old").unwrap();
    std::os::unix::fs::symlink("real/target.txt", cwd.path().join("link")).unwrap();
    let output = ferry_in(
        cwd.path(),
        &["get", &server.target(), "f", "-o", "link"],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(std::fs::symlink_metadata(cwd.path().join("link"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read(cwd.path().join("real/target.txt")).unwrap(),
        b"new content"
    );
    assert_eq!(dir_entries(&cwd.path().join("real")), ["target.txt"]);
}

#[test]
fn store_sends_no_data_unless_the_server_says_150() {
    let (addr, seen) = recording_server(|_| Then::Answer(b"550 Read-only\r\n".to_vec()));
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("up"), b"DATA that must not be sent\n").unwrap();
    let output = ferry_in(cwd.path(), &["put", &addr.to_string(), "up"], b"");
    assert_fails_with(&output, "the server is read-only");
    // Give the fake server a moment to read anything that might still come.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(*seen.lock().unwrap(), ["STORE 27 up", "QUIT"]);
}

#[test]
fn one_shot_commands_say_goodbye() {
    let (addr, seen) = recording_server(|line| match line {
        "NOOP" => Then::Answer(b"200 OK\r\n".to_vec()),
        "DELETE x" => Then::Answer(b"250 Deleted\r\n".to_vec()),
        _ => Then::AnswerAndClose(b"221 Goodbye\r\n".to_vec()),
    });
    let (output, _cwd) = ferry(&["rm", &addr.to_string(), "x"]);
    assert!(output.status.success(), "{}", stderr(&output));
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(*seen.lock().unwrap(), ["DELETE x", "QUIT"]);
}
