//! Verify: the SHA-256 of the local file, computed in the browser slice by
//! slice (crypto.subtle has no streaming digest, and a whole file must not
//! be read at once), compared with the server's `HASH`.
//!
//! The digest is a small SHA-256 of FIPS 180-4 here rather than a crate:
//! the workspace's lock file is shared with other work in flight, and this
//! is some eighty lines; the e2e test checks it against the server's
//! `HASH` (the sha2 crate) on random files of several MiB.

use super::link::{self, Socket};
use crate::browser;
use crate::endpoint::Endpoint;
use crate::model::Transfer;
use ferry_proto::{Hash, Path};
use web_sys::File;

/// What a SHA-256 check of an upload found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verify {
    /// Hashing the local file and asking the server.
    Checking,
    /// The server's `HASH` equals the browser's digest (shown).
    Match(String),
    /// They differ: the local and the server's digest.
    Mismatch { local: String, server: String },
    /// The check could not be done; why.
    Failed(String),
}

/// Bytes read into WASM memory per hashing step.
const HASH_SLICE: u64 = 1024 * 1024;

/// Hashes `file`, asks the server for `path`'s `HASH`, shows the verdict on `transfer`.
pub async fn run(endpoint: Endpoint, transfer: Transfer, file: File, path: Path) {
    transfer.set_verify(Verify::Checking);
    let verdict = compare(&endpoint, &file, &path)
        .await
        .unwrap_or_else(Verify::Failed);
    transfer.set_verify(verdict);
}

/// [`Verify::Match`] or [`Verify::Mismatch`]; `Err` when either digest could not be had.
pub async fn compare(endpoint: &Endpoint, file: &File, path: &Path) -> Result<Verify, String> {
    let local = local_digest(file).await?;
    let server = server_digest(endpoint, path).await?;
    Ok(if local == server {
        Verify::Match(local)
    } else {
        Verify::Mismatch { local, server }
    })
}

async fn server_digest(endpoint: &Endpoint, path: &Path) -> Result<String, String> {
    let socket = Socket::default();
    let mut conn = link::open(endpoint, &socket)
        .await
        .map_err(|stop| link::words(&stop, path.as_str()))?;
    let digest = link::run(&mut conn, &Hash(path.clone()), link::no_data)
        .await
        .map_err(|stop| link::words(&stop, path.as_str()))?;
    conn.close(ferry_proto::close::NORMAL, "hashed");
    Ok(digest)
}

async fn local_digest(file: &File) -> Result<String, String> {
    let size = file.size() as u64;
    let mut sha = Sha256::new();
    let mut at = 0;
    while at < size {
        let end = (at + HASH_SLICE).min(size);
        let slice = browser::read_slice(file, at, end).await?;
        sha.update(&js_sys::Uint8Array::new(&slice).to_vec());
        at = end;
    }
    Ok(sha.hex())
}

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256 fed in pieces of any length.
struct Sha256 {
    state: [u32; 8],
    block: [u8; 64],
    filled: usize,
    length: u64,
}

impl Sha256 {
    fn new() -> Sha256 {
        Sha256 {
            state: [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            block: [0; 64],
            filled: 0,
            length: 0,
        }
    }

    fn update(&mut self, mut bytes: &[u8]) {
        self.length += bytes.len() as u64;
        while !bytes.is_empty() {
            let take = (64 - self.filled).min(bytes.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&bytes[..take]);
            self.filled += take;
            bytes = &bytes[take..];
            if self.filled == 64 {
                let block = self.block;
                self.compress(&block);
                self.filled = 0;
            }
        }
    }

    fn hex(mut self) -> String {
        let bits = self.length.wrapping_mul(8);
        let mut pad = vec![0x80u8];
        let zeros = (64 + 56 - (self.filled + 1) % 64) % 64;
        pad.resize(1 + zeros, 0);
        pad.extend_from_slice(&bits.to_be_bytes());
        let length = self.length;
        self.update(&pad);
        self.length = length;
        self.state
            .iter()
            .map(|word| format!("{word:08x}"))
            .collect()
    }

    fn compress(&mut self, block: &[u8; 64]) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = self.state;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (s, v) in self.state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = s.wrapping_add(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sha256;

    fn digest(pieces: &[&[u8]]) -> String {
        let mut sha = Sha256::new();
        for piece in pieces {
            sha.update(piece);
        }
        sha.hex()
    }

    #[test]
    fn known_digests_in_any_split() {
        assert_eq!(
            digest(&[b""]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            digest(&[b"ab", b"c"]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(
            digest(&[&long[..10], &long[10..]]),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }
}
