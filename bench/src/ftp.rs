//! The FTP door next to vsftpd, in the same run on the same files: a large
//! download with curl from the door, with `ferry get` over the Ferry
//! protocol from the same ferry-server, and with curl from vsftpd serving
//! the same directory; then LIST of a 10,000-file directory with lftp
//! against the door and against vsftpd. vsftpd is the reference (goal: the
//! door at ≥ 0.9× of it on both). Every client is a real process, timed
//! from its start to its exit, so each path pays for its own client's
//! start-up and login; the rounds alternate between the paths.
//!
//! vsftpd runs as a child of the harness with a config written into a temp
//! dir (anonymous, read-only, standalone on 127.0.0.1) and is stopped by
//! its PID when the scenario ends.

use crate::big_listing::fill;
use crate::fixture::ensure_file;
use crate::report::{mib, print_rounds, Rounds, Throughput};
use anyhow::{bail, ensure, Context, Result};
use ferry_testkit::{closed_port, ChildProcess, STEP_TIMEOUT};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Settings of the FTP scenario.
pub struct FtpConfig {
    /// The `ferry-server` binary.
    pub server_bin: PathBuf,
    /// The `ferry` CLI binary.
    pub client_bin: PathBuf,
    /// Where the served directory goes (its files are kept between runs).
    pub work_dir: PathBuf,
    /// Size of the downloaded file.
    pub size: u64,
    /// Files in the listed directory.
    pub files: usize,
    /// Rounds per path.
    pub rounds: usize,
}

/// The file downloaded, in the served directory.
const BIG_FILE: &str = "ftp-big.bin";

/// The listed directory, in the served directory.
const MANY: &str = "many";

/// Where apt puts vsftpd.
const VSFTPD: &str = "/usr/sbin/vsftpd";

/// Passive ports per server.
const PASSIVE_PORTS: u16 = 50;

/// The scenario's figures.
pub struct FtpResults {
    pub door_download: Rounds,
    pub ferry_download: Rounds,
    pub vsftpd_download: Rounds,
    pub door_list: Vec<Duration>,
    pub vsftpd_list: Vec<Duration>,
}

/// Runs the scenario and prints its tables.
pub async fn run(config: &FtpConfig) -> Result<FtpResults> {
    let vsftpd = Path::new(VSFTPD);
    ensure!(
        vsftpd.exists(),
        "{VSFTPD} not found: install vsftpd (scripts/bench.sh does, with apt)"
    );
    let root = config.work_dir.join("ftp-root");
    std::fs::create_dir_all(&root)?;
    eprintln!("preparing {} in {}", mib(config.size), root.display());
    ensure_file(&root.join(BIG_FILE), config.size)?;
    fill(&root.join(MANY), config.files)?;

    let door_port = closed_port();
    let low = passive_range()?;
    let door = ChildProcess::ferry_server(
        &config.server_bin,
        &root,
        &[
            "--read-only",
            "--ftp-listen",
            &door_port.to_string(),
            "--ftp-passive-ports",
            &format!("{low}-{}", low + PASSIVE_PORTS - 1),
        ],
    )?;
    wait_listening(door_port)?;
    let conf_dir = tempfile::tempdir()?;
    let vsftpd = start_vsftpd(vsftpd, &root, conf_dir.path())?;
    eprintln!(
        "ferry-server (pid {}) FTP on {door_port}, Ferry on {}; vsftpd (pid {}) on {}",
        door.pid(),
        door.addr,
        vsftpd.pid(),
        vsftpd.addr
    );

    let mut results = FtpResults {
        door_download: Rounds::new(),
        ferry_download: Rounds::new(),
        vsftpd_download: Rounds::new(),
        door_list: Vec::new(),
        vsftpd_list: Vec::new(),
    };
    for round in 1..=config.rounds.max(1) {
        eprintln!("round {round}: downloads");
        results
            .vsftpd_download
            .push(curl_download("curl from vsftpd", vsftpd.addr, config.size)?);
        results.door_download.push(curl_download(
            "curl from the FTP door",
            door_port,
            config.size,
        )?);
        results
            .ferry_download
            .push(ferry_get(&config.client_bin, door.addr, config.size)?);
    }
    for round in 1..=config.rounds.max(1) {
        eprintln!("round {round}: listings");
        results
            .vsftpd_list
            .push(lftp_list(vsftpd.addr, config.files)?);
        results.door_list.push(lftp_list(door_port, config.files)?);
    }
    drop(vsftpd);
    print(config, &mut results);
    Ok(results)
}

fn print(config: &FtpConfig, results: &mut FtpResults) {
    print_rounds(
        &format!("Download of {} over loopback", mib(config.size)),
        &results.vsftpd_download,
        &[&results.door_download, &results.ferry_download],
    );
    results.door_list.sort();
    results.vsftpd_list.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = |times: &[Duration]| times[times.len() / 2];
    println!(
        "\n### LIST of {} files with lftp (connect, login, LIST, quit)\n",
        config.files
    );
    println!("| server | rounds | best | median | speed vs vsftpd, best | median |");
    println!("|---|---:|---:|---:|---:|---:|");
    let (reference_best, reference_median) = (results.vsftpd_list[0], median(&results.vsftpd_list));
    for (label, times) in [
        ("vsftpd (reference)", &results.vsftpd_list),
        ("FTP door", &results.door_list),
    ] {
        println!(
            "| {label} | {} | {:.0} ms | {:.0} ms | {:.2}x | {:.2}x |",
            times.len(),
            ms(times[0]),
            ms(median(times)),
            ms(reference_best) / ms(times[0]),
            ms(reference_median) / ms(median(times)),
        );
    }
}

