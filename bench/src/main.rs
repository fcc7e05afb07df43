//! `ferry-bench`: runs the benchmark scenarios against the release binaries.
//!
//! Build first: `cargo build --release -p ferry-server -p ferry-bridge -p ferry-bench`
//! (or run `scripts/bench.sh`, which does both).

use anyhow::Result;
use clap::{Parser, Subcommand};
use ferry_bench::{direct, list_latency, process::sibling_binary};
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
    /// Every scenario with its defaults.
    All,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
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
    match cli.scenario {
        Scenario::Direct { size_mib, rounds } => {
            direct::run(&direct(size_mib, rounds)).await?;
        }
        Scenario::List { clients, requests } => {
            list_latency::run(&list(clients, requests)).await?;
        }
        Scenario::All => {
            direct::run(&direct(1024, 2)).await?;
            list_latency::run(&list(1000, 20)).await?;
        }
    }
    Ok(())
}
