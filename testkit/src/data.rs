//! Deterministic test data, the same on every run, so that a failure can be
//! reproduced and the bench's files can be kept between runs.

/// `len` incompressible bytes from a xorshift generator started at `seed`:
/// no compression or pattern in the path can make them cheaper to move.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Every byte value in order, `repeat` times over, then a ragged tail with
/// CR, LF and both ends of the range: what a text-minded path would mangle.
pub fn all_bytes(repeat: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..repeat).flat_map(|_| 0..=255u8).collect();
    data.extend_from_slice(&[0, 255, 13, 10, 7]);
    data
}

/// `raw` as text for a fuzz target: a byte below 0x80 stays the ASCII
/// character it is, and a byte from 0x80 up becomes one of `pieces`
/// (picked by its value), so random input mixes raw characters with the
/// words and separators the parser under test cares about.
pub fn spliced_text(raw: &[u8], pieces: &[&str]) -> String {
    let mut out = String::new();
    for &byte in raw {
        if byte >= 0x80 && !pieces.is_empty() {
            out.push_str(pieces[usize::from(byte - 0x80) % pieces.len()]);
        } else {
            out.push(char::from(byte));
        }
    }
    out
}
