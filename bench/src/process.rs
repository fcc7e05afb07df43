//! Where the binaries measured are: next to the harness, in the same target
//! directory (running them is the test kit's `ChildProcess`), and the CPU
//! time they use.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::time::Duration;

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

/// CPU time (user + system) process `pid` has used so far, from fields 14
/// and 15 of `/proc/<pid>/stat` (after the parenthesised command name).
pub fn process_cpu(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("no command name in /proc/<pid>/stat")?;
    // Fields from the third on: state is index 0, utime index 11, stime 12.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> Result<u64> {
        Ok(fields
            .get(index)
            .context("short /proc/<pid>/stat")?
            .parse()?)
    };
    let per_second = rustix::param::clock_ticks_per_second();
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(total as f64 / per_second as f64))
}
