//! ferry-server on an object store next to ferry-server on the local file
//! system, in the same run (issue 13): a large STORE and RETRIEVE, LIST of
//! a directory of many files, and the aggregate RETRIEVE throughput of many
//! clients on one store server against the same clients spread over two.
//!
//! The store is the Swift all-in-one of the tests (`ferry_testkit::Swift`,
//! scripts/swift.sh: one proxy process, one replica, on this machine's
//! disk). The listed directory is put into Swift in one request (Swift's
//! bulk middleware extracting a tar), since 10,000 STOREs through a server
//! would measure the fixture, not the listing. What loopback on a couple of
//! cores can show is the cost of each request to the store and where the
//! single store process caps the whole; not what a real cluster's many
//! proxies and disks would do (bench/results/ says more).

use crate::report::mib;
use crate::wire::BenchClient;
use anyhow::{ensure, Context, Result};
use ferry_testkit::{closed_port, ChildProcess, Swift};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Settings of the store scenario.
pub struct StoreConfig {
    /// The `ferry-server` binary.
    pub server_bin: PathBuf,
    /// Directory for the local root and the tar of the listing fixture.
    pub work_dir: PathBuf,
    /// Size of the large STORE and RETRIEVE.
    pub size: u64,
    /// Files in the listed directory.
    pub files: usize,
    /// LIST rounds on each side (best and median are reported).
    pub rounds: usize,
    /// Clients of the aggregate throughput figure.
    pub clients: usize,
    /// How long each aggregate figure runs.
    pub seconds: u64,
}

/// Where the large file and the listed directory are on both sides.
const BIG: &str = "big";
const LISTED: &str = "list";
/// The file the aggregate figure's clients download, again and again.
const SHARED: &str = "shared";
const SHARED_SIZE: u64 = 8 * 1024 * 1024;

/// Runs the scenario and prints its tables.
pub async fn run(config: &StoreConfig) -> Result<()> {
    println!("== ferry-server on Swift vs on the local file system ==");
    let swift = tokio::task::spawn_blocking(Swift::start).await?;
    let root = config.work_dir.join("store-bench-root");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join(LISTED))?;
    fill(&root.join(LISTED), config.files)?;
    let local = ChildProcess::ferry_server(&config.server_bin, &root, &[])?;
    let prefix = "bench";
    put_listing(&swift, &config.work_dir, &root, prefix, config.files)?;
    let on_a = store_server(config, &swift, prefix)?;
    let on_b = store_server(config, &swift, prefix)?;

    let block = ferry_testkit::data::noise(crate::fixture::BLOCK, 13);
    let mut rows = Vec::new();
    for (side, addr) in [("local", local.addr), ("swift", on_a.addr)] {
        let mut client = BenchClient::connect(addr).await?;
        let started = Instant::now();
        client.store(BIG, config.size, &block).await?;
        let store = started.elapsed();
        let started = Instant::now();
        let got = client.retrieve_path(BIG).await?;
        let retrieve = started.elapsed();
        ensure!(got == config.size, "{side}: RETRIEVE gave {got} bytes");
        let mut lists = Vec::new();
        for _ in 0..config.rounds {
            let started = Instant::now();
            let n = client.list_dir(LISTED).await?;
            lists.push(started.elapsed());
            ensure!(n == config.files, "{side}: LIST gave {n} entries");
        }
        lists.sort();
        rows.push((side, store, retrieve, lists));
    }
    let rate = |time: Duration| config.size as f64 / 1_048_576.0 / time.as_secs_f64();
    println!(
        "\n{} STORE and RETRIEVE, LIST of {} files ({} rounds: best / median)\n",
        mib(config.size),
        config.files,
        config.rounds
    );
    println!("| figure | local | Swift | Swift / local |");
    println!("|---|---:|---:|---:|");
    let (local_row, swift_row) = (&rows[0], &rows[1]);
    println!(
        "| STORE MiB/s | {:.0} | {:.0} | {:.2} |",
        rate(local_row.1),
        rate(swift_row.1),
        rate(swift_row.1) / rate(local_row.1)
    );
    println!(
        "| RETRIEVE MiB/s | {:.0} | {:.0} | {:.2} |",
        rate(local_row.2),
        rate(swift_row.2),
        rate(swift_row.2) / rate(local_row.2)
    );
    let median = |lists: &[Duration]| lists[lists.len() / 2];
    println!(
        "| LIST best ms | {:.1} | {:.1} | {:.1}x slower |",
        ms(local_row.3[0]),
        ms(swift_row.3[0]),
        ms(swift_row.3[0]) / ms(local_row.3[0])
    );
    println!(
        "| LIST median ms | {:.1} | {:.1} | {:.1}x slower |",
        ms(median(&local_row.3)),
        ms(median(&swift_row.3)),
        ms(median(&swift_row.3)) / ms(median(&local_row.3))
    );

    let mut setup = BenchClient::connect(on_a.addr).await?;
    setup.store(SHARED, SHARED_SIZE, &block).await?;
    let window = Duration::from_secs(config.seconds);
    let one = aggregate(&[on_a.addr], config.clients, window).await?;
    let two = aggregate(&[on_a.addr, on_b.addr], config.clients, window).await?;
    println!(
        "\n{} clients downloading a {} file again and again for {} s each (RETRIEVE from Swift)\n",
        config.clients,
        mib(SHARED_SIZE),
        config.seconds
    );
    println!("| servers | RETRIEVEs | MiB/s in all | vs 1 server |");
    println!("|---:|---:|---:|---:|");
    for (servers, figure) in [(1, &one), (2, &two)] {
        println!(
            "| {servers} | {} | {:.0} | {:.2} |",
            figure.downloads,
            figure.mib_per_sec(),
            figure.mib_per_sec() / one.mib_per_sec()
        );
    }
    drop((local, on_a, on_b));
    tokio::task::spawn_blocking(move || drop(swift)).await?;
    Ok(())
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}