/// Starts vsftpd standalone on a free loopback port: anonymous, read-only,
/// `root` as the anonymous root, passive ports of its own, its config and
/// log in `dir`.
fn start_vsftpd(binary: &Path, root: &Path, dir: &Path) -> Result<ChildProcess> {
    let addr = closed_port();
    let low = passive_range()?;
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty)?;
    let config = format!(
        "listen=YES\n\
         listen_address=127.0.0.1\n\
         listen_port={port}\n\
         background=NO\n\
         run_as_launching_user=YES\n\
         anonymous_enable=YES\n\
         no_anon_password=YES\n\
         anon_root={root}\n\
         local_enable=NO\n\
         write_enable=NO\n\
         pasv_enable=YES\n\
         pasv_address=127.0.0.1\n\
         pasv_min_port={low}\n\
         pasv_max_port={high}\n\
         seccomp_sandbox=NO\n\
         secure_chroot_dir={empty}\n\
         ftp_username=nobody\n\
         xferlog_enable=NO\n\
         vsftpd_log_file={log}\n\
         max_clients=0\n\
         idle_session_timeout=600\n",
        port = addr.port(),
        root = root.display(),
        high = low + PASSIVE_PORTS - 1,
        empty = empty.display(),
        log = dir.join("vsftpd.log").display(),
    );
    let file = dir.join("vsftpd.conf");
    std::fs::write(&file, config)?;
    ChildProcess::spawn(binary, &[file.display().to_string()], addr)
}

/// Waits until `addr` accepts connections.
fn wait_listening(addr: SocketAddr) -> Result<()> {
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        if started.elapsed() > STEP_TIMEOUT {
            bail!("nothing listens on {addr} after {STEP_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// A free range of [`PASSIVE_PORTS`] ports below Linux's ephemeral ones.
fn passive_range() -> Result<u16> {
    let mut low = 20_000 + (std::process::id() % 100) as u16 * PASSIVE_PORTS;
    for _ in 0..200 {
        if (low..low + PASSIVE_PORTS).all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok()) {
            return Ok(low);
        }
        low = 20_000 + (low - 20_000 + PASSIVE_PORTS) % 12_000;
    }
    bail!("no free range of {PASSIVE_PORTS} ports below 32000")
}

/// Times `curl` downloading [`BIG_FILE`] anonymously from `addr` into
/// /dev/null; curl's own byte count must be the file's size.
fn curl_download(label: &str, addr: SocketAddr, size: u64) -> Result<Throughput> {
    let url = format!("ftp://{addr}/{BIG_FILE}");
    let started = Instant::now();
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "300"])
        .args(["-o", "/dev/null", "-w", "%{size_download}", &url])
        .stdin(Stdio::null())
        .output()
        .context("running curl")?;
    let elapsed = started.elapsed();
    ensure!(
        output.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let received: u64 = String::from_utf8_lossy(&output.stdout).trim().parse()?;
    ensure!(
        received == size,
        "curl {url} got {received} of {size} bytes"
    );
    Ok(Throughput {
        label: label.into(),
        bytes: size,
        elapsed,
    })
}

/// Times `ferry get` of [`BIG_FILE`] to standard output (/dev/null).
fn ferry_get(client: &Path, addr: SocketAddr, size: u64) -> Result<Throughput> {
    let sink = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
    let started = Instant::now();
    let output = Command::new(client)
        .args(["get", &addr.to_string(), BIG_FILE, "-o", "-"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(sink)
        .stderr(Stdio::piped())
        .output()
        .context("running ferry get")?;
    let elapsed = started.elapsed();
    ensure!(
        output.status.success(),
        "ferry get: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let stats = Throughput {
        label: "ferry get over the Ferry protocol".into(),
        bytes: size,
        elapsed,
    };
    Ok(stats)
}

/// Times one lftp process listing [`MANY`] on `addr` anonymously; the
/// listing must have a row per file.
fn lftp_list(addr: SocketAddr, files: usize) -> Result<Duration> {
    let script = format!(
        "set cmd:fail-exit yes\nset net:max-retries 1\nset ftp:passive-mode yes\n\
         set ftp:ssl-allow false\nset ftp:use-mlsd false\n\
         open -u anonymous,bench -p {} 127.0.0.1\nls {MANY}\nbye\n",
        addr.port()
    );
    let script_file = tempfile::NamedTempFile::new()?;
    std::fs::write(script_file.path(), script)?;
    let started = Instant::now();
    let output = Command::new("lftp")
        .arg("-f")
        .arg(script_file.path())
        .stdin(Stdio::null())
        .output()
        .context("running lftp")?;
    let elapsed = started.elapsed();
    ensure!(
        output.status.success(),
        "lftp ls on {addr}: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let rows = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.starts_with('-'))
        .count();
    ensure!(
        rows == files,
        "lftp ls on {addr} listed {rows} files of {files}"
    );
    Ok(elapsed)
}
