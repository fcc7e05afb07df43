//! `ferry-bench`: runs the benchmark scenarios against the release binaries.
//!
//! Build first: `cargo build --release -p ferry-server -p ferry-bridge -p ferry-bench`
//! (or run `scripts/bench.sh`, which does both).

use anyhow::Result;
use clap::{Parser, Subcommand};
use ferry_bench::{bridge, direct, list_latency, logins, process::sibling_binary, splice_relay};
use std::path::PathBuf;

/// Ferry benchmarks: every figure is measured next to its reference in the same run.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Where test data and server roots go (default: a fresh temp dir).
    #[arg(long, global = true)]
    work_dir: Option<PathBuf>,
    #[command(subcommand)]
    scenario: Scenario,
}

/// The scenarios.
#[derive(Subcommand)]
enum Scenario {
    /// RETRIEVE and STORE over direct TCP vs a plain TCP copy; server peak RSS.
    Direct {
        /// File size in MiB.
        #[arg(long, default_value_t = 1024)]
        size_mib: u64,
        /// Rounds per path (best is reported).
        #[arg(long, default_value_t = 2)]
        rounds: usize,
    },
    /// LIST latency p50/p99 with many clients connected at once.
    List {
        /// Concurrent connected clients.
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        /// LISTs per client.
        #[arg(long, default_value_t = 20)]
        requests: usize,
    },
    /// RETRIEVE/STORE through ferry-bridge and websockify vs direct TCP; bridge RSS with idle relays.
    Bridge {
        /// File size in MiB.
        #[arg(long, default_value_t = 1024)]
        size_mib: u64,
        /// Rounds per path (best and median are reported).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Idle relays held open for the memory figure.
        #[arg(long, default_value_t = 1000)]
        idle_relays: usize,
    },
    /// Logins (Argon2id password verifications) per second on one core,
    /// next to one SHA-256 and a minimal Argon2id.
    Logins {
        /// Seconds spent on each figure, over all rounds.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Rounds, alternating between the figures (best and median are reported).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Every scenario with its defaults.
    All,
    /// The bare splice(2) relay the bridge scenario starts as a reference
    /// (runs until killed).
    #[command(hide = true)]
    SpliceRelay {
        /// Address to listen on.
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// Server to relay to.
        #[arg(long)]
        upstream: std::net::SocketAddr,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Scenario::SpliceRelay { listen, upstream } = cli.scenario {
        // Killed by the scenario that started it: nothing to set up or clean.
        return tokio::task::spawn_blocking(move || splice_relay::run(listen, upstream)).await?;
    }
    let temp = tempfile::tempdir()?;
    let work_dir = cli.work_dir.unwrap_or_else(|| temp.path().to_path_buf());
    let server_bin = sibling_binary("ferry-server")?;
    let direct = |size_mib: u64, rounds: usize| direct::DirectConfig {
        server_bin: server_bin.clone(),
        work_dir: work_dir.clone(),
        size: size_mib * 1024 * 1024,
        rounds,
    };
    let list = |clients: usize, requests: usize| list_latency::ListConfig {
        server_bin: server_bin.clone(),
        work_dir: work_dir.clone(),
        clients,
        requests_per_client: requests,
    };
    let bridge =
        |size_mib: u64, rounds: usize, idle_relays: usize| -> Result<bridge::BridgeBenchConfig> {
            Ok(bridge::BridgeBenchConfig {
                server_bin: server_bin.clone(),
                bridge_bin: sibling_binary("ferry-bridge")?,
                websockify: bridge::BridgeBenchConfig::default_websockify(),
                work_dir: work_dir.clone(),
                size: size_mib * 1024 * 1024,
                rounds,
                idle_relays,
                bridge_args: Vec::new(),
            })
        };
    match cli.scenario {
        Scenario::Direct { size_mib, rounds } => {
            direct::run(&direct(size_mib, rounds)).await?;
        }
        Scenario::List { clients, requests } => {
            list_latency::run(&list(clients, requests)).await?;
        }
        Scenario::Bridge {
            size_mib,
            rounds,
            idle_relays,
        } => {
            bridge::run(&bridge(size_mib, rounds, idle_relays)?).await?;
        }
        Scenario::Logins { seconds, rounds } => {
            run_logins(seconds, rounds).await?;
        }
        Scenario::All => {
            direct::run(&direct(1024, 2)).await?;
            list_latency::run(&list(1000, 20)).await?;
            bridge::run(&bridge(1024, 5, 1000)?).await?;
            run_logins(5, 5).await?;
        }
        Scenario::SpliceRelay { .. } => {} // run above
    }
    Ok(())
}

/// The logins scenario, on one blocking thread: one core.
async fn run_logins(seconds: u64, rounds: usize) -> Result<()> {
    let config = logins::LoginsConfig {
        per_figure: std::time::Duration::from_secs(seconds),
        rounds,
    };
    tokio::task::spawn_blocking(move || logins::run(&config)).await?
}
