//! `ferry-bench soak`: many clients (1,000 by default), half over TCP and
//! half through ferry-bridge, for a while (60 s by default) against the
//! release ferry-server and ferry-bridge as child processes, doing mixed
//! version 2 commands with every result checked byte for byte, clients
//! killing their own transfers part way, one graceful server restart
//! (SIGTERM, wait, start again on the same root and port) a quarter of the
//! way in and one SIGKILL (and restart) midway.
//!
//! It fails, with the reasons, on any integrity mismatch, a reply the
//! contract does not allow, a connection lost with no kill or restart to
//! explain it, a client that cannot reconnect, files on disk that differ
//! from what the clients know they wrote, staging leftovers other than kept
//! partial uploads of uploads still in doubt, a server that does not stop
//! cleanly on SIGTERM, or server or bridge memory or descriptors that grow:
//! the mean of the last comparison window (a minute; 10 s for runs under
//! 6 minutes) over the first one after a warm-up as long must be at most
//! [`GROWTH_LIMIT`]. The warm-up follows the server's last start (the
//! restart after the SIGKILL, which is why that comes midway and not
//! later): a server's RSS climbs for a minute or two after every start
//! (measured: about 34 MiB 10 s after the start, 52 MiB after two minutes,
//! then flat), and every relay of the bridge is made anew then too (its
//! RSS and descriptors climb for about 30 s after the clients' first
//! connections), so a window taken any earlier compares a process still
//! warming up, or one with half its clients away in an outage.
//! Small-operation latency (everything but the transfers) is printed per
//! 10 s window.

mod check;
mod client;
mod stats;

use crate::report::mib;
use anyhow::{bail, Context, Result};
use client::ClientEnd;
use ferry_client::Target;
use ferry_testkit::ChildProcess;
use stats::{mean_usage, Op, Sample, Shared, Usage, WINDOW};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest allowed ratio of the last window's RSS or descriptors to the
/// first one's after the warm-up.
pub const GROWTH_LIMIT: f64 = 1.2;

/// How long the server gets to stop after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// How long the clients get to finish after the run's end.
const WIND_DOWN_LIMIT: Duration = Duration::from_secs(60);

/// Settings of the soak scenario.
pub struct SoakConfig {
    /// The `ferry-server` binary.
    pub server_bin: PathBuf,
    /// The `ferry-bridge` binary.
    pub bridge_bin: PathBuf,
    /// Directory for the server root.
    pub work_dir: PathBuf,
    /// Clients at once (even ones over TCP, odd ones through the bridge).
    pub clients: usize,
    /// Length of the run.
    pub seconds: u64,
}

impl SoakConfig {
    /// The comparison window of the flatness check.
    fn compare_window(&self) -> Duration {
        if self.seconds >= 360 {
            Duration::from_secs(60)
        } else {
            WINDOW
        }
    }
}

