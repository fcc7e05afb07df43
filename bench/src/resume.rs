//! Resuming an upload cut off at a given point (90 % by default) next to a
//! full STORE of the same size in the same run: the bytes each sends and
//! its time, and how long the server takes to keep the cut-off part (its
//! fsync and record). The resumed file must hash like the stored one.
//!
//! The client is a raw TCP one, so the byte counts are exactly what went
//! on the wire after `150` (`RESUME`'s r), and nothing hides a resend.

use crate::fixture::BLOCK;
use crate::report::mib;
use anyhow::{bail, ensure, Context, Result};
use ferry_testkit::data::noise;
use ferry_testkit::ChildProcess;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The most a resume may send beyond the part that was not kept: the
/// contract lets a server drop a tail of at most 1 MiB it could not make
/// durable.
const TAIL_ALLOWANCE: u64 = 1 << 20;

/// Settings of the resume scenario.
pub struct ResumeConfig {
    /// The `ferry-server` binary.
    pub server_bin: PathBuf,
    /// Directory for the server root.
    pub work_dir: PathBuf,
    /// Size of the uploaded file.
    pub size: u64,
    /// Where the first upload is cut off, in percent of the size.
    pub cut_percent: u64,
}

/// One measured upload.
#[derive(Debug, Clone)]
pub struct Sent {
    /// What was measured.
    pub label: String,
    /// Data bytes the client sent after `150`.
    pub bytes: u64,
    /// From the command to `226` (or, for the cut-off half, to the close).
    pub elapsed: Duration,
}

/// Results of the resume scenario.
pub struct ResumeResults {
    /// A full STORE of the file.
    pub full: Sent,
    /// The first half, cut off.
    pub cut: Sent,
    /// From the close of the cut-off connection until the server's record
    /// of the kept bytes is on disk.
    pub kept_after: Duration,
    /// The RESUME that completes the file.
    pub resumed: Sent,
}

/// Runs the scenario and prints its table.
pub async fn run(config: &ResumeConfig) -> Result<ResumeResults> {
    ensure!(
        (1..100).contains(&config.cut_percent),
        "--cut-percent must be 1 to 99"
    );
    let root = config.work_dir.join("resume-root");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    std::fs::create_dir_all(&root)?;
    let server = ChildProcess::ferry_server(&config.server_bin, &root, &[])?;
    let block = noise(BLOCK, 11);
    let size = config.size;
    let cut_at = size / 100 * config.cut_percent;

    eprintln!("full STORE of {}", mib(size));
    let full = store(server.addr, "full.bin", size, &block).await?;
    eprintln!(
        "STORE cut off after {} ({} %)",
        mib(cut_at),
        config.cut_percent
    );
    let cut = cut_off(server.addr, "resumed.bin", size, cut_at, &block).await?;
    let closed = Instant::now();
    wait_for_record(&root).await?;
    let kept_after = closed.elapsed();
    eprintln!("RESUME");
    let resumed = resume(server.addr, "resumed.bin", size, &block).await?;
    ensure!(
        resumed.bytes <= size - cut_at + TAIL_ALLOWANCE,
        "RESUME sent {} bytes, more than the {} not kept plus 1 MiB",
        resumed.bytes,
        size - cut_at
    );
    let mut client = Raw::connect(server.addr).await?;
    let full_hash = client.command("HASH full.bin").await?;
    let resumed_hash = client.command("HASH resumed.bin").await?;
    ensure!(
        full_hash.starts_with("213 ") && full_hash == resumed_hash,
        "the resumed file differs: {full_hash} / {resumed_hash}"
    );

    let results = ResumeResults {
        full,
        cut,
        kept_after,
        resumed,
    };
    print(&results, size);
    Ok(results)
}

fn print(results: &ResumeResults, size: u64) {
    println!("\n### Resuming an upload of {}\n", mib(size));
    println!("| upload | bytes sent | share of the file | seconds |");
    println!("|---|---:|---:|---:|");
    for row in [&results.full, &results.cut, &results.resumed] {
        println!(
            "| {} | {} | {:.1} % | {:.2} |",
            row.label,
            row.bytes,
            row.bytes as f64 * 100.0 / size as f64,
            row.elapsed.as_secs_f64()
        );
    }
    let saved = results.full.elapsed.as_secs_f64() / results.resumed.elapsed.as_secs_f64();
    println!(
        "\nThe server kept the cut-off part (fsync and record) {:.2} s after the close; \
         the RESUME sent {:.1} % of the bytes and took {:.2}x less time than the full STORE.",
        results.kept_after.as_secs_f64(),
        results.resumed.bytes as f64 * 100.0 / results.full.bytes as f64,
        saved
    );
}

