//! The interactive prompt, driven through a pipe (rustyline reads plain
//! lines when standard input is not a terminal), against a real server.

mod fake_server;
mod ferry_binary;

use fake_server::*;
use ferry_binary::*;
use ferry_testkit::data::all_bytes;
use ferry_testkit::{closed_port, ServerOptions, TestServer};

#[test]
fn a_session_at_the_prompt_uses_the_original_commands() {
    let server = TestServer::start_on_thread();
    server.put_file("remote file.txt", b"from the server");
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("local.bin"), all_bytes(100)).unwrap();
    let port = server.addr.port();
    let script = format!(
        "connect 127.0.0.1 {port}\n\
         LIST\n\
         retrieve remote file.txt\n\
         Store local.bin\n\
         hash local.bin\n\
         DELETE remote file.txt\n\
         list\n\
         QUIT\n"
    );
    let output = ferry_in(cwd.path(), &["--verify"], script.as_bytes());
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "stdout {out}\nstderr {}",
        stderr(&output)
    );
    assert!(
        out.contains(&format!("Connected to 127.0.0.1:{port}: ")),
        "{out}"
    );
    assert!(
        out.contains("remote file.txt\n1 file, 15 B in total"),
        "{out}"
    );
    assert!(
        out.contains("Saved \"remote file.txt\" to remote file.txt (15 B, SHA-256 verified)"),
        "{out}"
    );
    assert!(out.contains("Stored local.bin as \"local.bin\""), "{out}");
    assert!(out.contains("Deleted \"remote file.txt\""), "{out}");
    assert!(
        out.ends_with("local.bin\n1 file, 25.0 KiB in total\nGoodbye.\n"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(cwd.path().join("remote file.txt")).unwrap(),
        b"from the server"
    );
    assert_eq!(server.file("local.bin").unwrap(), all_bytes(100));
    assert!(server.file("remote file.txt").is_none());
}

#[test]
fn connect_accepts_host_colon_port_and_a_target_on_the_command_line() {
    let server = TestServer::start_on_thread();
    server.put_file("x", b"1");
    let cwd = tempfile::tempdir().unwrap();
    let script = format!("CONNECT {}\nlist\n", server.target());
    let output = ferry_in(cwd.path(), &[], script.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 file, 1 B in total"),
        "{}",
        stdout(&output)
    );

    // End of input (Ctrl-D) leaves the prompt as QUIT does.
    let output = ferry_in(cwd.path(), &[&server.target()], b"LIST\n");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 file, 1 B in total"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn mistakes_are_explained_and_make_a_script_fail() {
    let server = TestServer::start_on_thread();
    server.put_file("here", b"x");
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("here"), b"mine").unwrap();
    let script = format!(
        "LIST\n\
         frob\n\
         connect 127.0.0.1 {closed}\n\
         connect 127.0.0.1 {port}\n\
         retrieve nope\n\
         retrieve here\n\
         retrieve ../x\n\
         store /no/such/file\n\
         list extra\n\
         quit\n",
        closed = closed_port().port(),
        port = server.addr.port()
    );
    let output = ferry_in(cwd.path(), &[], script.as_bytes());
    assert!(!output.status.success());
    let err = stderr(&output);
    for expected in [
        "Not connected. Connect first: CONNECT <host> <port>",
        "Unknown command \"frob\". Type HELP for the list of commands.",
        "connection refused by 127.0.0.1:",
        "no such file \"nope\" on the server",
        "here already exists; not overwriting it",
        "no such file \"x\" on the server",
        "cannot open /no/such/file",
        "no such directory \"extra\" on the server",
    ] {
        assert!(err.contains(expected), "{expected:?} missing from {err}");
    }
    assert_eq!(std::fs::read(cwd.path().join("here")).unwrap(), b"mine");
    assert_eq!(dir_entries(cwd.path()), ["here"]);
}

#[test]
fn a_lost_connection_is_reported_and_the_prompt_goes_on() {
    let addr = fake_server(|command| match command {
        "LIST" => Then::Answer(b"150 0 bytes\r\n226 0 entries\r\n".to_vec()),
        "STAT f" => Then::Answer(b"213 file 100 2026-11-24T16:13:25Z\r\n".to_vec()),
        _ => Then::AnswerAndClose(b"150 100 bytes\r\n0123456789".to_vec()),
    });
    let cwd = tempfile::tempdir().unwrap();
    let script = format!("connect {addr}\nretrieve f\nlist\n");
    let output = ferry_in(cwd.path(), &[], script.as_bytes());
    let err = stderr(&output);
    assert!(
        err.contains("the download of \"f\" was cut off at 10 of 100 bytes (transfer failed: the connection was lost after 10 of 100 bytes); the part is kept in "),
        "{err}"
    );
    assert!(
        err.contains("(CONNECT again and RETRIEVE it to continue.)"),
        "{err}"
    );
    assert!(
        err.contains("The connection is closed. Use CONNECT to connect again."),
        "{err}"
    );
    assert!(err.contains("Not connected."), "{err}");
    // Only the hidden part, never a partial file under the real name.
    assert_eq!(dir_entries(cwd.path()), [".f.part"]);
    assert_eq!(
        std::fs::read(cwd.path().join(".f.part")).unwrap(),
        b"0123456789"
    );
}

#[test]
fn retrieve_from_a_version_1_server_falls_back_to_a_whole_retrieve() {
    // No STAT or READ there (502): the prompt's RETRIEVE still downloads.
    let addr = fake_server(|command| match command {
        "RETRIEVE old.txt" => {
            Then::Answer(b"150 5 bytes\r\nhello226 Transfer complete\r\n".to_vec())
        }
        "QUIT" => Then::AnswerAndClose(b"221 Goodbye\r\n".to_vec()),
        _ => Then::Answer(b"502 Unknown command\r\n".to_vec()),
    });
    let cwd = tempfile::tempdir().unwrap();
    let script = format!("connect {addr}\nretrieve old.txt\nquit\n");
    let output = ferry_in(cwd.path(), &[], script.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(cwd.path().join("old.txt")).unwrap(), b"hello");
    assert_eq!(dir_entries(cwd.path()), ["old.txt"]);
}

#[test]
fn an_idle_timeout_is_explained_when_the_next_command_is_typed() {
    use std::io::Write;
    let server = TestServer::start_on_thread_with(ServerOptions {
        idle_timeout: std::time::Duration::from_secs(1),
        ..ServerOptions::default()
    });
    let cwd = tempfile::tempdir().unwrap();
    let mut child = spawn_ferry(cwd.path(), &[]);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "connect {}", server.target()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    writeln!(stdin, "list").unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert!(
        err.contains("the server closed the connection: Idle timeout"),
        "{err}"
    );
    assert!(err.contains("Use CONNECT to connect again"), "{err}");
}

#[test]
fn quit_and_end_of_input_both_send_quit() {
    for script in ["LIST\nquit\nLIST\n", "LIST\n"] {
        let (addr, seen) = recording_server(|line| match line {
            "LIST" => Then::Answer(b"150 0 bytes\r\n226 0 entries\r\n".to_vec()),
            _ => Then::AnswerAndClose(b"221 Goodbye\r\n".to_vec()),
        });
        let cwd = tempfile::tempdir().unwrap();
        let output = ferry_in(cwd.path(), &[&addr.to_string()], script.as_bytes());
        assert!(output.status.success(), "{}", stderr(&output));
        std::thread::sleep(std::time::Duration::from_millis(100));
        // The typed LIST, then QUIT; nothing after QUIT.
        assert_eq!(*seen.lock().unwrap(), ["LIST", "QUIT"], "{script:?}");
    }
}