/// Runs the soak, prints its tables and fails with every reason found.
pub async fn run(config: &SoakConfig) -> Result<()> {
    let length = Duration::from_secs(config.seconds);
    let compare = config.compare_window();
    if config.clients < 2 {
        bail!("--clients must be at least 2: one over TCP, one through the bridge");
    }
    // After the SIGKILL midway: the warm-up, the first window, the last.
    if length < compare * 6 {
        bail!(
            "--seconds {} is too short: at least {} s",
            config.seconds,
            (compare * 6).as_secs()
        );
    }
    ferry_testkit::raise_open_file_limit();
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX);
    // The harness holds one socket per client; the server and the bridge
    // (which inherit the limit) two per bridged client at most.
    let needed = config.clients as u64 * 2 + 256;
    if limit < needed {
        bail!(
            "{} clients need about {needed} open files, the limit is {limit} (ulimit -Hn)",
            config.clients
        );
    }
    let root = config.work_dir.join("soak-root");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    std::fs::create_dir_all(&root)?;
    let room = (config.clients * 4 + 64).to_string();
    let mut server = ChildProcess::ferry_server(
        &config.server_bin,
        &root,
        &[
            "--max-connections",
            &room,
            "--max-per-address",
            &room,
            "--shutdown-grace",
            "10",
        ],
    )?;
    let bridge_flags: Vec<String> = ["--max-relays", &room, "--max-pending", &room]
        .into_iter()
        .chain(["--max-per-address", &room])
        .map(str::to_owned)
        .collect();
    let mut bridge = ChildProcess::ferry_bridge(&config.bridge_bin, server.addr, &bridge_flags)?;
    eprintln!(
        "soak: {} clients for {} s; server {} (pid {}), bridge {} (pid {})",
        config.clients,
        config.seconds,
        server.addr,
        server.pid(),
        bridge.addr,
        bridge.pid()
    );

    let shared = Arc::new(Shared::new());
    let server_pid = Arc::new(AtomicU32::new(server.pid()));
    let sampler = tokio::spawn(sample(
        Arc::clone(&shared),
        Arc::clone(&server_pid),
        bridge.pid(),
    ));
    let tcp = Target::Tcp {
        host: "127.0.0.1".into(),
        port: server.addr.port(),
    };
    let ws = Target::WebSocket {
        url: format!("ws://{}/ws", bridge.addr),
    };
    let clients: Vec<_> = (0..config.clients)
        .map(|id| {
            let target = if id % 2 == 0 { tcp.clone() } else { ws.clone() };
            tokio::spawn(client::run(id, target, Arc::clone(&shared)))
        })
        .collect();

    let mut failures = Vec::new();
    let run_started = Instant::now();
    tokio::time::sleep_until((run_started + length / 4).into()).await;
    shared.outage_begins("graceful restart (SIGTERM, wait, start)");
    let stopped = Instant::now();
    let graceful = tokio::task::block_in_place(|| server.terminate(STOP_LIMIT));
    let graceful_stop = stopped.elapsed();
    match &graceful {
        Ok(status) if status.success() => {}
        Ok(status) => failures.push(format!("the server exited with {status} on SIGTERM")),
        Err(error) => failures.push(format!("{error:#}")),
    }
    restart(&mut server, &server_pid, &shared)?;
    let graceful_down = stopped.elapsed();
    eprintln!(
        "soak: graceful restart at {:.1} s: stopped in {:.2} s, listening again after {:.2} s",
        shared.now().as_secs_f64() - graceful_down.as_secs_f64(),
        graceful_stop.as_secs_f64(),
        graceful_down.as_secs_f64()
    );

    tokio::time::sleep_until((run_started + length / 2).into()).await;
    shared.outage_begins("SIGKILL and restart");
    let killed = Instant::now();
    tokio::task::block_in_place(|| server.kill())?;
    restart(&mut server, &server_pid, &shared)?;
    let kill_down = killed.elapsed();
    let last_start = shared.now();
    eprintln!(
        "soak: SIGKILL at {:.1} s: listening again after {:.2} s",
        shared.now().as_secs_f64() - kill_down.as_secs_f64(),
        kill_down.as_secs_f64()
    );

    tokio::time::sleep_until((run_started + length).into()).await;
    shared.stop();
    let ends = wind_down(clients).await?;
    sampler.abort();

    let files = check::files(&root, &ends);
    failures.extend(files.problems.iter().take(10).cloned());
    let server_exit = tokio::task::block_in_place(|| server.terminate(STOP_LIMIT));
    match server_exit {
        Ok(status) if status.success() => {}
        Ok(status) => failures.push(format!("the server exited with {status} at the end")),
        Err(error) => failures.push(format!("{error:#}")),
    }
    let _ = tokio::task::block_in_place(|| bridge.terminate(STOP_LIMIT));
    let staging = check::staging(&root, &ends);
    failures.extend(staging.problems.iter().take(10).cloned());

    print_windows(&shared, length);
    print_totals(config, &shared);
    failures.extend(print_flatness(config, &shared.samples(), last_start));
    println!(
        "\nRestarts: graceful (SIGTERM) stop took {:.2} s, listening again {:.2} s after the signal; \
         after SIGKILL listening again in {:.2} s. Longest reconnect of a client: {:.2} s ({} reconnects).",
        graceful_stop.as_secs_f64(),
        graceful_down.as_secs_f64(),
        kill_down.as_secs_f64(),
        shared.longest_reconnect().as_secs_f64(),
        shared.reconnects.load(Ordering::Relaxed)
    );
    println!(
        "On disk after the run: {} files byte-exact as their clients wrote them (paths left in doubt by the end: {}), {} problems; \
         staging after the server stopped: {} kept partial uploads (of {} uploads in doubt at the end), {} leftovers.",
        files.files_checked,
        files.in_doubt,
        files.problems.len(),
        staging.kept,
        staging.may_be_kept,
        staging.problems.len()
    );
    failures.splice(0..0, shared.failures());
    for op in [Op::StoreCut, Op::RetrieveCut, Op::Resume] {
        if shared.count(op) == 0 {
            failures.push(format!(
                "no {} in the whole run: more clients or seconds are needed",
                op.label()
            ));
        }
    }
    println!(
        "Integrity mismatches: {}.",
        shared.mismatches() + files.problems.len() as u64
    );
    if !failures.is_empty() {
        bail!("soak failed:\n- {}", failures.join("\n- "));
    }
    println!("\nsoak passed");
    Ok(())
}

