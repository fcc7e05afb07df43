//! A bare FTP client for what no client library lets a test do: send
//! half an upload and reset the data connection (SO_LINGER 0), drop both
//! connections the way a killed process does, send ABOR mid-transfer, and
//! read every reply code as it comes.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// How long a reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// One control connection.
pub struct Raw {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    addr: SocketAddr,
}

impl Raw {
    /// Connects and reads the greeting, which must be `220`.
    pub async fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr)
            .await
            .expect("connect to the FTP door");
        let (read, writer) = stream.into_split();
        let mut raw = Raw {
            reader: BufReader::new(read),
            writer,
            addr,
        };
        let (code, text) = raw.reply().await;
        assert_eq!(code, 220, "greeting: {text}");
        raw
    }

    /// Connects and logs in; panics unless it gets `230`.
    pub async fn login(addr: SocketAddr, user: &str, password: &str) -> Raw {
        let mut raw = Raw::connect(addr).await;
        let (code, text) = raw.command(&format!("USER {user}")).await;
        assert_eq!(code, 331, "USER: {text}");
        let (code, text) = raw.command(&format!("PASS {password}")).await;
        assert_eq!(code, 230, "PASS: {text}");
        raw
    }

    /// Reads one reply (a multi-line one whole): its code and its last line.
    pub async fn reply(&mut self) -> (u16, String) {
        tokio::time::timeout(REPLY_TIMEOUT, self.read_reply())
            .await
            .expect("a reply in time")
            .expect("a reply")
    }

    /// The next reply, or `None` if the connection ended first.
    pub async fn try_reply(&mut self) -> Option<(u16, String)> {
        tokio::time::timeout(REPLY_TIMEOUT, self.read_reply())
            .await
            .expect("a reply or the end in time")
    }

    async fn read_reply(&mut self) -> Option<(u16, String)> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let code: u16 = line.get(..3)?.parse().ok()?;
        if line.as_bytes().get(3) == Some(&b'-') {
            let end = format!("{code} ");
            loop {
                line.clear();
                if self.reader.read_line(&mut line).await.ok()? == 0 {
                    return None;
                }
                if line.starts_with(&end) {
                    break;
                }
            }
        }
        Some((code, line.trim_end().to_owned()))
    }

    /// Sends `line` and reads its reply.
    pub async fn command(&mut self, line: &str) -> (u16, String) {
        self.send(line).await;
        self.reply().await
    }

    /// Sends `line` without waiting for a reply.
    pub async fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("send a command");
    }

    /// `EPSV`, then a data connection to the port it names.
    pub async fn data(&mut self) -> TcpStream {
        let (code, text) = self.command("EPSV").await;
        assert_eq!(code, 229, "EPSV: {text}");
        let port: u16 = text
            .split("|||")
            .nth(1)
            .and_then(|rest| rest.split('|').next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in {text:?}"));
        let stream = TcpStream::connect(SocketAddr::new(self.addr.ip(), port))
            .await
            .expect("connect the data connection");
        stream.set_nodelay(true).unwrap();
        stream
    }

    /// Starts `STOR path` on a fresh data connection; returns it once the
    /// door answered `150`.
    pub async fn start_stor(&mut self, path: &str) -> TcpStream {
        let data = self.data().await;
        let (code, text) = self.command(&format!("STOR {path}")).await;
        assert_eq!(code, 150, "STOR: {text}");
        data
    }

    /// Closes the control connection (a FIN, as a process's exit does).
    pub fn close(self) {
        drop(self);
    }
}

/// Resets `stream`: closes it with SO_LINGER 0, so the peer gets an RST.
pub fn reset(stream: TcpStream) {
    rustix::net::sockopt::set_socket_linger(&stream, Some(Duration::ZERO)).unwrap();
    drop(stream);
}
