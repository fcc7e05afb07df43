//! A tiny raw-TCP client for the server tests: replies read line by line
//! and data by count, written from docs/PROTOCOL.md alone, so that the
//! server is checked against the contract and not against ferry-proto's
//! client.

#![allow(dead_code)]

use ferry_proto::{parse_listing, ListingEntry, Reply};
use ferry_testkit::STEP_TIMEOUT;
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

// Only some of the test crates that include this module use it.
#[allow(unused_imports)]
pub use ferry_testkit::raise_open_file_limit;

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

    /// Connects from the local address `source` (e.g. `127.0.0.2:0`: any
    /// loopback address is this host) without reading anything.
    pub async fn connect_raw_from(source: &str, addr: SocketAddr) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(source.parse().unwrap()).unwrap();
        let stream = socket.connect(addr).await.unwrap();
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
        self.list_line("LIST").await
    }

    /// `LIST <dir>`: the parsed entries.
    pub async fn list_dir(&mut self, dir: &str) -> Vec<ListingEntry> {
        self.list_line(&format!("LIST {dir}")).await
    }

    /// The raw body of `LIST <dir>` (or of `LIST` for an empty `dir`).
    pub async fn listing_body(&mut self, dir: &str) -> Vec<u8> {
        let line = if dir.is_empty() {
            "LIST".to_owned()
        } else {
            format!("LIST {dir}")
        };
        let start = self.command(&line).await;
        assert_eq!(start.code, 150, "{start}");
        let body = self.data(start.data_len().unwrap()).await;
        assert_eq!(self.reply().await.code, 226);
        body
    }

    async fn list_line(&mut self, line: &str) -> Vec<ListingEntry> {
        let start = self.command(line).await;
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

    /// `READ`: the bytes, or the failure reply.
    pub async fn read(&mut self, offset: u64, length: u64, path: &str) -> Result<Vec<u8>, Reply> {
        let start = self
            .command(&format!("READ {offset} {length} {path}"))
            .await;
        if start.code != 150 {
            return Err(start);
        }
        let data = self.data(start.data_len().unwrap()).await;
        let done = self.reply().await;
        assert_eq!((done.code, done.text.as_str()), (226, "Transfer complete"));
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