/// Starts the server again on its root and port, and tells the sampler and
/// the clients.
fn restart(server: &mut ChildProcess, pid: &AtomicU32, shared: &Shared) -> Result<()> {
    pid.store(0, Ordering::Relaxed);
    tokio::task::block_in_place(|| server.restart()).context("restarting the server")?;
    pid.store(server.pid(), Ordering::Relaxed);
    shared.outage_ends();
    Ok(())
}

/// Waits for every client to finish its command and quit.
async fn wind_down(clients: Vec<tokio::task::JoinHandle<ClientEnd>>) -> Result<Vec<ClientEnd>> {
    let joined = tokio::time::timeout(WIND_DOWN_LIMIT, async {
        let mut ends = Vec::with_capacity(clients.len());
        for client in clients {
            ends.push(client.await?);
        }
        anyhow::Ok(ends)
    })
    .await;
    match joined {
        Ok(ends) => ends,
        Err(_) => bail!("the clients did not finish within {WIND_DOWN_LIMIT:?} of the end"),
    }
}

/// Samples the server's and the bridge's memory and descriptors every second.
async fn sample(shared: Arc<Shared>, server_pid: Arc<AtomicU32>, bridge_pid: u32) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let pid = server_pid.load(Ordering::Relaxed);
        shared.sample(Sample {
            at: shared.now(),
            server: (pid != 0).then(|| Usage::of(pid)).flatten(),
            bridge: Usage::of(bridge_pid),
        });
    }
}

/// Which process's figures of a sample.
type Pick = fn(&Sample) -> Option<Usage>;

fn millis(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1e3)
}

