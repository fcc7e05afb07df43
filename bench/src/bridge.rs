//! Bridge scenarios: RETRIEVE and STORE through `ferry-bridge` and through
//! websockify (the reference WebSocket relay), next to direct TCP in the same
//! run, and the bridge's memory with many idle relays open.
//!
//! Entry point: [`run`] with a [`BridgeBenchConfig`]. Every program measured
//! is a child process (the release binaries, `/usr/bin/websockify`), so the
//! RSS figures are the bridge's own.

#[path = "bridge_ws.rs"]
pub mod ws;

use crate::direct::{prepare_root, BIG_FILE};
use crate::fixture::BLOCK;
use crate::report::{mib, print_rounds, Rounds, Throughput};
use crate::wire::BenchClient;
use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use ferry_testkit::data::noise;
use ferry_testkit::{closed_port, ChildProcess, Memory};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Instant;
use ws::{WsBenchClient, WsLibrary};

/// Where Debian's websockify package puts the program.
pub const WEBSOCKIFY: &str = "/usr/bin/websockify";

/// Settings of the bridge scenarios.
pub struct BridgeBenchConfig {
    /// The `ferry-server` binary.
    pub server_bin: PathBuf,
    /// The `ferry-bridge` binary.
    pub bridge_bin: PathBuf,
    /// websockify, or `None` to leave the reference relay out.
    pub websockify: Option<PathBuf>,
    /// Directory for the server root (the big file is created in it once).
    pub work_dir: PathBuf,
    /// Size of the transferred file.
    pub size: u64,
    /// Rounds per path; the best round of each is reported.
    pub rounds: usize,
    /// Idle relays held open for the memory figure.
    pub idle_relays: usize,
    /// Extra `ferry-bridge` flags (e.g. `--chunk-size 262144`), for tuning.
    pub bridge_args: Vec<String>,
}

impl BridgeBenchConfig {
    /// websockify if it is installed where Debian puts it.
    pub fn default_websockify() -> Option<PathBuf> {
        Some(PathBuf::from(WEBSOCKIFY)).filter(|path| path.exists())
    }
}

/// Memory of a bridge holding idle relays.
#[derive(Debug, Clone, Copy)]
pub struct IdleRelays {
    /// Relays held open (each greeted by the server through the bridge).
    pub relays: usize,
    /// Bridge memory before opening them.
    pub before: Memory,
    /// Bridge memory with all of them open.
    pub with_relays: Memory,
}

impl IdleRelays {
    /// Resident bytes added per idle relay.
    pub fn per_relay(&self) -> u64 {
        self.with_relays.rss.saturating_sub(self.before.rss) / self.relays.max(1) as u64
    }
}

/// Every round of every path of the bridge scenarios. The WebSocket client
/// is tokio-websockets unless a field says otherwise.
pub struct BridgeResults {
    /// RETRIEVE over direct TCP (the reference).
    pub direct_retrieve: Rounds,
    /// RETRIEVE over plain TCP through the bare splice(2) relay (the floor
    /// of any relay here); `None` where splice(2) is missing.
    pub splice_relay_retrieve: Option<Rounds>,
    /// RETRIEVE through ferry-bridge.
    pub bridge_retrieve: Rounds,
    /// RETRIEVE through ferry-bridge, read by tokio-tungstenite.
    pub bridge_retrieve_tungstenite: Rounds,
    /// RETRIEVE through websockify.
    pub websockify_retrieve: Option<Rounds>,
    /// STORE over direct TCP (the reference).
    pub direct_store: Rounds,
    /// STORE through ferry-bridge.
    pub bridge_store: Rounds,
    /// STORE through ferry-bridge, sent by tokio-tungstenite.
    pub bridge_store_tungstenite: Rounds,
    /// STORE through websockify.
    pub websockify_store: Option<Rounds>,
    /// Bridge memory after all transfers (VmHWM is the peak during them).
    pub bridge_memory_after_transfers: Memory,
    /// The idle-relay memory figure.
    pub idle: IdleRelays,
}

/// Starts `ferry-bridge` on a free port relaying to `upstream`, with room
/// for the idle relays (all from 127.0.0.1, so past the per-address cap too).
fn spawn_bridge(
    binary: &Path,
    upstream: std::net::SocketAddr,
    extra: &[String],
) -> Result<ChildProcess> {
    let mut args = ["--max-relays", "4096", "--max-per-address", "8192"]
        .map(String::from)
        .to_vec();
    args.extend_from_slice(extra);
    ChildProcess::ferry_bridge(binary, upstream, &args)
}

