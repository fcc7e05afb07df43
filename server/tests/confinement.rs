//! Nothing outside the root is ever read, written, listed or deleted,
//! whatever the name and whatever links someone placed inside the root.

mod raw_client;

use ferry_testkit::TestServer;
use raw_client::Client;
use std::os::unix::fs::symlink;

const SENTINEL: &[u8] = b"sentinel outside the root\n";

/// A server whose root holds links pointing outside (to a sentinel file and
/// to the directory around the root) and one pointing to a file inside.
async fn booby_trapped() -> TestServer {
    let server = TestServer::start().await;
    let outside = server.dir.path().join("sentinel.txt");
    std::fs::write(&outside, SENTINEL).unwrap();
    std::fs::write(server.path("real.txt"), b"real").unwrap();
    symlink(&outside, server.path("abs-link")).unwrap();
    symlink("../sentinel.txt", server.path("rel-link")).unwrap();
    symlink(server.dir.path(), server.path("dir-link")).unwrap();
    symlink("real.txt", server.path("inside-link")).unwrap();
    symlink("missing", server.path("dangling-link")).unwrap();
    std::fs::create_dir(server.path("subdir")).unwrap();
    std::fs::write(server.path("subdir/nested.txt"), b"nested").unwrap();
    server
}

fn assert_sentinel_intact(server: &TestServer) {
    let outside = server.dir.path().join("sentinel.txt");
    assert_eq!(std::fs::read(&outside).unwrap(), SENTINEL);
    let names: Vec<_> = std::fs::read_dir(server.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(
        names,
        vec!["root", "sentinel.txt"],
        "nothing appears beside the root"
    );
}

#[tokio::test]
async fn traversal_names_are_rejected_with_553() {
    let server = booby_trapped().await;
    let mut client = Client::connect(server.addr).await;
    let corpus: &[&[u8]] = &[
        b"../sentinel.txt",
        b"..",
        b".",
        b"/etc/passwd",
        b"..\\sentinel.txt",
        b"subdir/nested.txt",
        b"subdir\\nested.txt",
        b"dir-link/sentinel.txt",
        b"real.txt\0",
        b"\0",
        b"a\x01b",
        b"del\x7f",
        b"esc\x1b[31m",
        b"\xc0\xaf",
    ];
    for name in corpus {
        for verb in ["RETRIEVE", "HASH", "DELETE", "STORE 3"] {
            let mut line = format!("{verb} ").into_bytes();
            line.extend_from_slice(name);
            line.extend_from_slice(b"\r\n");
            client.send_raw(&line).await;
            let reply = client.reply().await;
            assert_eq!(
                reply.code,
                553,
                "{verb} {:?}: {reply}",
                String::from_utf8_lossy(name)
            );
        }
    }
    assert_eq!(client.command("NOOP").await.code, 200);
    assert_sentinel_intact(&server);
}

/// The symbolic links [`booby_trapped`] plants.
const LINKS: [&str; 5] = [
    "abs-link",
    "rel-link",
    "dir-link",
    "inside-link",
    "dangling-link",
];

#[tokio::test]
async fn symbolic_links_are_never_followed() {
    let server = booby_trapped().await;
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.names().await, vec!["real.txt"]);
    for link in LINKS.iter().chain(&["subdir"]) {
        let retrieved = client.retrieve(link).await;
        assert_eq!(retrieved.unwrap_err().code, 550, "RETRIEVE {link}");
        assert_eq!(
            client.command(&format!("HASH {link}")).await.code,
            550,
            "HASH {link}"
        );
        assert_eq!(
            client.command(&format!("DELETE {link}")).await.code,
            550,
            "DELETE {link}"
        );
    }
    // The links are still there: DELETE did not remove them.
    for link in LINKS {
        assert!(server
            .path(link)
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink());
    }
    assert_eq!(std::fs::read(server.path("real.txt")).unwrap(), b"real");
    assert_sentinel_intact(&server);
}

#[tokio::test]
async fn store_onto_a_link_replaces_the_link_not_its_target() {
    let server = booby_trapped().await;
    let mut client = Client::connect(server.addr).await;
    assert_eq!(client.store("abs-link", b"new").await.code, 226);
    assert_eq!(client.store("rel-link", b"new").await.code, 226);
    assert_eq!(client.store("dir-link", b"new").await.code, 226);
    assert_eq!(client.store("inside-link", b"new").await.code, 226);
    for name in ["abs-link", "rel-link", "dir-link", "inside-link"] {
        let metadata = server.path(name).symlink_metadata().unwrap();
        assert!(metadata.is_file(), "{name} is now a regular file");
        assert_eq!(client.retrieve(name).await.unwrap(), b"new");
    }
    assert_eq!(std::fs::read(server.path("real.txt")).unwrap(), b"real");
    assert_sentinel_intact(&server);
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
    assert_eq!(client.command("DELETE fifo").await.code, 550);
    assert_eq!(client.names().await, Vec::<String>::new());
}
