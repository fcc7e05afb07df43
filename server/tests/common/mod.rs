//! Test support: a server on an ephemeral loopback port with a temporary
//! root, and a tiny raw-TCP client that reads replies line by line and
//! data by count, written from docs/PROTOCOL.md alone.

#![allow(dead_code)]

use ferry_proto::{parse_listing, ListingEntry, Reply};
use ferry_server::{Config, Server, ServerError};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Longest a test waits for any single reply or read.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// A running server whose root is `<tempdir>/root`; the temporary
/// directory around it holds things that must stay untouched.
pub struct TestServer {
    pub addr: SocketAddr,
    pub root: PathBuf,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServerError>>>,
}

impl TestServer {
    /// A server with the default configuration and an empty root.
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A server with an empty root and the configuration adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        TestServer::start_in(dir, root, adjust).await
    }

    /// A server on `root` (which may not exist yet) inside `dir`.
    pub async fn start_in(
        dir: tempfile::TempDir,
        root: PathBuf,
        adjust: impl FnOnce(&mut Config),
    ) -> TestServer {
        let mut config = Config::new(&root);
        adjust(&mut config);
        let server = Server::bind(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            root,
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A connected client that has read the greeting.
    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// Path of `name` in the root.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Asks the server to shut down; returns the task to await.
    pub fn begin_shutdown(&mut self) -> JoinHandle<Result<(), ServerError>> {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap()
    }

    /// Entries of the upload directory (in-progress and leftover uploads).
    pub fn temp_entries(&self) -> Vec<String> {
        temp_entries(&self.root)
    }

    /// Waits until the upload directory is empty, failing after a while.
    pub async fn wait_no_temp_files(&self) {
        for _ in 0..200 {
            if self.temp_entries().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("temporary files left: {:?}", self.temp_entries());
    }
}

/// Entries of `<root>/.ferry-tmp`.
pub fn temp_entries(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join(ferry_server::TEMP_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// A raw protocol client.
pub struct Client {
    pub stream: BufReader<TcpStream>,
}

impl Client {
    /// Connects and checks the `220` greeting.
    pub async fn connect(addr: SocketAddr) -> Client {
        let mut client = Client::connect_raw(addr).await;
        let greeting = client.reply().await;
        assert_eq!(greeting.code, 220, "greeting: {greeting}");
        client
    }

    /// Connects without reading anything.
    pub async fn connect_raw(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        Client {
            stream: BufReader::new(stream),
        }
    }

    /// Sends raw bytes.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.unwrap();
    }

    /// Sends a command line with CRLF.
    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    /// Reads one reply line; it must end in CRLF.
    pub async fn reply(&mut self) -> Reply {
        self.try_reply()
            .await
            .expect("connection closed while waiting for a reply")
    }

    /// Reads one reply line, or `None` at end of stream.
    pub async fn try_reply(&mut self) -> Option<Reply> {
        let mut line = Vec::new();
        let n = tokio::time::timeout(STEP_TIMEOUT, self.stream.read_until(b'\n', &mut line))
            .await
            .expect("timed out waiting for a reply")
            .ok()?;
        if n == 0 {
            return None;
        }
        assert!(line.ends_with(b"\r\n"), "reply not ended by CRLF: {line:?}");
        Some(Reply::parse(&line[..line.len() - 2]).unwrap())
    }

    /// Sends a command and reads one reply.
    pub async fn command(&mut self, line: &str) -> Reply {
        self.send(line).await;
        self.reply().await
    }

    /// Reads exactly `n` data bytes.
    pub async fn data(&mut self, n: u64) -> Vec<u8> {
        let mut data = vec![0; usize::try_from(n).unwrap()];
        tokio::time::timeout(STEP_TIMEOUT, self.stream.read_exact(&mut data))
            .await
            .expect("timed out reading data")
            .unwrap();
        data
    }

    /// Expects the server to close the connection (after any unread bytes).
    pub async fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(STEP_TIMEOUT, self.stream.read_to_end(&mut rest))
            .await
            .expect("the server did not close the connection");
        // A reset is a close too.
        if read.is_ok() {
            assert!(rest.is_empty(), "unexpected bytes before close: {rest:?}");
        }
    }

    /// `LIST`: the parsed entries.
    pub async fn list(&mut self) -> Vec<ListingEntry> {
        let start = self.command("LIST").await;
        assert_eq!(start.code, 150, "{start}");
        let body = self.data(start.data_len().unwrap()).await;
        let done = self.reply().await;
        assert_eq!(done.code, 226, "{done}");
        let entries = parse_listing(&body).unwrap();
        assert_eq!(done.text, format!("{} entries", entries.len()));
        entries
    }

    /// Names from `LIST`, in the server's order.
    pub async fn names(&mut self) -> Vec<String> {
        self.list()
            .await
            .into_iter()
            .map(|e| e.name.into_string())
            .collect()
    }

    /// `RETRIEVE`: the content, or the failure reply.
    pub async fn retrieve(&mut self, name: &str) -> Result<Vec<u8>, Reply> {
        let start = self.command(&format!("RETRIEVE {name}")).await;
        if start.code != 150 {
            return Err(start);
        }
        let data = self.data(start.data_len().unwrap()).await;
        let done = self.reply().await;
        assert_eq!(done.code, 226, "{done}");
        assert_eq!(done.text, "Transfer complete");
        Ok(data)
    }

    /// `STORE`: sends the data after `150`; returns the final reply (or
    /// the failure reply, when there was no `150`).
    pub async fn store(&mut self, name: &str, data: &[u8]) -> Reply {
        let start = self.command(&format!("STORE {} {name}", data.len())).await;
        if start.code != 150 {
            return start;
        }
        assert_eq!(start.text, format!("Ready for {} bytes", data.len()));
        self.send_raw(data).await;
        self.reply().await
    }
}