/// Starts the bare splice(2) relay (`ferry-bench splice-relay`, this very
/// program) on a free port relaying to `upstream`.
fn spawn_splice_relay(upstream: std::net::SocketAddr) -> Result<ChildProcess> {
    let addr = closed_port();
    let args = [
        "splice-relay".to_string(),
        "--listen".to_string(),
        addr.to_string(),
        "--upstream".to_string(),
        upstream.to_string(),
    ];
    ChildProcess::spawn(&std::env::current_exe()?, &args, addr)
}

/// Starts websockify on a free port relaying to `upstream`.
fn spawn_websockify(binary: &Path, upstream: std::net::SocketAddr) -> Result<ChildProcess> {
    let addr = closed_port();
    let args = [addr.to_string(), upstream.to_string()];
    ChildProcess::spawn(binary, &args, addr)
}

async fn timed<F: Future<Output = Result<()>>>(
    label: &str,
    bytes: u64,
    transfer: F,
) -> Result<Throughput> {
    let started = Instant::now();
    transfer.await.with_context(|| label.to_string())?;
    Ok(Throughput {
        label: label.to_string(),
        bytes,
        elapsed: started.elapsed(),
    })
}

async fn retrieve_tcp(label: &str, addr: std::net::SocketAddr, size: u64) -> Result<Throughput> {
    let mut client = BenchClient::connect(addr).await?;
    timed(label, size, async {
        let got = client.retrieve(BIG_FILE).await?;
        ensure!(got == size, "moved {got} of {size} bytes");
        Ok(())
    })
    .await
}

async fn retrieve_ws(label: &str, library: WsLibrary, url: &str, size: u64) -> Result<Throughput> {
    let mut client = WsBenchClient::connect(library, url).await?;
    timed(label, size, async {
        let got = client.retrieve(BIG_FILE).await?;
        ensure!(got == size, "moved {got} of {size} bytes");
        Ok(())
    })
    .await
}

async fn store_tcp(addr: std::net::SocketAddr, size: u64, block: &[u8]) -> Result<Throughput> {
    let mut client = BenchClient::connect(addr).await?;
    timed(
        "direct TCP STORE",
        size,
        client.store("bench-upload.bin", size, block),
    )
    .await
}

async fn store_ws(
    label: &str,
    library: WsLibrary,
    url: &str,
    size: u64,
    block: &Bytes,
) -> Result<Throughput> {
    let mut client = WsBenchClient::connect(library, url).await?;
    timed(label, size, client.store("bench-upload.bin", size, block)).await
}

