//! LIST of one directory holding many files (100,000 by default), next to
//! `ls -l` of the same directory in the same run: both read every entry's
//! metadata, so `ls -l` is the local reference for what the listing costs,
//! and the server's peak RSS shows what holding the listing costs. Next to
//! the wall-clock times it reports CPU time (user + system: the server's
//! from `/proc/<pid>/stat`, `ls`'s from bash's `time`), which a loaded
//! machine disturbs far less.

use crate::process::process_cpu;
use crate::report::mib;
use crate::wire::BenchClient;
use anyhow::{ensure, Context, Result};
use ferry_testkit::ChildProcess;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Settings of the big listing scenario.
pub struct BigListingConfig {
    /// The `ferry-server` binary.
    pub server_bin: PathBuf,
    /// Directory for the server root.
    pub work_dir: PathBuf,
    /// Files in the listed directory.
    pub files: usize,
    /// Rounds, alternating LIST and `ls -l` (best and median are reported).
    pub rounds: usize,
}

/// The scenario's figures.
pub struct BigListingResults {
    /// Best LIST, from sending the command to the `226`.
    pub list_best: Duration,
    /// Median LIST.
    pub list_median: Duration,
    /// Best `ls -l` of the same directory, its output discarded.
    pub ls_best: Duration,
    /// Median `ls -l`.
    pub ls_median: Duration,
    /// Best server CPU time (user + system) spent on one LIST.
    pub list_cpu_best: Duration,
    /// Best CPU time of one `ls -l`.
    pub ls_cpu_best: Duration,
    /// The server's peak RSS after the rounds.
    pub server_peak_rss: u64,
}

/// Name of the listed directory inside the root.
const DIR: &str = "big";

/// Creates the directory once (kept in the work dir between runs), then
/// alternates LIST over TCP and `ls -l`; prints both and their ratio.
pub async fn run(config: &BigListingConfig) -> Result<BigListingResults> {
    let root = config.work_dir.join("big-listing-root");
    let dir = root.join(DIR);
    fill(&dir, config.files)?;
    let server = ChildProcess::ferry_server(&config.server_bin, &root, &[])?;
    let mut client = BenchClient::connect(server.addr).await?;
    let (mut lists, mut lss) = (Vec::new(), Vec::new());
    let (mut list_cpus, mut ls_cpus) = (Vec::new(), Vec::new());
    for _ in 0..config.rounds.max(1) {
        let cpu_before = process_cpu(server.pid())?;
        let started = Instant::now();
        let entries = client.list_dir(DIR).await?;
        lists.push(started.elapsed());
        list_cpus.push(process_cpu(server.pid())?.saturating_sub(cpu_before));
        ensure!(
            entries == config.files,
            "LIST {DIR} gave {entries} entries, expected {}",
            config.files
        );
        let (wall, cpu) = time_ls(&dir)?;
        lss.push(wall);
        ls_cpus.push(cpu);
    }
    for times in [&mut lists, &mut lss, &mut list_cpus, &mut ls_cpus] {
        times.sort();
    }
    let results = BigListingResults {
        list_best: lists[0],
        list_median: lists[lists.len() / 2],
        ls_best: lss[0],
        ls_median: lss[lss.len() / 2],
        list_cpu_best: list_cpus[0],
        ls_cpu_best: ls_cpus[0],
        server_peak_rss: server.memory()?.peak_rss,
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "\nLIST of one directory with {} files ({} rounds)",
        config.files,
        lists.len()
    );
    println!("| path | best | median | best vs ls -l | CPU, best | CPU vs ls -l |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| ls -l (reference) | {:.0} ms | {:.0} ms | 1.00x | {:.0} ms | 1.00x |",
        ms(results.ls_best),
        ms(results.ls_median),
        ms(results.ls_cpu_best)
    );
    println!(
        "| LIST over TCP | {:.0} ms | {:.0} ms | {:.2}x | {:.0} ms | {:.2}x |",
        ms(results.list_best),
        ms(results.list_median),
        ms(results.list_best) / ms(results.ls_best),
        ms(results.list_cpu_best),
        ms(results.list_cpu_best) / ms(results.ls_cpu_best).max(1.0)
    );
    println!(
        "ferry-server peak RSS: {} (VmHWM)",
        mib(results.server_peak_rss)
    );
    Ok(results)
}

/// Makes sure `dir` holds exactly `files` empty files `f0000000`…
pub fn fill(dir: &Path, files: usize) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let present = std::fs::read_dir(dir)?.count();
    if present == files {
        return Ok(());
    }
    std::fs::remove_dir_all(dir)?;
    std::fs::create_dir_all(dir)?;
    for index in 0..files {
        std::fs::File::create(dir.join(format!("f{index:07}")))?;
    }
    Ok(())
}

/// Times `ls -l` of `dir` with its output going nowhere: the wall-clock
/// time, and the CPU time bash's `time` reports for it.
fn time_ls(dir: &Path) -> Result<(Duration, Duration)> {
    let started = Instant::now();
    let output = Command::new("bash")
        .args([
            "-c",
            "TIMEFORMAT='%3U %3S'; time ls -l \"$1\" > /dev/null",
            "ls",
        ])
        .arg(dir)
        .stdout(Stdio::null())
        .output()
        .context("running ls -l under bash's time")?;
    let elapsed = started.elapsed();
    ensure!(
        output.status.success(),
        "ls -l {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let times = String::from_utf8_lossy(&output.stderr);
    let seconds: Vec<f64> = times
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("bash's time printed {times:?}"))?;
    ensure!(seconds.len() == 2, "bash's time printed {times:?}");
    Ok((elapsed, Duration::from_secs_f64(seconds[0] + seconds[1])))
}
