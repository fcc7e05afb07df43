//! LIST latency with many clients connected at once.

use crate::report::{mib, percentile};
use crate::wire::BenchClient;
use anyhow::Result;
use ferry_testkit::ChildProcess;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Settings of the LIST latency scenario.
pub struct ListConfig {
    /// The `ferry-server` binary.
    pub server_bin: PathBuf,
    /// Directory for the server root.
    pub work_dir: PathBuf,
    /// Clients connected at the same time.
    pub clients: usize,
    /// LIST commands each client sends, one after another.
    pub requests_per_client: usize,
}

/// Latency percentiles of the scenario.
pub struct ListResults {
    /// Median LIST latency.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest LIST.
    pub max: Duration,
    /// Number of LISTs timed.
    pub samples: usize,
}

/// Connects all clients first, then has every one of them LIST repeatedly
/// at the same time; prints p50 / p99 / max.
pub async fn run(config: &ListConfig) -> Result<ListResults> {
    let root = config.work_dir.join("list-root");
    let max_connections = (config.clients + 16).to_string();
    let server = ChildProcess::ferry_server(
        &config.server_bin,
        &root,
        &[
            "--max-connections",
            &max_connections,
            "--max-per-address",
            &max_connections,
        ],
    )?;
    let mut clients = Vec::with_capacity(config.clients);
    for _ in 0..config.clients {
        clients.push(BenchClient::connect(server.addr).await?);
    }
    eprintln!("{} clients connected", clients.len());
    // Phase 1: the others sit idle while one client LISTs in a loop.
    let mut quiet = Vec::with_capacity(config.requests_per_client * 10);
    if let Some(prober) = clients.first_mut() {
        for _ in 0..config.requests_per_client * 10 {
            let started = Instant::now();
            prober.list().await?;
            quiet.push(started.elapsed());
        }
    }
    quiet.sort();
    // Phase 2: every client LISTs at the same time.
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let requests = config.requests_per_client;
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(requests);
                for _ in 0..requests {
                    let started = Instant::now();
                    client.list().await?;
                    samples.push(started.elapsed());
                }
                anyhow::Ok(samples)
            })
        })
        .collect();
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await??);
    }
    samples.sort();
    let results = ListResults {
        p50: percentile(&samples, 50.0),
        p99: percentile(&samples, 99.0),
        max: samples.last().copied().unwrap_or_default(),
        samples: samples.len(),
    };
    let memory = server.memory()?;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "\n### LIST latency, {} clients connected at once\n",
        config.clients
    );
    println!("| who LISTs | LISTs | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| one client, the others idle | {} | {:.2} ms | {:.2} ms | {:.2} ms |",
        quiet.len(),
        ms(percentile(&quiet, 50.0)),
        ms(percentile(&quiet, 99.0)),
        ms(quiet.last().copied().unwrap_or_default()),
    );
    println!(
        "| all {} clients at once | {} | {:.2} ms | {:.2} ms | {:.2} ms |",
        config.clients,
        results.samples,
        ms(results.p50),
        ms(results.p99),
        ms(results.max),
    );
    println!(
        "\nferry-server with {} connections: RSS {}, peak RSS {}",
        config.clients,
        mib(memory.rss),
        mib(memory.peak_rss)
    );
    Ok(results)
}
