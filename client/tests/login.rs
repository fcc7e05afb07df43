//! Logging in from `ferry` against a real ferry-server with an accounts
//! file: user@HOST:PORT in one-shot commands and at the prompt, the password
//! from a file, the environment or (for a script) the next input line, homes
//! and read-only accounts, and every refusal in words.

mod ferry_binary;

use ferry_binary::*;
use ferry_testkit::{run_to_end, LoginOptions, ServerOptions, TestAccount, TestServer};
use std::time::Duration;

/// A server with alice (home `alice/`), bob (read-only, the root) and no
/// anonymous access; failed logins answered at once.
fn server_with_accounts() -> TestServer {
    TestServer::start_on_thread_with(ServerOptions {
        accounts: Some(vec![
            TestAccount::new("alice", "wonder land").home("alice"),
            TestAccount::new("bob", "builder").read_only(),
        ]),
        login: LoginOptions {
            delay: Duration::ZERO,
            ..LoginOptions::default()
        },
        ..ServerOptions::default()
    })
}

#[test]
fn one_shot_commands_log_in_with_a_password_file_or_the_environment() {
    let server = server_with_accounts();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("pw"), "wonder land\n").unwrap();
    std::fs::write(cwd.path().join("up.txt"), b"alice's").unwrap();
    let alice = format!("alice@{}", server.target());

    let output = ferry_with(
        cwd.path(),
        &["put", &alice, "up.txt", "--password-file", "pw"],
        &[],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // The account's home is alice/ below the root: paths are inside it.
    assert_eq!(server.file("alice/up.txt").unwrap(), b"alice's");
    let output = ferry_with(
        cwd.path(),
        &["ls", &alice, "--names"],
        &[("FERRY_PASSWORD", "wonder land")],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "up.txt\n");
    let output = ferry_with(
        cwd.path(),
        &["get", &alice, "/../up.txt", "-o", "back.txt"],
        &[("FERRY_PASSWORD", "wonder land")],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(cwd.path().join("back.txt")).unwrap(),
        b"alice's"
    );
}

