//! HAProxy (Debian's package) in TCP mode on 127.0.0.1 in front of several
//! back-ends, for the tests of several server or bridge instances behind
//! one address: round robin, a TCP connect health check every 100 ms (one
//! failure marks a back-end down, one success up again), a connection that
//! cannot reach its back-end retried on another. It runs in the foreground
//! as a child of the test, from a configuration written to a temporary
//! directory, and is killed when dropped.
//!
//! Which back-end took a connection comes from HAProxy's own log: it logs
//! each connection as soon as its back-end is connected (`option logasap`),
//! client address and server name, on its standard output, read here on a
//! thread. Whether a back-end is up comes from its stats socket.

use crate::{closed_port, STEP_TIMEOUT};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// HAProxy on [`Haproxy::addr`], spreading connections over its back-ends.
pub struct Haproxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// The back-ends, in the order given; an index into this is what
    /// [`Haproxy::backend_of`] returns.
    pub backends: Vec<SocketAddr>,
    child: Child,
    routes: Arc<Routes>,
    dir: TempDir,
}

/// How HAProxy talks to its back-ends.
#[derive(Debug, Clone, Default)]
pub struct HaproxyOptions {
    /// Each connection (and health check) to a back-end starts with a PROXY
    /// protocol v2 header naming the client: for ferry-server's proxy
    /// listener (`--proxy-listen`, [`crate::ProxyOptions`]).
    pub send_proxy_v2: bool,
}

/// What HAProxy's stats say of a back-end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendState {
    /// Taking connections (also while its first checks are still due).
    Up,
    /// Its health check failed: no new connection goes there.
    Down,
}

/// Client address -> index of the back-end HAProxy connected it to.
#[derive(Default)]
struct Routes {
    seen: Mutex<HashMap<SocketAddr, usize>>,
    changed: Condvar,
}

fn server_name(index: usize) -> String {
    format!("b{index}")
}

impl Haproxy {
    /// Starts HAProxy on a free loopback port in front of `backends` (at
    /// least one) and waits until it serves; panics, saying what to install,
    /// if HAProxy is missing.
    pub fn start(backends: &[SocketAddr]) -> Haproxy {
        Haproxy::start_with(backends, HaproxyOptions::default())
    }

