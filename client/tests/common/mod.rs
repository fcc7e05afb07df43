//! Test fixtures: a real ferry-server (and ferry-bridge) on 127.0.0.1:0 in a
//! background thread, scripted fake servers, and a way to run the `ferry`
//! binary.

#![allow(dead_code)]

use ferry_server::{Config, Server};
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A service (server or bridge) on its own thread and runtime, stopped and
/// joined when dropped.
struct Background {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Runs `serve` on a new thread; it reports its bound address on the
    /// sender it gets and stops when the receiver fires.
    fn spawn<F, Fut>(what: &str, serve: F) -> Background
    where
        F: FnOnce(std::sync::mpsc::Sender<SocketAddr>, oneshot::Receiver<()>) -> Fut
            + Send
            + 'static,
        Fut: Future<Output = ()>,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, addr) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(serve(ready, stopped));
        });
        let addr = addr
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{what} did not start"));
        Background {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A server running until dropped, serving a temporary root.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Declared before `root`, so the server stops before its root goes.
    service: Background,
    pub root: TempDir,
}

impl TestServer {
    /// Starts a server with default settings on an empty root.
    pub fn start() -> TestServer {
        TestServer::start_with(|config| config)
    }

    /// Starts a server whose settings `adjust` changes.
    pub fn start_with(adjust: impl FnOnce(Config) -> Config) -> TestServer {
        let root = tempfile::tempdir().unwrap();
        let config = adjust(Config::new(root.path()));
        let service = Background::spawn("server", move |ready, stopped| async move {
            let server = Server::bind(config, "127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            ready.send(server.local_addr()).unwrap();
            server
                .run(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        TestServer {
            addr: service.addr,
            service,
            root,
        }
    }

    /// `127.0.0.1:PORT`, as the one-shot subcommands take it.
    pub fn target(&self) -> String {
        self.addr.to_string()
    }

    /// Puts a file straight into the served directory.
    pub fn put_file(&self, name: &str, content: &[u8]) {
        std::fs::write(self.root.path().join(name), content).unwrap();
    }

    /// Reads a file straight from the served directory.
    pub fn file(&self, name: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.path().join(name)).ok()
    }
}

/// Runs `ferry` with `args` in directory `cwd`, feeding `stdin`.
pub fn ferry_in(cwd: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env("HOME", cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start ferry");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `ferry` with `args` in a fresh temporary directory.
pub fn ferry(args: &[&str]) -> (Output, TempDir) {
    let cwd = tempfile::tempdir().unwrap();
    let output = ferry_in(cwd.path(), args, b"");
    (output, cwd)
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a failure: non-zero exit and one line on stderr containing `words`.
pub fn assert_fails_with(output: &Output, words: &str) {
    let err = stderr(output);
    assert!(!output.status.success(), "expected failure, stderr: {err}");
    assert!(
        err.contains(words),
        "stderr {err:?} should contain {words:?}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one-line reason expected, got {err:?}"
    );
}

/// Names of the entries of a directory, sorted.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// What a fake server does after a command line.
pub enum Then {
    /// Sends these bytes and waits for the next command.
    Answer(Vec<u8>),
    /// Sends these bytes and closes the connection.
    AnswerAndClose(Vec<u8>),
}

/// A fake server for one connection: greets, then answers each command line
/// as `answer` says.
pub fn fake_server(answer: impl Fn(&str) -> Then + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(b"220 fake server\r\n").unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let command = line.trim_end().to_owned();
            line.clear();
            let (bytes, close) = match answer(&command) {
                Then::Answer(bytes) => (bytes, false),
                Then::AnswerAndClose(bytes) => (bytes, true),
            };
            if stream.write_all(&bytes).is_err() || close {
                break;
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
        drop::<TcpStream>(stream);
    });
    addr
}

/// Every byte value, `repeat` times over, plus a ragged tail.
pub fn all_bytes(repeat: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..repeat).flat_map(|_| 0..=255u8).collect();
    data.extend_from_slice(&[0, 255, 13, 10, 7]);
    data
}

/// A ferry-bridge running until dropped.
pub struct TestBridge {
    pub addr: SocketAddr,
    service: Background,
}

impl TestBridge {
    /// Starts a bridge relaying to `upstream`, also allowing the `allow` targets.
    pub fn start(upstream: SocketAddr, allow: &[String]) -> TestBridge {
        let allow: Vec<_> = allow.iter().map(|a| a.parse().unwrap()).collect();
        TestBridge::start_with(upstream, |config| config.allow = allow)
    }

    /// Starts a bridge relaying to `upstream` with settings `adjust` changes.
    pub fn start_with(
        upstream: SocketAddr,
        adjust: impl FnOnce(&mut ferry_bridge::BridgeConfig),
    ) -> TestBridge {
        use ferry_bridge::{Bridge, BridgeConfig, HostPort};
        let upstream: HostPort = upstream.to_string().parse().unwrap();
        let mut config = BridgeConfig::new("127.0.0.1:0".parse().unwrap(), upstream);
        adjust(&mut config);
        let service = Background::spawn("bridge", move |ready, stopped| async move {
            let bridge = Bridge::bind(config).await.unwrap();
            ready.send(bridge.local_addr()).unwrap();
            bridge
                .run(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        TestBridge {
            addr: service.addr,
            service,
        }
    }

    /// `ws://ADDR/ws`, optionally with `?target=`.
    pub fn url(&self, target: Option<&str>) -> String {
        match target {
            Some(target) => format!("ws://{}/ws?target={target}", self.addr),
            None => format!("ws://{}/ws", self.addr),
        }
    }
}

/// A fake server that records every line it receives.
pub fn recording_server(
    answer: impl Fn(&str) -> Then + Send + 'static,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = fake_server(move |line| {
        log.lock().unwrap().push(line.to_owned());
        answer(line)
    });
    (addr, seen)
}
