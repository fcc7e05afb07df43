//! Nothing outside the root is ever read, written, listed or deleted,
//! whatever the path and whatever links someone placed inside the root: a
//! link in any component, the last one included, gets 550 and is left as it
//! is (docs/PROTOCOL.md §3.1).

mod raw_client;

use ferry_testkit::TestServer;
use raw_client::Client;
use std::os::unix::fs::symlink;

const SENTINEL: &[u8] = b"sentinel outside the root\n";

/// A server whose root holds links pointing outside (to a sentinel file and
/// to the directory around the root) and inside, at the top and in nested
/// directories, plus a FIFO and a socket.
async fn booby_trapped() -> TestServer {
    let server = TestServer::start().await;
    let outside = server.dir.path().join("sentinel.txt");
    std::fs::write(&outside, SENTINEL).unwrap();
    std::fs::create_dir(server.dir.path().join("outside-dir")).unwrap();
    std::fs::write(server.dir.path().join("outside-dir/secret"), SENTINEL).unwrap();
    std::fs::write(server.path("real.txt"), b"real").unwrap();
    symlink(&outside, server.path("abs-link")).unwrap();
    symlink("../sentinel.txt", server.path("rel-link")).unwrap();
    symlink(server.dir.path(), server.path("dir-link")).unwrap();
    symlink("real.txt", server.path("inside-link")).unwrap();
    symlink("missing", server.path("dangling-link")).unwrap();
    std::fs::create_dir_all(server.path("subdir/deeper")).unwrap();
    std::fs::write(server.path("subdir/nested.txt"), b"nested").unwrap();
    std::fs::write(server.path("subdir/deeper/deep.txt"), b"deep").unwrap();
    // Links as intermediate directories: inside the root and outside it.
    symlink("subdir", server.path("inside-dir-link")).unwrap();
    symlink("../../outside-dir", server.path("subdir/outside-dir-link")).unwrap();
    symlink("../nested.txt", server.path("subdir/deeper/last-link")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        server.path("subdir/fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        0,
    )
    .unwrap();
    let socket = std::os::unix::net::UnixListener::bind(server.path("subdir/socket")).unwrap();
    std::mem::forget(socket);
    server
}

fn assert_outside_intact(server: &TestServer) {
    let outside = server.dir.path().join("sentinel.txt");
    assert_eq!(std::fs::read(&outside).unwrap(), SENTINEL);
    let secret = server.dir.path().join("outside-dir/secret");
    assert_eq!(std::fs::read(secret).unwrap(), SENTINEL);
    let mut names: Vec<_> = std::fs::read_dir(server.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["outside-dir", "root", "sentinel.txt"],
        "nothing appears beside the root"
    );
    let outside_dir: Vec<_> = std::fs::read_dir(server.dir.path().join("outside-dir"))
        .unwrap()
        .collect();
    assert_eq!(outside_dir.len(), 1, "nothing appears in outside-dir");
}

#[tokio::test]
async fn traversal_paths_are_rejected_with_553() {
    let server = booby_trapped().await;
    let mut client = Client::connect(server.addr).await;
    let corpus: &[&[u8]] = &[
        b"../sentinel.txt",
        b"..",
        b".",
        b"/etc/passwd",
        b"..\\sentinel.txt",
        b"subdir/../../sentinel.txt",
        b"subdir/./nested.txt",
        b"subdir//nested.txt",
        b"subdir/",
        b"/subdir/nested.txt",
        b"subdir\\nested.txt",
        b"dir-link/../sentinel.txt",
        b"real.txt\0",
        b"\0",
        b"a\x01b",
        b"subdir/del\x7f",
        b"esc\x1b[31m",
        b"\xc0\xaf",
        b"subdir/\xff",
    ];
    for path in corpus {
        for verb in [
            "RETRIEVE", "HASH", "DELETE", "STORE 3", "READ 0 1", "STAT", "MKDIR", "RMDIR", "LIST",
        ] {
            let mut line = format!("{verb} ").into_bytes();
            line.extend_from_slice(path);
            line.extend_from_slice(b"\r\n");
            client.send_raw(&line).await;
            let reply = client.reply().await;
            assert_eq!(
                reply.code,
                553,
                "{verb} {:?}: {reply}",
                String::from_utf8_lossy(path)
            );
        }
    }
    assert_eq!(client.command("NOOP").await.code, 200);
    assert_outside_intact(&server);
}

/// Every link planted by [`booby_trapped`], and paths that go through one.
const LINKED_PATHS: [&str; 12] = [
    "abs-link",
    "rel-link",
    "dir-link",
    "inside-link",
    "dangling-link",
    "dir-link/sentinel.txt",
    "dir-link/outside-dir/secret",
    "inside-dir-link/nested.txt",
    "inside-dir-link/deeper/deep.txt",
    "subdir/outside-dir-link",
    "subdir/outside-dir-link/secret",
    "subdir/deeper/last-link",
];

#[tokio::test]
async fn links_in_any_component_are_never_followed() {
    let server = booby_trapped().await;
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.names().await, vec!["real.txt", "subdir"]);
    let special = ["subdir/fifo", "subdir/socket"];
    for path in LINKED_PATHS.iter().chain(&special) {
        let retrieved = client.retrieve(path).await;
        assert_eq!(retrieved.unwrap_err().code, 550, "RETRIEVE {path}");
        for verb in [
            "HASH",
            "DELETE",
            "READ 0 10",
            "STAT",
            "RMDIR",
            "LIST",
            "STORE 3",
        ] {
            let reply = client.command(&format!("{verb} {path}")).await;
            assert_eq!(reply.code, 550, "{verb} {path}: {reply}");
        }
        let reply = client.command(&format!("RENAME {path}\tmoved")).await;
        assert_eq!(reply.code, 550, "RENAME {path}: {reply}");
        let reply = client.command(&format!("RENAME real.txt\t{path}")).await;
        assert_eq!(reply.code, 550, "RENAME onto {path}: {reply}");
    }
    for path in [
        "dir-link/new",
        "inside-dir-link/new",
        "subdir/outside-dir-link/new",
    ] {
        assert_eq!(client.command(&format!("MKDIR {path}")).await.code, 550);
        assert_eq!(client.command(&format!("STORE 1 {path}")).await.code, 550);
    }
    // The nested files are still reachable by their real paths.
    assert_eq!(
        client.retrieve("subdir/nested.txt").await.unwrap(),
        b"nested"
    );
    assert_eq!(
        client.retrieve("subdir/deeper/deep.txt").await.unwrap(),
        b"deep"
    );
    let listed = client.list_dir("subdir").await;
    let names: Vec<_> = listed.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["deeper", "nested.txt"],
        "no link, FIFO or socket"
    );
    // The links are still there: nothing removed or replaced them.
    for path in LINKED_PATHS.iter().filter(|p| p.matches('/').count() == 0) {
        let kind = server.path(path).symlink_metadata().unwrap().file_type();
        assert!(kind.is_symlink(), "{path} is still a link");
    }
    assert!(server
        .path("subdir/deeper/last-link")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(!server.path("moved").exists());
    assert_eq!(std::fs::read(server.path("real.txt")).unwrap(), b"real");
    assert_outside_intact(&server);
}

