//! `ferry-bench`: runs the benchmark scenarios against the release binaries.
//!
//! Build first: `cargo build --release -p ferry-server -p ferry-bridge -p ferry-bench`
//! (or run `scripts/bench.sh`, which does both).

use anyhow::Result;
use clap::Parser;
use ferry_bench::cli::{Cli, Scenario};
use ferry_bench::{
    big_listing, bridge, direct, ftp, list_latency, logins, process::sibling_binary, resume,
    sessions, soak, splice_relay, store,
};

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
    let resume = |size_mib: u64, cut_percent: u64| resume::ResumeConfig {
        server_bin: server_bin.clone(),
        work_dir: work_dir.clone(),
        size: size_mib * 1024 * 1024,
        cut_percent,
    };
    let list = |clients: usize, requests: usize| list_latency::ListConfig {
        server_bin: server_bin.clone(),
        work_dir: work_dir.clone(),
        clients,
        requests_per_client: requests,
    };
    let sessions = |clients: usize, seconds: u64, rounds: usize| sessions::SessionsConfig {
        server_bin: server_bin.clone(),
        work_dir: work_dir.clone(),
        clients,
        round: std::time::Duration::from_secs(seconds),
        rounds,
    };
    let big_listing = |files: usize, rounds: usize| big_listing::BigListingConfig {
        server_bin: server_bin.clone(),
        work_dir: work_dir.clone(),
        files,
        rounds,
    };
    let soak = |seconds: u64, clients: usize| -> Result<soak::SoakConfig> {
        Ok(soak::SoakConfig {
            server_bin: server_bin.clone(),
            bridge_bin: sibling_binary("ferry-bridge")?,
            work_dir: work_dir.clone(),
            clients,
            seconds,
        })
    };
    let ftp = |size_mib: u64, files: usize, rounds: usize| -> Result<ftp::FtpConfig> {
        Ok(ftp::FtpConfig {
            server_bin: server_bin.clone(),
            client_bin: sibling_binary("ferry")?,
            work_dir: work_dir.clone(),
            size: size_mib * 1024 * 1024,
            files,
            rounds,
        })
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
        Scenario::BigListing { files, rounds } => {
            big_listing::run(&big_listing(files, rounds)).await?;
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
        Scenario::Resume {
            size_mib,
            cut_percent,
        } => {
            resume::run(&resume(size_mib, cut_percent)).await?;
        }
        Scenario::Sessions {
            clients,
            seconds,
            rounds,
        } => {
            sessions::run(&sessions(clients, seconds, rounds)).await?;
        }
        Scenario::Soak { seconds, clients } => {
            soak::run(&soak(seconds, clients)?).await?;
        }
        Scenario::Ftp {
            size_mib,
            files,
            rounds,
        } => {
            ftp::run(&ftp(size_mib, files, rounds)?).await?;
        }
        Scenario::Store {
            size_mib,
            files,
            rounds,
            clients,
            seconds,
        } => {
            let config = store::StoreConfig {
                server_bin: server_bin.clone(),
                work_dir: work_dir.clone(),
                size: size_mib * 1024 * 1024,
                files,
                rounds,
                clients,
                seconds,
            };
            store::run(&config).await?;
        }
        Scenario::All => {
            direct::run(&direct(1024, 2)).await?;
            list_latency::run(&list(1000, 20)).await?;
            big_listing::run(&big_listing(100_000, 5)).await?;
            bridge::run(&bridge(1024, 5, 1000)?).await?;
            run_logins(5, 5).await?;
            resume::run(&resume(1024, 90)).await?;
            sessions::run(&sessions(100, 5, 3)).await?;
            ftp::run(&ftp(1024, 10_000, 3)?).await?;
            soak::run(&soak(60, 1000)?).await?;
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