/// `files` one-byte files in `dir`.
fn fill(dir: &Path, files: usize) -> Result<()> {
    for i in 0..files {
        std::fs::write(dir.join(format!("f{i:06}")), b"x")?;
    }
    Ok(())
}

/// The listed directory of `root`, put under `prefix` in the container in
/// one request: Swift's bulk middleware extracts a tar of it.
fn put_listing(
    swift: &Swift,
    work_dir: &Path,
    root: &Path,
    prefix: &str,
    files: usize,
) -> Result<()> {
    let tar = work_dir.join("store-bench-list.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(root)
        .arg("-cf")
        .arg(&tar)
        .arg(LISTED)
        .status()
        .context("tar")?;
    ensure!(status.success(), "tar failed: {status}");
    let url = format!(
        "{}/{prefix}?extract-archive=tar",
        swift.container_url(&swift.container)
    );
    let output = Command::new("curl")
        .args(["-sS", "-m", "600", "-X", "PUT", "-T"])
        .arg(&tar)
        .arg("-H")
        .arg(format!("X-Auth-Token: {}", swift.token))
        .arg(url)
        .output()
        .context("curl")?;
    let body = String::from_utf8_lossy(&output.stdout);
    ensure!(
        body.contains(&format!("Number Files Created: {files}")),
        "extract-archive: {body} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_file(tar);
    Ok(())
}

/// A ferry-server on `prefix` of the Swift's container.
fn store_server(config: &StoreConfig, swift: &Swift, prefix: &str) -> Result<ChildProcess> {
    let host = swift
        .auth_url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    let key_file = config.work_dir.join("store-bench.key");
    std::fs::write(&key_file, format!("{}\n", swift.key))?;
    let addr = closed_port();
    let args: Vec<String> = vec![
        "--store".into(),
        format!("swift://{host}/{}/{prefix}", swift.container),
        "--store-user".into(),
        swift.user.clone(),
        "--store-key-file".into(),
        key_file.display().to_string(),
        "--listen".into(),
        addr.to_string(),
        "--max-per-address".into(),
        "1000".into(),
    ];
    ChildProcess::spawn(&config.server_bin, &args, addr)
}

/// What the clients of one aggregate figure got.
struct Aggregate {
    downloads: u64,
    bytes: u64,
    elapsed: Duration,
}

impl Aggregate {
    fn mib_per_sec(&self) -> f64 {
        self.bytes as f64 / 1_048_576.0 / self.elapsed.as_secs_f64()
    }
}

/// `clients` clients, dealt over `servers` in turn, each downloading
/// [`SHARED`] until `window` has passed (a download under way then is
/// finished and counted).
async fn aggregate(servers: &[SocketAddr], clients: usize, window: Duration) -> Result<Aggregate> {
    let started = Instant::now();
    let deadline = started + window;
    let mut tasks = Vec::new();
    for client in 0..clients {
        let addr = servers[client % servers.len()];
        tasks.push(tokio::spawn(async move {
            let mut session = BenchClient::connect(addr).await?;
            let (mut downloads, mut bytes) = (0u64, 0u64);
            while Instant::now() < deadline {
                bytes += session.retrieve_path(SHARED).await?;
                downloads += 1;
            }
            anyhow::Ok((downloads, bytes))
        }));
    }
    let mut total = Aggregate {
        downloads: 0,
        bytes: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let (downloads, bytes) = task.await??;
        total.downloads += downloads;
        total.bytes += bytes;
    }
    total.elapsed = started.elapsed();
    Ok(total)
}