#[test]
fn login_refusals_are_one_line_in_words() {
    let server = server_with_accounts();
    let cwd = tempfile::tempdir().unwrap();
    let wrong = [("FERRY_PASSWORD", "not it")];
    let output = ferry_with(
        cwd.path(),
        &["ls", &format!("alice@{}", server.target())],
        &wrong,
        b"",
    );
    assert_fails_with(
        &output,
        "login incorrect (server said: 530 Login incorrect)",
    );
    let output = ferry_with(
        cwd.path(),
        &["ls", &format!("nobody@{}", server.target())],
        &wrong,
        b"",
    );
    assert_fails_with(&output, "login incorrect (server said: 530");
    let output = ferry_with(cwd.path(), &["ls", &server.target()], &[], b"");
    assert_fails_with(
        &output,
        "log in first: the server refused LIST (server said: 530",
    );

    let bob = format!("bob@{}", server.target());
    let builder = [("FERRY_PASSWORD", "builder")];
    let output = ferry_with(cwd.path(), &["mkdir", &bob, "new"], &builder, b"");
    assert_fails_with(
        &output,
        "or the server is read-only (server said: 550 Read-only)",
    );
    assert!(!server.path("new").exists());

    // No file, no variable, no terminal: said so, not waited for.
    let output = run_to_end(
        std::path::Path::new(env!("CARGO_BIN_EXE_ferry")),
        &["ls", &bob],
        b"",
    );
    assert_fails_with(&output, "no password for bob@127.0.0.1:");
    assert!(
        stderr(&output).contains("--password-file FILE or FERRY_PASSWORD"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_prompt_connects_as_a_user_and_logs_in_again_as_another() {
    let server = server_with_accounts();
    std::fs::create_dir_all(server.path("alice/docs")).unwrap();
    server.put_file("alice/docs/note.txt", b"hers");
    server.put_file("top.txt", b"the root");
    let cwd = tempfile::tempdir().unwrap();
    // A script on standard input gives each password on the line after the login.
    let script = format!(
        "connect alice@127.0.0.1 {port}\n\
         wonder land\n\
         cd docs\n\
         pwd\n\
         list\n\
         login bob\n\
         builder\n\
         pwd\n\
         list\n\
         store local.txt\n\
         login alice\n\
         wrong\n\
         quit\n",
        port = server.addr.port()
    );
    std::fs::write(cwd.path().join("local.txt"), b"x").unwrap();
    let output = ferry_with(cwd.path(), &[], &[], script.as_bytes());
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(out.contains("Logged in as alice."), "{out}\n{err}");
    assert!(out.contains("Now in /docs\n/docs\n"), "{out}");
    assert!(out.contains("  note.txt\n1 file, 4 B in total"), "{out}");
    // A new login starts in the new home.
    assert!(out.contains("Logged in as bob.\n/\n"), "{out}");
    assert!(out.contains("  top.txt\n"), "{out}");
    assert!(
        err.contains("the server is read-only: uploads are not allowed"),
        "{err}"
    );
    assert!(
        err.contains("Error: login incorrect (server said: 530"),
        "{err}"
    );
    assert!(
        !output.status.success(),
        "a script with failures exits non-zero"
    );
    assert!(server.file("local.txt").is_none());
}

#[test]
fn a_server_without_accounts_asks_for_no_password() {
    let server = TestServer::start_on_thread();
    let cwd = tempfile::tempdir().unwrap();
    let script = format!("connect alice@{}\npwd\n", server.target());
    let output = ferry_with(cwd.path(), &[], &[], script.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("This server needs no login; go ahead.\n/\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_quota_refusal_is_in_words_and_login_asks_for_the_user() {
    let server = TestServer::start_on_thread_with(ServerOptions {
        accounts: Some(vec![TestAccount::new("dora", "explorer")
            .home("dora")
            .quota(1000)]),
        login: LoginOptions {
            delay: Duration::ZERO,
            ..LoginOptions::default()
        },
        ..ServerOptions::default()
    });
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("big"), vec![7; 2000]).unwrap();
    std::fs::write(cwd.path().join("small"), vec![7; 900]).unwrap();
    let dora = format!("dora@{}", server.target());
    let env = [("FERRY_PASSWORD", "explorer")];
    let output = ferry_with(cwd.path(), &["put", &dora, "big"], &env, b"");
    assert_fails_with(
        &output,
        "\"big\" is too large: it is over the server's size limit or quota (server said: 552",
    );
    // At the prompt, LOGIN without a user asks for it on the next line.
    let script = format!(
        "connect {}\nlogin\ndora\nstore small\nlist\n",
        server.target()
    );
    let output = ferry_with(cwd.path(), &[], &env, script.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Logged in as dora."),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("  small\n1 file, 900 B in total"),
        "{}",
        stdout(&output)
    );
    assert_eq!(server.file("dora/small").unwrap(), vec![7; 900]);
    assert!(server.file("dora/big").is_none());
}

/// An address of this machine that is not a loopback address, if it has
/// one (connecting a UDP socket only looks the route up; nothing is sent).
fn non_loopback_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("198.51.100.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    let usable = std::net::TcpListener::bind((ip, 0)).is_ok();
    (usable && !ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn a_password_is_not_sent_in_clear_text_to_another_machine_unless_allowed() {
    let Some(ip) = non_loopback_address() else {
        eprintln!("SKIPPED: this machine has no non-loopback address (Target::is_confidential is unit-tested)");
        return;
    };
    for server_allows in [false, true] {
        let server = TestServer::start_on_thread_with(ServerOptions {
            listen_ip: ip,
            accounts: Some(vec![TestAccount::new("alice", "wonder land")]),
            login: LoginOptions {
                delay: Duration::ZERO,
                allow_plain_login: server_allows,
                ..LoginOptions::default()
            },
            ..ServerOptions::default()
        });
        server.put_file("f", b"x");
        let cwd = tempfile::tempdir().unwrap();
        let alice = format!("alice@{}", server.addr);
        let env = [("FERRY_PASSWORD", "wonder land")];
        let output = ferry_with(cwd.path(), &["ls", &alice], &env, b"");
        assert_fails_with(
            &output,
            &format!("not sending the password for {alice} in clear text over the network: connect through a wss:// bridge"),
        );
        // The prompt refuses alike, and keeps the connection for another try.
        let script = format!("connect {alice}\npwd\n");
        let prompt = ferry_with(cwd.path(), &[], &env, script.as_bytes());
        assert!(
            stderr(&prompt).contains("Error: not sending the password for "),
            "{}",
            stderr(&prompt)
        );
        assert!(stdout(&prompt).ends_with("\n/\n"), "{}", stdout(&prompt));
        let output = ferry_with(
            cwd.path(),
            &["ls", &alice, "--allow-plain-login", "--names"],
            &env,
            b"",
        );
        if server_allows {
            assert!(output.status.success(), "{}", stderr(&output));
            assert_eq!(stdout(&output), "f\n");
        } else {
            assert_fails_with(
                &output,
                "login incorrect (server said: 530 Log in over TLS)",
            );
        }
    }
}
