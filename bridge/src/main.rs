//! `ferry-bridge`: the command line around [`ferry_bridge::Bridge`]. The
//! flags are [`ferry_bridge::CommandLine`]; start-up and stopping follow
//! `ferry_program`, like the other Ferry programs.

use anyhow::Context;
use ferry_bridge::{Bridge, CommandLine};
use ferry_program::ShutdownSignals;
use std::process::ExitCode;

const PROGRAM: &str = "ferry-bridge";

fn main() -> ExitCode {
    let command_line: CommandLine = ferry_program::parse_or_exit(PROGRAM);
    ferry_program::init_logging("info");
    ferry_program::exit_code(PROGRAM, run(command_line))
}

/// Builds the async runtime (`--threads`) and serves on it.
fn run(command_line: CommandLine) -> anyhow::Result<()> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = command_line.threads() {
        anyhow::ensure!(threads > 0, "--threads must be at least 1");
        runtime.worker_threads(threads);
    }
    runtime
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(serve(command_line))
}

/// Binds the bridge, says where it listens, and runs it until Ctrl-C /
/// SIGTERM.
async fn serve(command_line: CommandLine) -> anyhow::Result<()> {
    let config = command_line.into_config();
    let relay_bound = config.limits.relay_memory_bound();
    let signals = ShutdownSignals::install()?;
    let bridge = Bridge::bind(config).await?;
    let scheme = if bridge.is_tls() { "https" } else { "http" };
    let allowed: Vec<String> = bridge
        .targets()
        .allowed()
        .iter()
        .map(ToString::to_string)
        .collect();
    tracing::info!(
        "listening on {scheme}://{} (WebSocket at /ws), relaying to {}",
        bridge.local_addr(),
        allowed.join(", ")
    );
    if bridge.origins().allows_any() {
        tracing::warn!("any web origin may open relays (--allow-origin '*')");
    } else {
        tracing::info!("allowed origins: {}", bridge.origins().origins().join(", "));
    }
    tracing::debug!(relay_bound, "memory bound per relay in bytes");
    bridge.run(signals.requested()).await?;
    tracing::info!("stopped");
    Ok(())
}
