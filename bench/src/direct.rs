//! RETRIEVE and STORE over direct TCP, next to a plain TCP copy of the same
//! bytes (the loopback limit), plus the server's peak RSS. RETRIEVE and READ
//! also fetch the same file through a path four directories deep (a hard
//! link to it, so the bytes and their page cache are the same): resolving a
//! path beneath the root must cost nothing visible.

use crate::fixture::{ensure_file, BLOCK};
use crate::report::{mib, print_throughput, Throughput};
use crate::wire::BenchClient;
use anyhow::{ensure, Result};
use ferry_testkit::data::noise;
use ferry_testkit::{ChildProcess, Memory};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncReadExt;

/// Name of the large file inside the server's root.
pub const BIG_FILE: &str = "bench-big.bin";

/// The same file (a hard link) four directories down.
pub const NESTED_BIG_FILE: &str = "nested/a/b/c/bench-big.bin";

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
    /// Plain TCP download from memory: the loopback limit.
    pub tcp_download: Throughput,
    /// Plain TCP download of the file with a read/write loop.
    pub file_copy: Throughput,
    /// RETRIEVE through ferry-server.
    pub retrieve: Throughput,
    /// RETRIEVE of [`NESTED_BIG_FILE`].
    pub nested_retrieve: Throughput,
    /// `READ 0 <size>` of [`NESTED_BIG_FILE`].
    pub nested_read: Throughput,
    /// Plain TCP upload of the same number of bytes, discarded.
    pub tcp_upload: Throughput,
    /// Plain TCP upload written to a file and fsynced.
    pub disk_upload: Throughput,
    /// STORE through ferry-server (includes fsync and rename).
    pub store: Throughput,
    /// Server memory after RETRIEVE rounds.
    pub memory_after_retrieve: Memory,
    /// Server memory after STORE rounds.
    pub memory_after_store: Memory,
}

/// Creates `work_dir/root` holding [`BIG_FILE`] of `size` bytes (kept
/// between runs) and returns the root.
pub fn prepare_root(work_dir: &Path, size: u64) -> Result<PathBuf> {
    let root = work_dir.join("root");
    std::fs::create_dir_all(&root)?;
    let file = root.join(BIG_FILE);
    eprintln!("preparing {} of test data in {}", mib(size), file.display());
    ensure_file(&file, size)?;
    let nested = root.join(NESTED_BIG_FILE);
    std::fs::create_dir_all(nested.parent().expect("a nested path"))?;
    // Relinked every run, so it is the big file of this run's size.
    match std::fs::remove_file(&nested) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error.into()),
    }
    std::fs::hard_link(&file, &nested)?;
    Ok(root)
}

