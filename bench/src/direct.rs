//! RETRIEVE and STORE over direct TCP, next to a plain TCP copy of the same
//! bytes (the loopback limit), plus the server's peak RSS.

use crate::fixture::{ensure_file, random_block};
use crate::process::{ChildProcess, Memory};
use crate::report::{mib, print_throughput, Throughput};
use crate::wire::BenchClient;
use anyhow::{ensure, Result};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::io::AsyncReadExt;

/// Name of the large file inside the server's root.
pub const BIG_FILE: &str = "bench-big.bin";

/// Settings of the direct-TCP scenario.
pub struct DirectConfig {
    /// The `ferry-server` binary.
    pub server_bin: PathBuf,
    /// Directory for the server root (the big file is created in it once).
    pub work_dir: PathBuf,
    /// Size of the transferred file.
    pub size: u64,
    /// Rounds per path; the best round of each is reported.
    pub rounds: usize,
}

/// Results of the direct scenario.
pub struct DirectResults {
    /// Plain TCP download of the file (sendfile → socket → discard).
    pub tcp_download: Throughput,
    /// RETRIEVE through ferry-server.
    pub retrieve: Throughput,
    /// Plain TCP upload of the same number of bytes.
    pub tcp_upload: Throughput,
    /// STORE through ferry-server (includes fsync and rename).
    pub store: Throughput,
    /// Server memory after RETRIEVE rounds.
    pub memory_after_retrieve: Memory,
    /// Server memory after STORE rounds.
    pub memory_after_store: Memory,
}

/// Runs the scenario and prints its table.
pub async fn run(config: &DirectConfig) -> Result<DirectResults> {
    let root = config.work_dir.join("root");
    std::fs::create_dir_all(&root)?;
    let file = root.join(BIG_FILE);
    eprintln!(
        "preparing {} of test data in {}",
        mib(config.size),
        file.display()
    );
    ensure_file(&file, config.size)?;
    let server = ChildProcess::ferry_server(&config.server_bin, &root, &[])?;
    let block = random_block(7);

    let mut tcp_download = Vec::new();
    let mut retrieve = Vec::new();
    for round in 0..config.rounds {
        eprintln!("round {}: download", round + 1);
        tcp_download.push(plain_tcp_download(&file, config.size).await?);
        retrieve.push(ferry_retrieve(server.addr, config.size).await?);
    }
    let memory_after_retrieve = server.memory()?;

    let mut tcp_upload = Vec::new();
    let mut store = Vec::new();
    for round in 0..config.rounds {
        eprintln!("round {}: upload", round + 1);
        tcp_upload.push(plain_tcp_upload(config.size, &block).await?);
        store.push(ferry_store(server.addr, config.size, &block).await?);
    }
    let memory_after_store = server.memory()?;

    let results = DirectResults {
        tcp_download: best(tcp_download),
        retrieve: best(retrieve),
        tcp_upload: best(tcp_upload),
        store: best(store),
        memory_after_retrieve,
        memory_after_store,
    };
    print_throughput(
        "Download over loopback",
        &results.tcp_download,
        std::slice::from_ref(&results.retrieve),
    );
    print_throughput(
        "Upload over loopback",
        &results.tcp_upload,
        std::slice::from_ref(&results.store),
    );
    println!(
        "\nferry-server peak RSS: {} after RETRIEVE rounds, {} after STORE rounds (VmHWM)",
        mib(results.memory_after_retrieve.peak_rss),
        mib(results.memory_after_store.peak_rss)
    );
    Ok(results)
}

/// The fastest of several rounds.
pub fn best(rounds: Vec<Throughput>) -> Throughput {
    rounds
        .into_iter()
        .min_by_key(|t| t.elapsed)
        .expect("at least one round")
}

/// Sends `file` over a fresh loopback connection with `std::io::copy`
/// (sendfile on Linux) and times a client reading it.
async fn plain_tcp_download(file: &Path, size: u64) -> Result<Throughput> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let file = file.to_path_buf();
    let sender = std::thread::spawn(move || -> Result<()> {
        let (mut stream, _) = listener.accept()?;
        std::io::copy(&mut std::fs::File::open(file)?, &mut stream)?;
        Ok(())
    });
    let started = Instant::now();
    let received = read_to_end_discarding(addr).await?;
    let elapsed = started.elapsed();
    sender.join().expect("sender thread")?;
    ensure!(
        received == size,
        "plain TCP moved {received} of {size} bytes"
    );
    Ok(Throughput {
        label: "plain TCP".into(),
        bytes: size,
        elapsed,
    })
}

async fn read_to_end_discarding(addr: SocketAddr) -> Result<u64> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}

async fn ferry_retrieve(addr: SocketAddr, size: u64) -> Result<Throughput> {
    let mut client = BenchClient::connect(addr).await?;
    let started = Instant::now();
    let received = client.retrieve(BIG_FILE).await?;
    let elapsed = started.elapsed();
    ensure!(
        received == size,
        "RETRIEVE moved {received} of {size} bytes"
    );
    Ok(Throughput {
        label: "ferry RETRIEVE".into(),
        bytes: size,
        elapsed,
    })
}

/// Writes `size` bytes to a loopback receiver that discards them and
/// acknowledges the end, the upload counterpart of the plain download.
async fn plain_tcp_upload(size: u64, block: &[u8]) -> Result<Throughput> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let receiver = std::thread::spawn(move || -> Result<u64> {
        let (mut stream, _) = listener.accept()?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        stream.write_all(b"k")?;
        Ok(total)
    });
    let block = block.to_vec();
    let started = Instant::now();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let mut stream = TcpStream::connect(addr)?;
        let mut left = size;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            stream.write_all(&block[..n])?;
            left -= n as u64;
        }
        stream.shutdown(std::net::Shutdown::Write)?;
        stream.read_exact(&mut [0u8; 1])?;
        Ok(())
    })
    .await??;
    let elapsed = started.elapsed();
    let received = receiver.join().expect("receiver thread")?;
    ensure!(
        received == size,
        "plain TCP upload moved {received} of {size} bytes"
    );
    Ok(Throughput {
        label: "plain TCP".into(),
        bytes: size,
        elapsed,
    })
}

async fn ferry_store(addr: SocketAddr, size: u64, block: &[u8]) -> Result<Throughput> {
    let mut client = BenchClient::connect(addr).await?;
    let started = Instant::now();
    client.store("bench-upload.bin", size, block).await?;
    let elapsed = started.elapsed();
    Ok(Throughput {
        label: "ferry STORE (incl. fsync)".into(),
        bytes: size,
        elapsed,
    })
}