    /// [`Haproxy::start`] with `options`.
    pub fn start_with(backends: &[SocketAddr], options: HaproxyOptions) -> Haproxy {
        assert!(!backends.is_empty(), "HAProxy needs a back-end");
        let dir = tempfile::Builder::new()
            .prefix("ferry-haproxy-")
            .tempdir()
            .expect("a temporary directory");
        let addr = closed_port();
        let socket = dir.path().join("stats.sock");
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(&config, configuration(addr, backends, &socket, &options))
            .expect("write the config");
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).expect("a log file");
        // Debian puts it in /usr/sbin, which a user's PATH may lack.
        let program = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .unwrap_or("haproxy");
        let mut child = Command::new(program)
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start haproxy ({error}): run ./scripts/setup.sh --tests")
            });
        let routes = Arc::new(Routes::default());
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let seen = Arc::clone(&routes);
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                // "conn 127.0.0.1:54321 b1", from the log-format below.
                let mut words = line.split_whitespace();
                if words.next() != Some("conn") {
                    continue;
                }
                let client = words.next().and_then(|word| word.parse().ok());
                let index = words
                    .next()
                    .and_then(|name| name.strip_prefix('b'))
                    .and_then(|n| n.parse().ok());
                if let (Some(client), Some(index)) = (client, index) {
                    seen.seen.lock().unwrap().insert(client, index);
                    seen.changed.notify_all();
                }
            }
        });
        let mut haproxy = Haproxy {
            addr,
            backends: backends.to_vec(),
            child,
            routes,
            dir,
        };
        haproxy.wait_until_serving();
        haproxy
    }

    /// The stats socket answers once HAProxy has bound its listener too.
    fn wait_until_serving(&mut self) {
        let started = Instant::now();
        while self.stats("show info").is_none() {
            if let Some(status) = self.child.try_wait().expect("haproxy's status") {
                panic!("haproxy exited at once ({status}): {}", self.stderr());
            }
            if started.elapsed() > STEP_TIMEOUT {
                panic!(
                    "haproxy did not start within {STEP_TIMEOUT:?}: {}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What HAProxy wrote to its standard error (warnings, alerts).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    fn stats_socket(&self) -> PathBuf {
        self.dir.path().join("stats.sock")
    }

    /// One command on the stats socket, its whole answer; `None` if the
    /// socket does not answer (yet).
    fn stats(&self, command: &str) -> Option<String> {
        let mut socket = UnixStream::connect(self.stats_socket()).ok()?;
        socket.set_read_timeout(Some(STEP_TIMEOUT)).ok()?;
        socket.write_all(format!("{command}\n").as_bytes()).ok()?;
        let mut answer = String::new();
        socket.read_to_string(&mut answer).ok()?;
        Some(answer)
    }

    /// The index of the back-end HAProxy connected the client at `client`
    /// (the client socket's local address) to; waits for HAProxy's log line
    /// up to [`STEP_TIMEOUT`].
    pub fn backend_of(&self, client: SocketAddr) -> usize {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut seen = self.routes.seen.lock().unwrap();
        loop {
            if let Some(&index) = seen.get(&client) {
                return index;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!("haproxy logged no back-end for {client}");
            }
            seen = self.routes.changed.wait_timeout(seen, left).unwrap().0;
        }
    }

    /// The state of back-end `index` in HAProxy's stats now.
    pub fn state(&self, index: usize) -> BackendState {
        let stat = self
            .stats("show stat")
            .expect("haproxy's stats socket answers");
        let name = server_name(index);
        // CSV: "# pxname,svname,...,status,...": find the status column.
        let header = stat.lines().next().unwrap_or_default();
        let column = header
            .trim_start_matches("# ")
            .split(',')
            .position(|field| field == "status")
            .expect("a status column in show stat");
        let row = stat
            .lines()
            .map(|line| line.split(',').collect::<Vec<_>>())
            .find(|fields| fields.first() == Some(&"backends") && fields.get(1) == Some(&&*name))
            .unwrap_or_else(|| panic!("no back-end {name} in haproxy's stats"));
        // "UP", "UP 1/2" (going down), "DOWN", "DOWN 1/2" (going up), "no check".
        if row[column].starts_with("DOWN") {
            BackendState::Down
        } else {
            BackendState::Up
        }
    }

    /// Waits up to [`STEP_TIMEOUT`] until back-end `index` is in `state`.
    pub fn wait_for(&self, index: usize, state: BackendState) {
        let deadline = Instant::now() + STEP_TIMEOUT;
        while self.state(index) != state {
            if Instant::now() > deadline {
                panic!("back-end {index} did not become {state:?} within {STEP_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// HAProxy's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The configuration: TCP mode, round robin, health checks, retries and
/// redispatch, timeouts long enough for a transfer, one log line per
/// connection on standard output.
fn configuration(
    addr: SocketAddr,
    backends: &[SocketAddr],
    socket: &Path,
    options: &HaproxyOptions,
) -> String {
    let mut config = format!(
        "global
    log stdout format raw local0 info
    stats socket {socket} mode 600 level admin

defaults
    mode tcp
    log global
    option logasap
    log-format \"conn %ci:%cp %s\"
    option redispatch 1
    retries 3
    timeout connect 1s
    timeout client 1h
    timeout server 1h
    timeout check 1s

frontend front
    bind {addr}
    default_backend backends

backend backends
    balance roundrobin
    default-server check inter 100ms fall 1 rise 1{proxy}
",
        socket = socket.display(),
        proxy = if options.send_proxy_v2 {
            " send-proxy-v2 check-send-proxy"
        } else {
            ""
        },
    );
    for (index, backend) in backends.iter().enumerate() {
        writeln!(config, "    server {} {backend}", server_name(index)).expect("a String");
    }
    config
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