/// Runs the scenario and prints its table.
pub async fn run(config: &DirectConfig) -> Result<DirectResults> {
    let root = prepare_root(&config.work_dir, config.size)?;
    let server = ChildProcess::ferry_server(&config.server_bin, &root, &[])?;
    let block = noise(BLOCK, 7);
    let in_ram = Arc::new(std::fs::read(root.join(BIG_FILE))?);

    let mut tcp_download = Vec::new();
    let mut file_copy = Vec::new();
    let mut retrieve = Vec::new();
    let mut nested_retrieve = Vec::new();
    let mut nested_read = Vec::new();
    for round in 0..config.rounds {
        eprintln!("round {}: download", round + 1);
        tcp_download
            .push(plain_tcp_download(Source::Memory(Arc::clone(&in_ram)), config.size).await?);
        file_copy.push(plain_tcp_download(Source::File(root.join(BIG_FILE)), config.size).await?);
        retrieve.push(ferry_retrieve(server.addr, config.size).await?);
        nested_retrieve.push(ferry_nested(server.addr, Nested::Retrieve, config.size).await?);
        nested_read.push(ferry_nested(server.addr, Nested::Read, config.size).await?);
    }
    let memory_after_retrieve = server.memory()?;

    let mut tcp_upload = Vec::new();
    let mut disk_upload = Vec::new();
    let mut store = Vec::new();
    let sink = config.work_dir.join("plain-upload.bin");
    for round in 0..config.rounds {
        eprintln!("round {}: upload", round + 1);
        tcp_upload.push(plain_tcp_upload(config.size, &block, None).await?);
        disk_upload.push(plain_tcp_upload(config.size, &block, Some(sink.clone())).await?);
        store.push(ferry_store(server.addr, config.size, &block).await?);
    }
    let memory_after_store = server.memory()?;

    let results = DirectResults {
        tcp_download: best(tcp_download),
        file_copy: best(file_copy),
        retrieve: best(retrieve),
        nested_retrieve: best(nested_retrieve),
        nested_read: best(nested_read),
        tcp_upload: best(tcp_upload),
        disk_upload: best(disk_upload),
        store: best(store),
        memory_after_retrieve,
        memory_after_store,
    };
    print_throughput(
        "Download over loopback",
        &results.tcp_download,
        &[
            results.file_copy.clone(),
            results.retrieve.clone(),
            results.nested_retrieve.clone(),
            results.nested_read.clone(),
        ],
    );
    print_throughput(
        "Upload over loopback",
        &results.tcp_upload,
        &[results.disk_upload.clone(), results.store.clone()],
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

/// Where a plain TCP sender takes its bytes from.
enum Source {
    /// The file's bytes, loaded into RAM beforehand: the loopback limit
    /// for these bytes (no disk, no page-cache lookups, one write call).
    Memory(Arc<Vec<u8>>),
    /// The file itself, read and written in 256 KiB chunks (`nc < file`).
    File(PathBuf),
}

/// Sends `size` bytes over a fresh loopback connection from `source` and
/// times a client reading them.
async fn plain_tcp_download(source: Source, size: u64) -> Result<Throughput> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let label = match &source {
        Source::Memory(_) => "plain TCP of the same bytes from RAM (loopback limit)",
        Source::File(_) => "plain TCP read+write of the file",
    };
    let sender = std::thread::spawn(move || -> Result<()> {
        let (mut stream, _) = listener.accept()?;
        match source {
            Source::Memory(bytes) => stream.write_all(&bytes)?,
            Source::File(path) => {
                let mut file = std::fs::File::open(path)?;
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let n = file.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    stream.write_all(&buf[..n])?;
                }
            }
        }
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
        label: label.into(),
        bytes: size,
        elapsed,
    })
}

fn write_repeated(stream: &mut TcpStream, block: &[u8], size: u64) -> std::io::Result<()> {
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        stream.write_all(&block[..n])?;
        left -= n as u64;
    }
    Ok(())
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

/// How the nested file is fetched.
#[derive(Debug, Clone, Copy)]
enum Nested {
    Retrieve,
    /// `READ 0 <size>`: the same bytes as RETRIEVE.
    Read,
}

async fn ferry_nested(addr: SocketAddr, how: Nested, size: u64) -> Result<Throughput> {
    let mut client = BenchClient::connect(addr).await?;
    let started = Instant::now();
    let received = match how {
        Nested::Retrieve => client.retrieve_path(NESTED_BIG_FILE).await?,
        Nested::Read => client.read(NESTED_BIG_FILE, 0, size).await?,
    };
    let elapsed = started.elapsed();
    ensure!(received == size, "{how:?} moved {received} of {size} bytes");
    let label = match how {
        Nested::Retrieve => "ferry RETRIEVE, 4 directories deep",
        Nested::Read => "ferry READ 0 <size>, 4 directories deep",
    };
    Ok(Throughput {
        label: label.into(),
        bytes: size,
        elapsed,
    })
}

/// Writes `size` bytes to a loopback receiver that acknowledges the end;
/// the receiver discards them, or with `sink` writes them to that file and
/// fsyncs it (what any durable upload must pay).
async fn plain_tcp_upload(size: u64, block: &[u8], sink: Option<PathBuf>) -> Result<Throughput> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let label = if sink.is_some() {
        "plain TCP into a file + fsync"
    } else {
        "plain TCP to memory (loopback limit)"
    };
    let receiver = std::thread::spawn(move || -> Result<u64> {
        let (mut stream, _) = listener.accept()?;
        let mut file = sink.as_ref().map(std::fs::File::create).transpose()?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            if let Some(file) = file.as_mut() {
                file.write_all(&buf[..n])?;
            }
            total += n as u64;
        }
        if let Some(file) = file {
            file.sync_all()?;
        }
        if let Some(path) = sink {
            std::fs::remove_file(path)?;
        }
        stream.write_all(b"k")?;
        Ok(total)
    });
    let block = block.to_vec();
    let started = Instant::now();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let mut stream = TcpStream::connect(addr)?;
        write_repeated(&mut stream, &block, size)?;
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
        label: label.into(),
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
