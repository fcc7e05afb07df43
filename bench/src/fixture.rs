//! Test data: large files of incompressible bytes.

use anyhow::Result;
use std::io::Write;
use std::path::Path;

/// Size of the block the generators write and send repeatedly.
pub const BLOCK: usize = 1 << 20;

/// One block of pseudo-random (incompressible) bytes from a xorshift generator.
pub fn random_block(seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut block = Vec::with_capacity(BLOCK);
    while block.len() < BLOCK {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        block.extend_from_slice(&state.to_le_bytes());
    }
    block
}

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
        let block = random_block(seed);
        let n = left.min(BLOCK as u64) as usize;
        out.write_all(&block[..n])?;
        left -= n as u64;
        seed = seed.wrapping_add(1);
    }
    out.into_inner()?.sync_all()?;
    Ok(())
}