#[tokio::test]
async fn the_staging_area_is_unreachable() {
    let server = booby_trapped().await;
    let mut client = Client::connect(server.addr).await;
    for path in [".ferry-tmp", ".ferry-tmp/x", ".ferry-tmp/a/b"] {
        for verb in [
            "RETRIEVE", "HASH", "DELETE", "READ 0 1", "STAT", "MKDIR", "RMDIR", "LIST", "STORE 1",
        ] {
            let reply = client.command(&format!("{verb} {path}")).await;
            assert_eq!(reply.code, 550, "{verb} {path}: {reply}");
        }
        let reply = client.command(&format!("RENAME real.txt\t{path}")).await;
        assert_eq!(reply.code, 550, "RENAME onto {path}");
        let reply = client.command(&format!("RENAME {path}\tout")).await;
        assert_eq!(reply.code, 550, "RENAME from {path}");
    }
    // A staging name below the top is an ordinary name.
    assert_eq!(client.command("MKDIR subdir/.ferry-tmp").await.code, 257);
    assert!(!client.names().await.contains(&".ferry-tmp".to_owned()));
    assert!(server.path(".ferry-tmp").is_dir());
}

#[tokio::test]
async fn a_fifo_in_the_root_does_not_hang_the_server() {
    let server = TestServer::start().await;
    rustix::fs::mknodat(
        rustix::fs::CWD,
        server.path("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        0,
    )
    .unwrap();
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.retrieve("fifo").await.unwrap_err().code, 550);
    assert_eq!(client.command("HASH fifo").await.code, 550);
    assert_eq!(client.command("READ 0 1 fifo").await.code, 550);
    assert_eq!(client.command("STORE 1 fifo").await.code, 550);
    assert_eq!(client.command("DELETE fifo").await.code, 550);
    assert_eq!(client.names().await, Vec::<String>::new());
    let kind = server.path("fifo").symlink_metadata().unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind));
}
