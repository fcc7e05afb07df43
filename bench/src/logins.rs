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
    /// Time spent on each figure in all (at least 3 runs of it per round).
    pub per_figure: Duration,
    /// Rounds, alternating between the figures.
    pub rounds: usize,
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

    // Rounds alternate between the figures, so a burst of load on a shared
    // machine hits them all alike; the best and the median round are shown.
    let per = config.per_figure / config.rounds.max(1) as u32;
    let mut figures: [(&str, Vec<f64>); 5] = [
        ("login, right password", Vec::new()),
        ("login, wrong password", Vec::new()),
        ("login, unknown account (dummy hash)", Vec::new()),
        ("reference: SHA-256 of the password", Vec::new()),
        ("reference: Argon2id m=8 KiB, t=1", Vec::new()),
    ];
    for _ in 0..config.rounds.max(1) {
        figures[0]
            .1
            .push(rate(per, || accounts.verify("alice", PASSWORD).is_some()));
        figures[1]
            .1
            .push(rate(per, || accounts.verify("alice", "wrong").is_some()));
        figures[2]
            .1
            .push(rate(per, || accounts.verify("mallory", PASSWORD).is_some()));
        figures[3]
            .1
            .push(rate(per, || Sha256::digest(PASSWORD.as_bytes())[0] == 0));
        figures[4].1.push(rate(per, || minimal.verify(PASSWORD)));
    }

    println!(
        "\n== Logins (password verifications) per second, one core; Argon2id m={MEMORY_KIB} KiB, t={PASSES}, p={LANES}; {} rounds ==",
        config.rounds
    );
    println!(
        "{:<36} {:>12} {:>12} {:>12}",
        "", "best /s", "median /s", "median each"
    );
    let mut bests = Vec::new();
    for (label, rates) in &mut figures {
        rates.sort_by(f64::total_cmp);
        let best = rates[rates.len() - 1];
        let median = rates[rates.len() / 2];
        bests.push(best);
        println!(
            "{label:<36} {best:>12.1} {median:>12.1} {:>12}",
            each(median)
        );
    }
    println!(
        "best rounds: an unknown account takes {:.2}x the time of a wrong password; SHA-256 is {:.0}x faster per guess than a login",
        bests[1] / bests[2],
        bests[3] / bests[0]
    );
    Ok(())
}

/// The time one run takes, in a unit that suits it.
fn each(per_second: f64) -> String {
    let seconds = 1.0 / per_second;
    if seconds >= 1e-3 {
        format!("{:.2} ms", seconds * 1e3)
    } else if seconds >= 1e-6 {
        format!("{:.2} µs", seconds * 1e6)
    } else {
        format!("{:.0} ns", seconds * 1e9)
    }
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
