//! Test data: large files of incompressible bytes, block by block from the
//! test kit's generator.

use anyhow::Result;
use ferry_testkit::data::noise;
use std::io::Write;
use std::path::Path;

/// Size of the block the scenarios write and send repeatedly.
pub const BLOCK: usize = 1 << 20;

/// Writes `size` bytes of pseudo-random data to `path` (skipped when a file
/// of that size is already there, so reruns do not rewrite gigabytes).
pub fn ensure_file(path: &Path, size: u64) -> Result<()> {
    if std::fs::metadata(path)
        .map(|m| m.len() == size)
        .unwrap_or(false)
    {
        return Ok(());
    }
    let mut out = std::io::BufWriter::with_capacity(BLOCK, std::fs::File::create(path)?);
    let mut left = size;
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    while left > 0 {
        let block = noise(BLOCK, seed);
        let n = left.min(BLOCK as u64) as usize;
        out.write_all(&block[..n])?;
        left -= n as u64;
        seed = seed.wrapping_add(1);
    }
    out.into_inner()?.sync_all()?;
    Ok(())
}
