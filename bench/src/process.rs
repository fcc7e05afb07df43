//! Child processes under test: start, wait for readiness, read memory use.

use anyhow::{bail, Context, Result};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a child gets to start listening.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A child process killed when dropped.
pub struct ChildProcess {
    child: Child,
    /// The loopback address it listens on.
    pub addr: SocketAddr,
}

impl ChildProcess {
    /// Runs `program args...` and waits until `addr` accepts TCP connections.
    pub fn spawn(program: &Path, args: &[String], addr: SocketAddr) -> Result<ChildProcess> {
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let mut process = ChildProcess { child, addr };
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            if let Some(status) = process.child.try_wait()? {
                bail!("{} exited early with {status}", program.display());
            }
            if started.elapsed() > READY_TIMEOUT {
                bail!(
                    "{} did not listen on {addr} within {READY_TIMEOUT:?}",
                    program.display()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(process)
    }

    /// Starts `ferry-server` serving `root` on a free loopback port.
    pub fn ferry_server(binary: &Path, root: &Path, extra: &[&str]) -> Result<ChildProcess> {
        let addr = free_port()?;
        let mut args = vec![
            "--root".into(),
            root.display().to_string(),
            "--listen".into(),
            addr.to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        ChildProcess::spawn(binary, &args, addr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Current and peak resident set size, in bytes.
    pub fn memory(&self) -> Result<Memory> {
        Memory::of(self.pid())
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of a process, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// VmRSS: resident now.
    pub rss: u64,
    /// VmHWM: the peak resident set since the process started.
    pub peak_rss: u64,
}

impl Memory {
    /// Reads the memory figures of process `pid`.
    pub fn of(pid: u32) -> Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| -> Result<u64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("no {name} in /proc/{pid}/status"))?;
            let kib: u64 = line[name.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()?;
            Ok(kib * 1024)
        };
        Ok(Memory {
            rss: field("VmRSS:")?,
            peak_rss: field("VmHWM:")?,
        })
    }
}

/// A loopback address with a port that was free a moment ago.
pub fn free_port() -> Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// The path of a sibling binary of the running harness (same target dir),
/// where `cargo build --release` puts `ferry-server` and `ferry-bridge`.
pub fn sibling_binary(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(name);
    if !path.exists() {
        bail!(
            "{} not found: build it first (cargo build --release -p {name})",
            path.display()
        );
    }
    Ok(path)
}
