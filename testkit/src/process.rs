//! Real binaries as child processes, for what only a separate process shows:
//! its own memory figures, its own start-up, how it stops on a signal and
//! starts again on the same address. Ready once its address accepts TCP
//! connections; killed when dropped.

use crate::{closed_port, STEP_TIMEOUT};
use anyhow::{bail, Context, Result};
use rustix::process::{kill_process, Pid, Signal};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed when dropped.
pub struct ChildProcess {
    child: Child,
    program: PathBuf,
    args: Vec<String>,
    /// Where its standard error goes (at `RUST_LOG=info`), if anywhere.
    log: Option<PathBuf>,
    /// The loopback address it listens on.
    pub addr: SocketAddr,
}

impl ChildProcess {
    /// Runs `program args...` and waits until `addr` accepts TCP connections.
    pub fn spawn(program: &Path, args: &[String], addr: SocketAddr) -> Result<ChildProcess> {
        ChildProcess::spawn_inner(program, args, addr, None)
    }

    /// [`ChildProcess::spawn`] with `RUST_LOG=info` and its standard error
    /// appended to the file `log`, for a test to show when it fails.
    pub fn spawn_logged(
        program: &Path,
        args: &[String],
        addr: SocketAddr,
        log: &Path,
    ) -> Result<ChildProcess> {
        ChildProcess::spawn_inner(program, args, addr, Some(log.to_path_buf()))
    }

    fn spawn_inner(
        program: &Path,
        args: &[String],
        addr: SocketAddr,
        log: Option<PathBuf>,
    ) -> Result<ChildProcess> {
        let child = start(program, args, addr, log.as_deref())?;
        Ok(ChildProcess {
            child,
            program: program.to_path_buf(),
            args: args.to_vec(),
            log,
            addr,
        })
    }

    /// Sends SIGTERM and waits up to `limit` for the exit (then kills it and
    /// fails).
    pub fn terminate(&mut self, limit: Duration) -> Result<ExitStatus> {
        kill_process(Pid::from_child(&self.child), Signal::TERM).context("SIGTERM")?;
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill()?;
        bail!(
            "{} did not exit within {limit:?} of SIGTERM",
            self.program.display()
        )
    }

    /// Sends SIGKILL and waits for the exit.
    pub fn kill(&mut self) -> Result<ExitStatus> {
        self.child.kill().context("SIGKILL")?;
        Ok(self.child.wait()?)
    }

    /// Starts the same program with the same arguments on the same address
    /// again, once the last one has exited, and waits until it listens.
    pub fn restart(&mut self) -> Result<()> {
        if self.child.try_wait()?.is_none() {
            bail!("{} is still running", self.program.display());
        }
        self.child = start(&self.program, &self.args, self.addr, self.log.as_deref())?;
        Ok(())
    }

    /// Starts the `ferry-server` at `binary` serving `root` on a free
    /// loopback port, with `extra` flags.
    pub fn ferry_server(binary: &Path, root: &Path, extra: &[&str]) -> Result<ChildProcess> {
        let addr = closed_port();
        let mut args = vec![
            "--root".into(),
            root.display().to_string(),
            "--listen".into(),
            addr.to_string(),
        ];
        args.extend(extra.iter().map(|flag| flag.to_string()));
        ChildProcess::spawn(binary, &args, addr)
    }

    /// Starts the `ferry-bridge` at `binary` on a free loopback port relaying
    /// to `upstream`, with `extra` flags.
    pub fn ferry_bridge(
        binary: &Path,
        upstream: SocketAddr,
        extra: &[String],
    ) -> Result<ChildProcess> {
        let addr = closed_port();
        let mut args = vec![
            "--listen".into(),
            addr.to_string(),
            "--upstream".into(),
            upstream.to_string(),
        ];
        args.extend_from_slice(extra);
        ChildProcess::spawn(binary, &args, addr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Current and peak resident set size.
    pub fn memory(&self) -> Result<Memory> {
        Memory::of(self.pid())
    }
}

/// Runs `program args...` and waits until `addr` accepts TCP connections.
fn start(program: &Path, args: &[String], addr: SocketAddr, log: Option<&Path>) -> Result<Child> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    match log {
        Some(log) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .with_context(|| format!("cannot open {}", log.display()))?;
            command.env("RUST_LOG", "info").stderr(file);
        }
        None => {
            command.stderr(Stdio::null());
        }
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    let started = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("{} exited early with {status}", program.display());
        }
        if started.elapsed() > STEP_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{} did not listen on {addr} within {STEP_TIMEOUT:?}",
                program.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(child)
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of a process, in bytes, from `/proc/<pid>/status`.
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
