//! A real binary watched through its log, for tests of what a program does
//! as a whole: where it says it listens, how it takes signals, how it exits.
//! Its standard error is read on a thread into a channel, so waiting for a
//! line has a deadline and the pipe never fills.

use crate::STEP_TIMEOUT;
use rustix::process::{kill_process, Pid, Signal};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A child process run with `RUST_LOG=info`; killed when dropped.
pub struct LoggedProcess {
    child: Child,
    log: mpsc::Receiver<String>,
}

impl LoggedProcess {
    /// Starts `binary args...`, logging at level info.
    pub fn spawn(binary: &Path, args: &[&str]) -> LoggedProcess {
        let mut child = Command::new(binary)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
        let (line_sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = line_sender.send(line);
            }
        });
        LoggedProcess { child, log }
    }

    /// The next log line containing `text` (the ones before it are skipped).
    pub fn wait_for_line(&self, text: &str) -> String {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("no log line with {text:?}"),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the log ended before a line with {text:?}")
                }
            }
        }
    }

    /// The word right after `marker` in the next log line that has it:
    /// `"addr="` in ferry-server's `listening` line, `"listening on http://"`
    /// in ferry-bridge's.
    pub fn wait_for_word_after(&self, marker: &str) -> String {
        loop {
            let line = self.wait_for_line(marker);
            // The marker must start a word: "addr=" is not "peer_addr=".
            let start = line.match_indices(marker).find(|(at, _)| {
                line[..*at].is_empty() || line[..*at].ends_with(char::is_whitespace)
            });
            if let Some((at, _)) = start {
                let after = &line[at + marker.len()..];
                return after
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
        }
    }

    /// Every log line still to come, until the process closes its log (it
    /// has exited, or is about to).
    pub fn rest_of_log(&self) -> String {
        let lines: Vec<String> = self.log.iter().collect();
        lines.join("\n")
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        self.signal(Signal::INT);
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        self.signal(Signal::TERM);
    }

    fn signal(&self, signal: Signal) {
        kill_process(Pid::from_child(&self.child), signal).expect("the signal is sent");
    }

    /// How the process exited, if it does within `limit`.
    pub fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for LoggedProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
