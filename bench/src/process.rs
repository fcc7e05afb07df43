//! Where the binaries measured are: next to the harness, in the same target
//! directory. (Running them is the test kit's `ChildProcess`.)

use anyhow::{bail, Result};
use std::path::PathBuf;

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