/// The windows of the run (the commands finishing after its end are left out).
fn print_windows(shared: &Shared, length: Duration) {
    let samples = shared.samples();
    let outages = shared.outages();
    println!("\n### Soak, per {} s window\n", WINDOW.as_secs());
    println!("| window | ops | small ops | small p50 ms | small p99 ms | small max ms | connections lost | server RSS | server fds | bridge RSS | bridge fds | event |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let windows = shared.windows();
    let shown = length.as_secs().div_ceil(WINDOW.as_secs()) as usize;
    for (index, window) in windows.iter().enumerate().take(shown) {
        let from = WINDOW * index as u32;
        let to = from + WINDOW;
        let (p50, p99, max) = window.small_figures();
        let usage = |pick: Pick| match mean_usage(&samples, from, to, pick) {
            Some((rss, fds)) => (mib(rss as u64), format!("{fds:.0}")),
            None => ("-".into(), "-".into()),
        };
        let (server_rss, server_fds) = usage(|s| s.server);
        let (bridge_rss, bridge_fds) = usage(|s| s.bridge);
        let events: Vec<&str> = outages
            .iter()
            .filter(|outage| outage.from >= from && outage.from < to)
            .map(|outage| outage.what)
            .collect();
        println!(
            "| {}–{} s | {} | {} | {} | {} | {} | {} | {server_rss} | {server_fds} | {bridge_rss} | {bridge_fds} | {} |",
            from.as_secs(),
            to.as_secs(),
            window.ops,
            window.small.len(),
            millis(p50),
            millis(p99),
            millis(max),
            window.losses,
            events.join(", ")
        );
    }
}

fn print_totals(config: &SoakConfig, shared: &Shared) {
    println!(
        "\n### Soak totals: {} clients ({} over TCP, {} through ferry-bridge), {} s\n",
        config.clients,
        config.clients.div_ceil(2),
        config.clients / 2,
        config.seconds
    );
    println!("| operation | completed |");
    println!("|---|---:|");
    for op in Op::ALL {
        println!("| {} | {} |", op.label(), shared.count(op));
    }
    println!(
        "\nFile bytes sent {}, received {}; {} RESUMEs found bytes kept ({} not sent again); {} RESUMEs answered 450 and tried again.",
        mib(shared.bytes_up.load(Ordering::Relaxed)),
        mib(shared.bytes_down.load(Ordering::Relaxed)),
        shared.resumes_with_kept.load(Ordering::Relaxed),
        mib(shared.kept_bytes.load(Ordering::Relaxed)),
        shared.busy_retries.load(Ordering::Relaxed)
    );
}

/// Prints the flatness figures and returns the failures among them: the
/// last window against the first after the warm-up that follows the
/// server's last start (`server_start`).
fn print_flatness(config: &SoakConfig, samples: &[Sample], server_start: Duration) -> Vec<String> {
    let compare = config.compare_window();
    let length = Duration::from_secs(config.seconds);
    let last = (length - compare, length);
    let first = (
        server_start + compare,
        (server_start + compare * 2).min(last.0),
    );
    println!(
        "\n### Flat after warm-up: mean of the last {} s against the first {} s after a {} s warm-up following the server's last start at {:.1} s (at most {GROWTH_LIMIT}x)\n",
        compare.as_secs(),
        compare.as_secs(),
        compare.as_secs(),
        server_start.as_secs_f64()
    );
    println!("| process | figure | first window after warm-up | last window | ratio |");
    println!("|---|---|---:|---:|---:|");
    let mut failures = Vec::new();
    let processes: [(&str, Pick); 2] = [
        ("ferry-server", |s| s.server),
        ("ferry-bridge", |s| s.bridge),
    ];
    for (name, pick) in processes {
        let before = mean_usage(samples, first.0, first.1, pick);
        let after = mean_usage(samples, last.0, last.1, pick);
        let (Some(before), Some(after)) = (before, after) else {
            failures.push(format!("no samples of {name} in a comparison window"));
            continue;
        };
        let rows = [
            (
                "RSS",
                before.0,
                after.0,
                mib(before.0 as u64),
                mib(after.0 as u64),
            ),
            (
                "open descriptors",
                before.1,
                after.1,
                format!("{:.0}", before.1),
                format!("{:.0}", after.1),
            ),
        ];
        for (figure, was, now, was_shown, now_shown) in rows {
            let ratio = now / was.max(1.0);
            println!(
                "| {name} | {figure} | {was_shown} ({:.0}–{:.0} s) | {now_shown} ({}–{} s) | {ratio:.2} |",
                first.0.as_secs_f64(),
                first.1.as_secs_f64(),
                last.0.as_secs(),
                last.1.as_secs()
            );
            if ratio > GROWTH_LIMIT {
                failures.push(format!(
                    "{name} {figure} grew {ratio:.2}x ({was_shown} to {now_shown}) from the first window after warm-up to the last"
                ));
            }
        }
    }
    failures
}
