//! A real binary run to its end with some standard input, for tools that
//! do one thing and exit (`ferry-server accounts ...`).
//!
//! The child runs in a session of its own, without a controlling terminal,
//! so a tool that would prompt at the terminal fails at once instead of
//! waiting for a person; and it is killed if it outlives [`STEP_TIMEOUT`].

use crate::STEP_TIMEOUT;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Runs `binary args...` with `input` on its standard input (then closed),
/// without `RUST_LOG`, and returns its status and output.
pub fn run_to_end(binary: &Path, args: &[&str], input: &[u8]) -> Output {
    run_to_end_within(binary, args, input, STEP_TIMEOUT)
}

/// [`run_to_end`] for a run of many steps (a whole client suite): killed
/// if it outlives `limit` instead of [`STEP_TIMEOUT`].
pub fn run_to_end_within(binary: &Path, args: &[&str], input: &[u8], limit: Duration) -> Output {
    let mut command = Command::new(binary);
    command
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| rustix::process::setsid().map(drop).map_err(Into::into));
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // A child that exits without reading makes this fail; its output says why.
    let _ = stdin.write_all(input);
    drop(stdin);
    let pid = rustix::process::Pid::from_child(&child);
    let (done, finished) = std::sync::mpsc::channel();
    // Output is read while waiting, so a chatty child never blocks on a full pipe.
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match finished.recv_timeout(limit) {
        Ok(output) => output.expect("the child's output"),
        Err(_) => {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            panic!("{} {args:?} did not exit in time", binary.display());
        }
    }
}