/// Opens `count` relays through a fresh bridge, each greeted and answering
/// `NOOP`, and reads the bridge's memory with all of them open.
async fn idle_relays(
    config: &BridgeBenchConfig,
    upstream: std::net::SocketAddr,
) -> Result<IdleRelays> {
    let bridge = spawn_bridge(&config.bridge_bin, upstream, &config.bridge_args)?;
    let url = format!("ws://{}/ws", bridge.addr);
    // One relay first, so the runtime's lazily built parts are counted in the baseline.
    let mut warm = WsBenchClient::connect(WsLibrary::TokioWebsockets, &url).await?;
    warm.noop().await?;
    drop(warm);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let before = bridge.memory()?;
    let mut open = Vec::with_capacity(config.idle_relays);
    for _ in 0..config.idle_relays {
        let mut client = WsBenchClient::connect(WsLibrary::TokioWebsockets, &url).await?;
        client.noop().await?;
        open.push(client);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let with_relays = bridge.memory()?;
    drop(open);
    Ok(IdleRelays {
        relays: config.idle_relays,
        before,
        with_relays,
    })
}

/// Runs the scenarios and prints their tables.
pub async fn run(config: &BridgeBenchConfig) -> Result<BridgeResults> {
    let root = prepare_root(&config.work_dir, config.size)?;
    // Every relay reaches the server from the bridge's one address.
    let server =
        ChildProcess::ferry_server(&config.server_bin, &root, &["--max-per-address", "8192"])?;
    let bridge = spawn_bridge(&config.bridge_bin, server.addr, &config.bridge_args)?;
    let bridge_url = format!("ws://{}/ws", bridge.addr);
    let websockify = match &config.websockify {
        Some(binary) => Some(spawn_websockify(binary, server.addr)?),
        None => None,
    };
    let websockify_url = websockify.as_ref().map(|w| format!("ws://{}/", w.addr));
    // The floor, with its rounds; Linux only (splice).
    let mut splice_relay = if cfg!(target_os = "linux") {
        Some((spawn_splice_relay(server.addr)?, Rounds::new()))
    } else {
        None
    };
    let size = config.size;

    const FAST: WsLibrary = WsLibrary::TokioWebsockets;
    const TUNGSTENITE: WsLibrary = WsLibrary::Tungstenite;
    let (mut direct_r, mut bridge_r, mut bridge_r_tungstenite) =
        (Rounds::new(), Rounds::new(), Rounds::new());
    let mut websockify_r = websockify_url.as_ref().map(|_| Rounds::new());
    for round in 0..config.rounds {
        eprintln!("round {}: RETRIEVE, every path", round + 1);
        direct_r.push(retrieve_tcp("direct TCP RETRIEVE", server.addr, size).await?);
        if let Some((relay, rounds)) = &mut splice_relay {
            let label = "plain TCP RETRIEVE through a bare splice(2) relay";
            rounds.push(retrieve_tcp(label, relay.addr, size).await?);
        }
        bridge_r.push(retrieve_ws("ferry-bridge RETRIEVE", FAST, &bridge_url, size).await?);
        let label = "ferry-bridge RETRIEVE, tokio-tungstenite client";
        bridge_r_tungstenite.push(retrieve_ws(label, TUNGSTENITE, &bridge_url, size).await?);
        if let (Some(url), Some(rounds)) = (&websockify_url, &mut websockify_r) {
            rounds.push(retrieve_ws("websockify RETRIEVE", FAST, url, size).await?);
        }
    }
    // Stops the relay; only its rounds are kept.
    let splice_r = splice_relay.map(|(_relay, rounds)| rounds);
    let block = Bytes::from(noise(BLOCK, 11));
    let (mut direct_s, mut bridge_s, mut bridge_s_tungstenite) =
        (Rounds::new(), Rounds::new(), Rounds::new());
    let mut websockify_s = websockify_url.as_ref().map(|_| Rounds::new());
    for round in 0..config.rounds {
        eprintln!("round {}: STORE, every path", round + 1);
        direct_s.push(store_tcp(server.addr, size, &block).await?);
        bridge_s.push(store_ws("ferry-bridge STORE", FAST, &bridge_url, size, &block).await?);
        let label = "ferry-bridge STORE, tokio-tungstenite client";
        bridge_s_tungstenite.push(store_ws(label, TUNGSTENITE, &bridge_url, size, &block).await?);
        if let (Some(url), Some(rounds)) = (&websockify_url, &mut websockify_s) {
            rounds.push(store_ws("websockify STORE", FAST, url, size, &block).await?);
        }
    }
    let bridge_memory_after_transfers = bridge.memory()?;
    drop(bridge);
    drop(websockify);
    eprintln!("opening {} idle relays", config.idle_relays);
    let idle = idle_relays(config, server.addr).await?;

    let results = BridgeResults {
        direct_retrieve: direct_r,
        splice_relay_retrieve: splice_r,
        bridge_retrieve: bridge_r,
        bridge_retrieve_tungstenite: bridge_r_tungstenite,
        websockify_retrieve: websockify_r,
        direct_store: direct_s,
        bridge_store: bridge_s,
        bridge_store_tungstenite: bridge_s_tungstenite,
        websockify_store: websockify_s,
        bridge_memory_after_transfers,
        idle,
    };
    let retrieve_rows: Vec<&Rounds> = results
        .splice_relay_retrieve
        .iter()
        .chain([
            &results.bridge_retrieve,
            &results.bridge_retrieve_tungstenite,
        ])
        .chain(results.websockify_retrieve.iter())
        .collect();
    print_rounds(
        "RETRIEVE through the bridge (download; WebSocket client: tokio-websockets unless named)",
        &results.direct_retrieve,
        &retrieve_rows,
    );
    let store_rows: Vec<&Rounds> = [&results.bridge_store, &results.bridge_store_tungstenite]
        .into_iter()
        .chain(results.websockify_store.iter())
        .collect();
    print_rounds(
        "STORE through the bridge (upload, includes the server's fsync; client as above)",
        &results.direct_store,
        &store_rows,
    );
    if let (Some(r), Some(s)) = (&results.websockify_retrieve, &results.websockify_store) {
        println!(
            "\nferry-bridge vs websockify (best rounds): RETRIEVE {:.2}x, STORE {:.2}x",
            results.bridge_retrieve.best() / r.best(),
            results.bridge_store.best() / s.best()
        );
    }
    if let Some(floor) = &results.splice_relay_retrieve {
        println!(
            "ferry-bridge RETRIEVE vs the bare splice(2) relay: {:.2}x best, {:.2}x median",
            results.bridge_retrieve.best() / floor.best(),
            results.bridge_retrieve.median() / floor.median()
        );
    }
    println!(
        "\nferry-bridge peak RSS during the transfers: {} (VmHWM)",
        mib(results.bridge_memory_after_transfers.peak_rss)
    );
    println!(
        "ferry-bridge RSS with {} idle relays: {} (before: {}; {:.1} KiB per relay)",
        results.idle.relays,
        mib(results.idle.with_relays.rss),
        mib(results.idle.before.rss),
        results.idle.per_relay() as f64 / 1024.0
    );
    Ok(results)
}
