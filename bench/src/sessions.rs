//! Whole sessions per second with many clients at once: connect, USER,
//! PASS, LIST, QUIT against a server with accounts, next to the same loop
//! without the login (connect, LIST, QUIT) against a server without
//! accounts, in the same run, with each server's CPU time.
//!
//! Each login costs the server one Argon2id verification (about 25 ms of a
//! core at its parameters, `ferry-bench logins`), and the server verifies
//! at most one password per core at a time, so the accounts figure is
//! bounded by about 40 sessions per second per core, whatever the rest of
//! the session costs. The accounts file is made by the binary's own
//! `ferry-server accounts add`, as an operator would make it; the login
//! delay is 0, so the figure is the server's work and not its sleep.
//!
//! The clients are ferry-client's `Session` (as every other scenario's),
//! each looping on new connections until the time is up. Rounds alternate
//! between the two servers, so a burst of load on a shared machine hits
//! both alike.

use crate::process::process_cpu;
use crate::wire::{bench_options, greet};
use anyhow::{ensure, Context, Result};
use ferry_client::TcpTransport;
use ferry_proto::Password;
use ferry_testkit::{run_to_end, ChildProcess};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Accounts in the file; client `i` logs in as account `i % ACCOUNTS`.
const ACCOUNTS: usize = 10;

/// What one Argon2id verification costs, for the bound printed next to the
/// figures (measured by `ferry-bench logins`).
const ARGON2ID_COST: Duration = Duration::from_millis(25);

/// Settings of the sessions scenario.
pub struct SessionsConfig {
    /// The `ferry-server` binary.
    pub server_bin: PathBuf,
    /// Directory for the server roots and the accounts file.
    pub work_dir: PathBuf,
    /// Clients looping at the same time.
    pub clients: usize,
    /// Seconds of each round.
    pub round: Duration,
    /// Rounds per server, alternating.
    pub rounds: usize,
}

/// One server's figure over all its rounds.
#[derive(Debug, Clone, Default)]
pub struct Figure {
    /// Sessions completed.
    pub sessions: u64,
    /// Wall time of the rounds.
    pub elapsed: Duration,
    /// The server's CPU time (user + system) in the rounds.
    pub server_cpu: Duration,
    /// Sessions per second of each round.
    pub per_round: Vec<f64>,
}