/// A raw protocol connection: replies line by line, data written as is.
struct Raw {
    stream: BufReader<TcpStream>,
}

impl Raw {
    async fn connect(addr: SocketAddr) -> Result<Raw> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect {addr}"))?;
        stream.set_nodelay(true)?;
        let mut raw = Raw {
            stream: BufReader::new(stream),
        };
        let greeting = raw.reply().await?;
        ensure!(greeting.starts_with("220 "), "greeting: {greeting}");
        Ok(raw)
    }

    async fn reply(&mut self) -> Result<String> {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(600), self.stream.read_line(&mut line))
            .await
            .context("no reply")??;
        if n == 0 {
            bail!("connection closed while waiting for a reply");
        }
        Ok(line.trim_end().to_owned())
    }

    async fn command(&mut self, line: &str) -> Result<String> {
        self.stream
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await?;
        self.reply().await
    }

    /// Sends the bytes `from..to` of the file made of `block` repeated.
    async fn send_range(&mut self, block: &[u8], from: u64, to: u64) -> Result<u64> {
        let stream = self.stream.get_mut();
        let mut at = from;
        while at < to {
            let offset = (at % block.len() as u64) as usize;
            let n = (block.len() - offset).min((to - at) as usize);
            stream.write_all(&block[offset..offset + n]).await?;
            at += n as u64;
        }
        Ok(to - from)
    }
}

async fn store(addr: SocketAddr, name: &str, size: u64, block: &[u8]) -> Result<Sent> {
    let mut client = Raw::connect(addr).await?;
    let started = Instant::now();
    let ready = client.command(&format!("STORE {size} {name}")).await?;
    ensure!(ready.starts_with("150 "), "STORE: {ready}");
    let bytes = client.send_range(block, 0, size).await?;
    let done = client.reply().await?;
    ensure!(done.starts_with("226 "), "STORE: {done}");
    Ok(Sent {
        label: "full STORE (reference)".into(),
        bytes,
        elapsed: started.elapsed(),
    })
}

async fn cut_off(
    addr: SocketAddr,
    name: &str,
    size: u64,
    cut_at: u64,
    block: &[u8],
) -> Result<Sent> {
    let mut client = Raw::connect(addr).await?;
    let started = Instant::now();
    let ready = client.command(&format!("STORE {size} {name}")).await?;
    ensure!(ready.starts_with("150 "), "STORE: {ready}");
    let bytes = client.send_range(block, 0, cut_at).await?;
    // Cut off as a killed client is: the socket closed, what was sent
    // delivered first.
    client.stream.get_mut().shutdown().await?;
    drop(client);
    Ok(Sent {
        label: "STORE cut off".into(),
        bytes,
        elapsed: started.elapsed(),
    })
}

async fn resume(addr: SocketAddr, name: &str, size: u64, block: &[u8]) -> Result<Sent> {
    let mut client = Raw::connect(addr).await?;
    let started = Instant::now();
    let ready = client.command(&format!("RESUME {size} {name}")).await?;
    let rest: u64 = ready
        .strip_prefix("150 ")
        .and_then(|text| text.split(' ').next())
        .and_then(|number| number.parse().ok())
        .with_context(|| format!("RESUME: {ready}"))?;
    ensure!(rest <= size, "RESUME asked for {rest} of {size} bytes");
    let bytes = client.send_range(block, size - rest, size).await?;
    let done = client.reply().await?;
    ensure!(done.starts_with("226 "), "RESUME: {done}");
    let elapsed = started.elapsed();
    let noop = client.command("NOOP").await?;
    ensure!(noop.starts_with("200 "), "after RESUME: {noop}");
    Ok(Sent {
        label: "**RESUME of the rest**".into(),
        bytes,
        elapsed,
    })
}

/// Waits until the server has recorded a kept upload under `root`.
async fn wait_for_record(root: &Path) -> Result<()> {
    let dir = root
        .join(ferry_server::TEMP_DIR)
        .join(ferry_server::KEPT_DIR);
    let started = Instant::now();
    loop {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries {
                if entry?.file_name().to_string_lossy().ends_with(".record") {
                    return Ok(());
                }
            }
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the cut-off upload was never kept");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
