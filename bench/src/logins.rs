//! Logins per second on one core: what a password verification costs the
//! server, next to references measured in the same run.
//!
//! A login's cost is one Argon2id verification with the server's
//! parameters (ferry-server's `accounts::password` says why those). The
//! figure is measured through the server's own `AccountsFile::verify`, for
//! a right password, a wrong one and an unknown account (the last two must
//! cost the same: the server verifies unknown accounts against a dummy
//! hash). The references: one SHA-256 of the same password (what a fast,
//! unsuitable hash costs, so the ratio is the attacker's slowdown per
//! guess) and Argon2id with its smallest parameters (8 KiB, one pass: the
//! crate's fixed overhead). All on the calling thread, one core.

use anyhow::Result;
use argon2::password_hash::PasswordHasher;
use ferry_server::accounts::{
    Access, Account, AccountsFile, Home, PasswordHash, LANES, MEMORY_KIB, PASSES,
};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";

/// How long each figure is measured.
#[derive(Debug, Clone)]
pub struct LoginsConfig {
    /// Time spent on each measured operation (at least 3 runs of it).
    pub per_figure: Duration,
}

/// Measures and prints the figures.
pub fn run(config: &LoginsConfig) -> Result<()> {
    let mut accounts = AccountsFile::default();
    let alice = Account {
        name: "alice".parse().map_err(anyhow::Error::msg)?,
        home: Home::Root,
        access: Access::ReadWrite,
        quota: None,
    };
    let hash = PasswordHash::new(PASSWORD).map_err(anyhow::Error::msg)?;
    accounts.add(alice, hash).map_err(anyhow::Error::msg)?;
    let minimal = minimal_argon2id(PASSWORD)?;

    let per = config.per_figure;
    let right = rate(per, || accounts.verify("alice", PASSWORD).is_some());
    let wrong = rate(per, || accounts.verify("alice", "wrong").is_some());
    let unknown = rate(per, || accounts.verify("mallory", PASSWORD).is_some());
    let sha256 = rate(per, || Sha256::digest(PASSWORD.as_bytes())[0] == 0);
    let argon2_minimal = rate(per, || minimal.verify(PASSWORD));

    println!(
        "\n== Logins (password verifications) per second, one core; Argon2id m={} KiB, t={PASSES}, p={LANES} ==",
        MEMORY_KIB
    );
    let row = |label: &str, per_second: f64| {
        println!(
            "{label:<36} {per_second:>12.1} /s  {:>10.3} ms each",
            1000.0 / per_second
        );
    };
    row("login, right password", right);
    row("login, wrong password", wrong);
    row("login, unknown account (dummy hash)", unknown);
    row("reference: SHA-256 of the password", sha256);
    row("reference: Argon2id m=8 KiB, t=1", argon2_minimal);
    println!(
        "unknown / wrong password cost: {:.2}x; SHA-256 is {:.0}x faster per guess",
        wrong / unknown,
        sha256 / right
    );
    Ok(())
}

/// Runs of `operation` per second, over at least `per` and 3 runs.
fn rate(per: Duration, mut operation: impl FnMut() -> bool) -> f64 {
    let started = Instant::now();
    let mut runs = 0u64;
    while runs < 3 || started.elapsed() < per {
        black_box(operation());
        runs += 1;
    }
    runs as f64 / started.elapsed().as_secs_f64()
}

fn minimal_argon2id(password: &str) -> Result<PasswordHash> {
    let params = argon2::Params::new(8, 1, 1, None).map_err(|error| anyhow::anyhow!("{error}"))?;
    let hash = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes())
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    PasswordHash::parse(&hash.to_string()).map_err(anyhow::Error::msg)
}