impl Figure {
    /// Sessions per second over all rounds.
    pub fn per_second(&self) -> f64 {
        self.sessions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Cores the server kept busy, on average.
    pub fn cores(&self) -> f64 {
        self.server_cpu.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Server CPU time per session.
    pub fn cpu_per_session(&self) -> Duration {
        self.server_cpu
            .checked_div(u32::try_from(self.sessions.max(1)).unwrap_or(u32::MAX))
            .unwrap_or_default()
    }

    fn add(&mut self, round: Round) {
        self.sessions += round.sessions;
        self.elapsed += round.elapsed;
        self.server_cpu += round.server_cpu;
        self.per_round
            .push(round.sessions as f64 / round.elapsed.as_secs_f64().max(1e-9));
    }
}

/// Results of the sessions scenario.
pub struct SessionsResults {
    /// connect + USER + PASS + LIST + QUIT, with accounts.
    pub accounts: Figure,
    /// connect + LIST + QUIT, without accounts.
    pub reference: Figure,
}

/// How a client logs in, if at all.
#[derive(Clone)]
enum Login {
    None,
    Accounts,
}

struct Round {
    sessions: u64,
    elapsed: Duration,
    server_cpu: Duration,
}

/// Starts both servers, runs the alternating rounds and prints the table.
pub async fn run(config: &SessionsConfig) -> Result<SessionsResults> {
    let dir = config.work_dir.join("sessions");
    let accounts_file = dir.join("accounts.toml");
    std::fs::create_dir_all(&dir)?;
    let _ = std::fs::remove_file(&accounts_file);
    for account in 0..ACCOUNTS {
        add_account(&config.server_bin, &accounts_file, account)?;
    }
    // A file in each listing (the other homes are made empty at the first login).
    for root in ["plain-root", "accounts-root/home0"] {
        let root = dir.join(root);
        std::fs::create_dir_all(&root)?;
        std::fs::write(root.join("readme.txt"), b"hello\n")?;
    }
    // A slot is freed only once the server has closed the connection, which
    // may be after the client has quit and dialled again: room for that.
    let max_connections = (config.clients * 4 + 16).to_string();
    let accounts_path = accounts_file.to_string_lossy().into_owned();
    let with_accounts = ChildProcess::ferry_server(
        &config.server_bin,
        &dir.join("accounts-root"),
        &[
            "--accounts",
            &accounts_path,
            "--login-delay",
            "0",
            "--max-connections",
            &max_connections,
            "--max-per-address",
            &max_connections,
        ],
    )?;
    let without = ChildProcess::ferry_server(
        &config.server_bin,
        &dir.join("plain-root"),
        &[
            "--max-connections",
            &max_connections,
            "--max-per-address",
            &max_connections,
        ],
    )?;

    let mut results = SessionsResults {
        accounts: Figure::default(),
        reference: Figure::default(),
    };
    for _ in 0..config.rounds.max(1) {
        let reference = round(config, &without, Login::None).await?;
        results.reference.add(reference);
        let accounts = round(config, &with_accounts, Login::Accounts).await?;
        results.accounts.add(accounts);
    }
    print(config, &results);
    Ok(results)
}

/// `ferry-server accounts add userN --home homeN --accounts FILE
/// --password-stdin`.
fn add_account(server_bin: &Path, file: &Path, account: usize) -> Result<()> {
    let (name, home) = (format!("user{account}"), format!("home{account}"));
    let file = file.to_string_lossy();
    let args = [
        "accounts",
        "add",
        &name,
        "--home",
        &home,
        "--accounts",
        &file,
        "--password-stdin",
    ];
    let output = run_to_end(
        server_bin,
        &args,
        format!("{}\n", password(account)).as_bytes(),
    );
    ensure!(
        output.status.success(),
        "ferry-server accounts add {name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

fn password(account: usize) -> String {
    format!("bench password {account}")
}

/// `config.clients` clients looping on whole sessions for one round.
async fn round(config: &SessionsConfig, server: &ChildProcess, login: Login) -> Result<Round> {
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = process_cpu(server.pid())?;
    let started = Instant::now();
    let clients: Vec<_> = (0..config.clients)
        .map(|client| {
            let (stop, login, addr) = (Arc::clone(&stop), login.clone(), server.addr);
            tokio::spawn(async move {
                let mut sessions = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    one_session(addr, client, &login).await?;
                    sessions += 1;
                }
                anyhow::Ok(sessions)
            })
        })
        .collect();
    tokio::time::sleep(config.round).await;
    stop.store(true, Ordering::Relaxed);
    let mut sessions = 0;
    for client in clients {
        sessions += client.await??;
    }
    // Sessions still running at the deadline finish after it: they are
    // counted, and so is the time they took.
    let elapsed = started.elapsed();
    let server_cpu = process_cpu(server.pid())?.saturating_sub(cpu_before);
    Ok(Round {
        sessions,
        elapsed,
        server_cpu,
    })
}

/// connect, (USER, PASS,) LIST, QUIT; the LIST must show the file.
async fn one_session(addr: SocketAddr, client: usize, login: &Login) -> Result<()> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connect {addr}"))?;
    let transport = TcpTransport::new(stream);
    let mut session = greet(transport, addr.to_string(), bench_options(64 * 1024)).await?;
    let account = client % ACCOUNTS;
    if let Login::Accounts = login {
        session
            .login(&format!("user{account}"), || {
                Ok(Password::new(password(account)))
            })
            .await
            .with_context(|| format!("login as user{account}"))?;
    }
    let listing = session.list(None).await.context("LIST")?;
    // Only home0 has the file; the other homes are empty.
    let expected = match login {
        Login::Accounts if account != 0 => 0,
        _ => 1,
    };
    ensure!(
        listing.len() == expected,
        "LIST showed {} entries, not {expected}",
        listing.len()
    );
    session.quit().await.context("QUIT")?;
    Ok(())
}

fn print(config: &SessionsConfig, results: &SessionsResults) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "\n### Sessions per second, {} clients at once, {} rounds of {} s per server (alternating); {cores} cores\n",
        config.clients,
        config.rounds.max(1),
        config.round.as_secs_f64()
    );
    println!("| session | sessions | sessions/s | rounds, sessions/s | server CPU | server cores busy | server CPU per session |");
    println!("|---|---:|---:|---|---:|---:|---:|");
    for (label, figure) in [
        (
            "reference: connect + LIST + QUIT, no accounts",
            &results.reference,
        ),
        (
            "connect + USER + PASS + LIST + QUIT, accounts",
            &results.accounts,
        ),
    ] {
        let rounds: Vec<String> = figure
            .per_round
            .iter()
            .map(|rate| format!("{rate:.0}"))
            .collect();
        println!(
            "| {label} | {} | {:.1} | {} | {:.2} s | {:.2} | {:.2} ms |",
            figure.sessions,
            figure.per_second(),
            rounds.join(", "),
            figure.server_cpu.as_secs_f64(),
            figure.cores(),
            figure.cpu_per_session().as_secs_f64() * 1e3
        );
    }
    let bound = 1.0 / ARGON2ID_COST.as_secs_f64();
    println!(
        "\nwith accounts: {:.4}x the reference's sessions/s. Each login is one Argon2id verification (~{} ms of a core), so logged-in sessions are bounded by ~{bound:.0}/s per core (~{:.0}/s on these {cores} cores, if the server had them to itself).",
        results.accounts.per_second() / results.reference.per_second().max(1e-9),
        ARGON2ID_COST.as_millis(),
        bound * cores as f64,
    );
}
