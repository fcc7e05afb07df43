//! Hostile clients against the release `ferry-server` and `ferry-bridge`
//! (child processes, default flags), while a legitimate client LISTs.
//!
//! At once: 5,000 connections trickling one byte every 10 s into the
//! server (never ending a command line) and 5,000 into the bridge's
//! upgrade (never ending the head; closed ones come back after 5 s), 2,000
//! connect-and-close per second for 10 s into each, and oversized command
//! lines and request heads. Each attacking group connects from its own
//! hundred loopback addresses (127.G.0.1 to 127.G.0.100, at most 50
//! connections each), so the per-address caps (64) stay what they are in
//! production and the other bounds are the ones tested: the server's line
//! timeout (30 s from a line's first byte), the bridge's header timeout
//! (10 s) and its pending cap (1,024, the oldest unfinished head evicted
//! past it).
//!
//! Asserted: the legitimate client's LIST p99 ≤ 50 ms over TCP and
//! through the bridge, all through; every server trickler gets
//! `421 Line timeout` 30 s after its first byte; every bridge trickler is
//! closed within the header timeout of its connect; oversized input gets
//! `500 Line too long` and HTTP 431; and the resident memory of each
//! process stays under a bound derived from what a connection may hold:
//!
//! - server: at most `held` connections at once (here the 5,000
//!   tricklers, the oversized ones and the churn in flight), each with its
//!   8 KiB read buffer, a partial line (at most 8 KiB; an over-long line is
//!   skipped, its buffer stays under 16 KiB) and its task, so at most
//!   28 KiB each, on top of the RSS before the attack;
//! - bridge: at most `--max-pending` (1,024) connections that are not
//!   relays, each holding at most the 64 KiB head cap plus 8 KiB of
//!   connection state, so 72 MiB on top of the RSS before the attack.
//!
//! Both bounds get 16 MiB for the allocator's slack. The attacking tasks
//! run at nice 10 (in production they are other machines). The latency
//! figure is only meaningful with the machine to itself (with other builds
//! at a load of 5.5 on the 2 cores, the bridge's p99 in the churn phase
//! was 62 ms once), so the test is ignored
//! under `cargo test` and run alone in release by scripts/test.sh:
//! `cargo build --release -p ferry-server -p ferry-bridge` then
//! `cargo test --release -p ferry-bench --test hostile -- --ignored --test-threads 1 --nocapture`.

use ferry_client::{Session, SessionOptions, TcpTransport, WsTransport};
use ferry_testkit::{raise_open_file_limit, ChildProcess, Memory};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const TRICKLERS: usize = 5_000;
const PER_ADDRESS: usize = 50;
const TRICKLE_EVERY: Duration = Duration::from_secs(10);
const CHURN_PER_SECOND: usize = 2_000;
const CHURN_SECONDS: u64 = 10;
const OVERSIZED: usize = 100;
const LIST_P99_BOUND: Duration = Duration::from_millis(50);
/// The defaults the test relies on (ferry-server --line-timeout,
/// ferry-bridge --header-timeout and --max-pending).
const LINE_TIMEOUT: Duration = Duration::from_secs(30);
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_PENDING: u64 = 1024;
const SERVER_PER_CONNECTION: u64 = 28 << 10;
const BRIDGE_PER_PENDING: u64 = (64 + 8) << 10;
const SLACK: u64 = 16 << 20;

/// When each part of the attack begins, from the attack's start.
const CHURN_AT: Duration = Duration::from_secs(4);
const OVERSIZED_AT: Duration = Duration::from_secs(15);
/// Bridge tricklers reconnect until then.
const BRIDGE_TRICKLE_UNTIL: Duration = Duration::from_secs(30);
const PROBE_UNTIL: Duration = Duration::from_secs(36);

/// Loopback source address of connection `n` (0-based) of attacking group
/// `group`: one of 100, so 5,000 connections are [`PER_ADDRESS`] each.
fn source(group: u8, n: usize) -> IpAddr {
    let n = n % (TRICKLERS / PER_ADDRESS) + 1;
    IpAddr::V4(Ipv4Addr::new(127, group, 0, n as u8))
}

async fn connect_from(source: IpAddr, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    match tokio::time::timeout(Duration::from_secs(5), socket.connect(addr)).await {
        Ok(connected) => connected,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

/// Waits until the peer closes `tcp` (or `give_up` passes), keeping what
/// it sent; sends one byte of `bytes` every [`TRICKLE_EVERY`] meanwhile.
async fn trickle_until_closed(
    tcp: TcpStream,
    bytes: &[u8],
    give_up: Duration,
) -> (Option<Instant>, Vec<u8>) {
    let (mut read, mut write) = tcp.into_split();
    let mut received = Vec::new();
    let deadline = tokio::time::sleep(give_up);
    tokio::pin!(deadline);
    let mut next = 0;
    let mut tick = tokio::time::interval(TRICKLE_EVERY);
    let mut buf = [0u8; 512];
    loop {
        tokio::select! {
            () = &mut deadline => return (None, received),
            read = read.read(&mut buf) => match read {
                Ok(0) | Err(_) => return (Some(Instant::now()), received),
                Ok(n) => received.extend_from_slice(&buf[..n]),
            },
            _ = tick.tick() => {
                let _ = write.write_all(&bytes[next % bytes.len()..][..1]).await;
                next += 1;
            }
        }
    }
}

/// What one server trickler saw.
struct ServerTrickle {
    first_byte: Instant,
    closed: Option<Instant>,
    received: String,
}

async fn server_trickler(n: usize, addr: SocketAddr) -> Result<ServerTrickle, String> {
    let mut tcp = connect_from(source(1, n), addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // The greeting, so the first byte lands in a served session.
    let mut greeting = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut greeting))
        .await
        .map_err(|_| "no greeting".to_owned())?
        .map_err(|e| format!("greeting: {e}"))?;
    if !greeting[..n].starts_with(b"220 ") {
        return Err(format!(
            "greeting {:?}",
            String::from_utf8_lossy(&greeting[..n])
        ));
    }
    let first_byte = Instant::now();
    let (closed, received) = trickle_until_closed(
        tcp,
        b"NOOP NOOP NOOP",
        LINE_TIMEOUT + Duration::from_secs(10),
    )
    .await;
    Ok(ServerTrickle {
        first_byte,
        closed,
        received: String::from_utf8_lossy(&received).into_owned(),
    })
}

/// Connections of one bridge trickler, each (lifetime, closed by the bridge).
async fn bridge_trickler(n: usize, addr: SocketAddr, until: Instant) -> Vec<(Duration, bool)> {
    let mut lives = Vec::new();
    while Instant::now() < until {
        let Ok(tcp) = connect_from(source(2, n), addr).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let connected = Instant::now();
        let (closed, _) = trickle_until_closed(
            tcp,
            b"GET /ws HTTP/1.1\r\nHost: bridge\r\nUpgrade: websocket\r\n",
            HEADER_TIMEOUT + Duration::from_secs(10),
        )
        .await;
        lives.push((
            closed.unwrap_or_else(Instant::now) - connected,
            closed.is_some(),
        ));
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    lives
}

/// 2,000 connect-and-close per second for 10 s into `addr` from group
/// `group`; how many connected and how many failed.
async fn churn(group: u8, addr: SocketAddr) -> (u64, u64) {
    let connected = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let per_tick = CHURN_PER_SECOND / 100;
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..CHURN_SECONDS as usize * 100 {
        tick.tick().await;
        for i in 0..per_tick {
            let (connected, failed) = (Arc::clone(&connected), Arc::clone(&failed));
            tasks.spawn(async move {
                match connect_from(source(group, round * per_tick + i), addr).await {
                    Ok(tcp) => {
                        drop(tcp);
                        connected.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    (
        connected.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    )
}

/// A 1 MiB command line: the reply the server gives it.
async fn oversized_line(n: usize, addr: SocketAddr) -> String {
    let Ok(mut tcp) = connect_from(source(5, n), addr).await else {
        return "no connection".into();
    };
    let line = [vec![b'A'; 1 << 20], b"\r\n".to_vec()].concat();
    let (mut read, mut write) = tcp.split();
    let mut replies = Vec::new();
    let reading = async {
        let mut buf = [0u8; 256];
        while replies.iter().filter(|&&b| b == b'\n').count() < 2 {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => replies.extend_from_slice(&buf[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::join!(reading, async {
            let _ = write.write_all(&line).await;
        })
    })
    .await;
    // The greeting, then the reply to the line.
    String::from_utf8_lossy(&replies)
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

/// A 128 KiB request head: the start of the bridge's response.
async fn oversized_head(n: usize, addr: SocketAddr) -> String {
    let Ok(tcp) = connect_from(source(6, n), addr).await else {
        return "no connection".into();
    };
    let (mut read, mut write) = tcp.into_split();
    let writer = tokio::spawn(async move {
        let head = b"GET /ws HTTP/1.1\r\nHost: bridge\r\nX-Big: ";
        let _ = write.write_all(head).await;
        let _ = write.write_all(&vec![b'a'; 128 << 10]).await;
        let _ = write.write_all(b"\r\n\r\n").await;
    });
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), read.read_to_end(&mut response)).await;
    writer.abort();
    String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// One timed LIST of the legitimate client.
struct Sample {
    at: Instant,
    tcp: Duration,
    ws: Duration,
}

/// The legitimate client, on a thread and runtime of its own so the
/// attackers' tasks cannot delay its clock: a TCP session and one through
/// the bridge, each LISTing every 20 ms until `until`; then a fresh
/// session of each kind. Every error is a failure.
fn probe(server: SocketAddr, bridge: SocketAddr, until: Instant) -> Result<Vec<Sample>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let url = format!("ws://{bridge}/ws");
        let (mut tcp, mut ws) = sessions(server, &url).await?;
        let mut samples = Vec::new();
        while Instant::now() < until {
            let at = Instant::now();
            tcp.list(None)
                .await
                .map_err(|e| format!("LIST over TCP: {e}"))?;
            let between = Instant::now();
            ws.list(None)
                .await
                .map_err(|e| format!("LIST through the bridge: {e}"))?;
            samples.push(Sample {
                at,
                tcp: between - at,
                ws: between.elapsed(),
            });
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (mut tcp, mut ws) = sessions(server, &url).await?;
        tcp.list(None).await.map_err(|e| e.to_string())?;
        ws.list(None).await.map_err(|e| e.to_string())?;
        Ok(samples)
    })
}

async fn sessions(
    server: SocketAddr,
    url: &str,
) -> Result<(Session<TcpTransport>, Session<WsTransport>), String> {
    let stream = TcpStream::connect(server)
        .await
        .map_err(|e| e.to_string())?;
    let tcp = Session::start(
        TcpTransport::new(stream),
        server.to_string(),
        SessionOptions::default(),
    )
    .await
    .map_err(|e| format!("TCP session: {e}"))?;
    let transport = WsTransport::connect(url, None)
        .await
        .map_err(|e| format!("WebSocket: {e}"))?;
    let ws = Session::start(transport, url.to_owned(), SessionOptions::default())
        .await
        .map_err(|e| format!("session through the bridge: {e}"))?;
    Ok((tcp, ws))
}

/// Samples both processes' RSS every 100 ms until `stop`.
fn sample_memory(pids: [u32; 2], stop: Arc<AtomicBool>) -> std::thread::JoinHandle<[u64; 2]> {
    std::thread::spawn(move || {
        let mut peak = [0u64; 2];
        while !stop.load(Ordering::Relaxed) {
            for (i, pid) in pids.iter().enumerate() {
                if let Ok(memory) = Memory::of(*pid) {
                    peak[i] = peak[i].max(memory.rss);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        peak
    })
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)]
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// Runs the calling thread at nice 10 (`renice` on its thread id): the
/// attackers' own CPU is not the server's in production, where they are
/// other machines, so here they yield it to the server, the bridge and the
/// probe. The churn's assertion checks they still keep 2,000/s.
fn lower_this_threads_priority() {
    let Ok(link) = std::fs::read_link("/proc/thread-self") else {
        return;
    };
    let Some(tid) = link.file_name().and_then(|name| name.to_str()) else {
        return;
    };
    let _ = std::process::Command::new("renice")
        .args(["-n", "10", "-p", tid])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// This process's soft limit of open files, from /proc/self/limits.
fn open_file_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .expect("no open file limit in /proc/self/limits");
    line["Max open files".len()..]
        .split_whitespace()
        .next()
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(u64::MAX)
}

/// `target/<profile>/NAME`, where `cargo build --release` puts it.
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} not found: cargo build --release -p {name} first",
        path.display()
    );
    path
}

#[test]
#[ignore = "release-build load test run on its own by scripts/test.sh (see the module comment)"]
fn hostile_clients_leave_list_latency_and_memory_bounded() {
    raise_open_file_limit();
    let limit = open_file_limit();
    // Two sets of 5,000 tricklers, the churn and probes: the test's own
    // ends, and the server's 5,000 (the children inherit this limit).
    assert!(
        limit >= 12_000,
        "open file limit {limit}: raise it to 12,000"
    );
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir(&root).unwrap();
    for n in 0..20 {
        std::fs::write(root.join(format!("file-{n:02}.txt")), vec![b'x'; n * 100]).unwrap();
    }
    let server = ChildProcess::ferry_server(&binary("ferry-server"), &root, &[]).unwrap();
    let bridge = ChildProcess::ferry_bridge(&binary("ferry-bridge"), server.addr, &[]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let before = [server.memory().unwrap().rss, bridge.memory().unwrap().rss];

    let stop_sampling = Arc::new(AtomicBool::new(false));
    let sampler = sample_memory([server.pid(), bridge.pid()], Arc::clone(&stop_sampling));
    let start = Instant::now();
    let probe = std::thread::spawn({
        let (server, bridge) = (server.addr, bridge.addr);
        move || probe(server, bridge, start + PROBE_UNTIL)
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .on_thread_start(lower_this_threads_priority)
        .enable_all()
        .build()
        .unwrap();
    let (server_addr, bridge_addr) = (server.addr, bridge.addr);
    let attack = runtime.block_on(async move {
        let mut server_tricklers = Vec::new();
        let mut bridge_tricklers = Vec::new();
        // 5,000 into each, 250 every 100 ms.
        for batch in 0..TRICKLERS / 250 {
            for n in batch * 250..(batch + 1) * 250 {
                server_tricklers.push(tokio::spawn(server_trickler(n, server_addr)));
                bridge_tricklers.push(tokio::spawn(bridge_trickler(
                    n,
                    bridge_addr,
                    start + BRIDGE_TRICKLE_UNTIL,
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep_until((start + CHURN_AT).into()).await;
        let churn_started = Instant::now();
        let (server_churn, bridge_churn) =
            tokio::join!(churn(3, server_addr), churn(4, bridge_addr));
        let churn_took = churn_started.elapsed();
        tokio::time::sleep_until((start + OVERSIZED_AT).into()).await;
        let lines: Vec<_> = (0..OVERSIZED)
            .map(|n| tokio::spawn(oversized_line(n, server_addr)))
            .collect();
        let heads: Vec<_> = (0..OVERSIZED)
            .map(|n| tokio::spawn(oversized_head(n, bridge_addr)))
            .collect();
        let mut line_replies = Vec::new();
        for line in lines {
            line_replies.push(line.await.unwrap());
        }
        let mut head_replies = Vec::new();
        for head in heads {
            head_replies.push(head.await.unwrap());
        }
        let mut server_results = Vec::new();
        for trickler in server_tricklers {
            server_results.push(trickler.await.unwrap());
        }
        let mut bridge_lives = Vec::new();
        for trickler in bridge_tricklers {
            bridge_lives.extend(trickler.await.unwrap());
        }
        Attack {
            server_results,
            bridge_lives,
            server_churn,
            bridge_churn,
            churn_took,
            line_replies,
            head_replies,
        }
    });
    let samples = probe.join().unwrap();
    stop_sampling.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let after = [server.memory().unwrap().rss, bridge.memory().unwrap().rss];
    let took = start.elapsed();

    // The report, whatever is asserted below.
    let samples = samples.unwrap_or_else(|error| panic!("the legitimate client failed: {error}"));
    let phases = [
        ("tricklers connecting", Duration::ZERO, CHURN_AT),
        (
            "churn 2,000/s each",
            CHURN_AT,
            CHURN_AT + Duration::from_secs(CHURN_SECONDS),
        ),
        ("oversized, tricklers held", OVERSIZED_AT, LINE_TIMEOUT),
        ("server tricklers cut off", LINE_TIMEOUT, PROBE_UNTIL),
    ];
    println!("\nLIST latency of the legitimate client (ms):");
    println!(
        "| phase | LISTs | TCP p50 | TCP p99 | TCP max | bridge p50 | bridge p99 | bridge max |"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut all_tcp: Vec<Duration> = samples.iter().map(|s| s.tcp).collect();
    let mut all_ws: Vec<Duration> = samples.iter().map(|s| s.ws).collect();
    let mut rows = Vec::new();
    for (name, from, to) in phases {
        let within: Vec<&Sample> = samples
            .iter()
            .filter(|s| (from..to).contains(&(s.at - start)))
            .collect();
        let mut tcp: Vec<Duration> = within.iter().map(|s| s.tcp).collect();
        let mut ws: Vec<Duration> = within.iter().map(|s| s.ws).collect();
        rows.push((
            name.to_owned(),
            within.len(),
            percentile(&mut tcp, 99.0),
            percentile(&mut ws, 99.0),
        ));
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            within.len(),
            ms(percentile(&mut tcp, 50.0)),
            ms(percentile(&mut tcp, 99.0)),
            ms(tcp.last().copied().unwrap_or_default()),
            ms(percentile(&mut ws, 50.0)),
            ms(percentile(&mut ws, 99.0)),
            ms(ws.last().copied().unwrap_or_default()),
        );
    }
    let (tcp_p99, ws_p99) = (
        percentile(&mut all_tcp, 99.0),
        percentile(&mut all_ws, 99.0),
    );
    println!(
        "| all | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
        samples.len(),
        ms(percentile(&mut all_tcp, 50.0)),
        ms(tcp_p99),
        ms(all_tcp.last().copied().unwrap_or_default()),
        ms(percentile(&mut all_ws, 50.0)),
        ms(ws_p99),
        ms(all_ws.last().copied().unwrap_or_default()),
    );

    let Attack {
        server_results,
        bridge_lives,
        server_churn,
        bridge_churn,
        churn_took,
        line_replies,
        head_replies,
    } = attack;
    let mut cut_after: Vec<Duration> = Vec::new();
    let mut server_failures = Vec::new();
    for result in &server_results {
        match result {
            Ok(t) => match t.closed {
                Some(closed) if t.received.starts_with("421 Line timeout") => {
                    cut_after.push(closed - t.first_byte)
                }
                closed => server_failures.push(format!(
                    "closed: {}, received {:?}",
                    closed.is_some(),
                    t.received
                )),
            },
            Err(error) => server_failures.push(error.clone()),
        }
    }
    let cut_min = cut_after.iter().min().copied().unwrap_or_default();
    let cut_max = cut_after.iter().max().copied().unwrap_or_default();
    println!(
        "\nserver tricklers: {} of {TRICKLERS} got 421 Line timeout, {:.1} to {:.1} s after their first byte; {} otherwise",
        cut_after.len(),
        cut_min.as_secs_f64(),
        cut_max.as_secs_f64(),
        server_failures.len()
    );
    let bridge_closed = bridge_lives.iter().filter(|(_, closed)| *closed).count();
    let longest = bridge_lives
        .iter()
        .map(|(life, _)| *life)
        .max()
        .unwrap_or_default();
    let evicted = bridge_lives
        .iter()
        .filter(|(life, closed)| *closed && *life < HEADER_TIMEOUT - Duration::from_millis(500))
        .count();
    println!(
        "bridge tricklers: {} connections from {TRICKLERS} tricklers, {bridge_closed} closed by the bridge ({evicted} before the header timeout, evicted), the longest open {:.1} s",
        bridge_lives.len(),
        longest.as_secs_f64()
    );
    println!(
        "churn: server {} connected, {} failed; bridge {} connected, {} failed; in {:.1} s",
        server_churn.0,
        server_churn.1,
        bridge_churn.0,
        bridge_churn.1,
        churn_took.as_secs_f64()
    );
    let line_500 = line_replies
        .iter()
        .filter(|r| r.starts_with("500 Line too long"))
        .count();
    let head_431 = head_replies
        .iter()
        .filter(|r| r.starts_with("HTTP/1.1 431"))
        .count();
    println!("oversized: {line_500} of {OVERSIZED} lines got 500 Line too long, {head_431} of {OVERSIZED} heads got 431");
    let held = (TRICKLERS + OVERSIZED + CHURN_PER_SECOND) as u64;
    let server_bound = before[0] + held * SERVER_PER_CONNECTION + SLACK;
    let bridge_bound = before[1] + MAX_PENDING * BRIDGE_PER_PENDING + SLACK;
    println!(
        "RSS: server {} before, peak {}, {} after (bound {}); bridge {} before, peak {}, {} after (bound {}); {:.1} s in all",
        mib(before[0]),
        mib(peak[0]),
        mib(after[0]),
        mib(server_bound),
        mib(before[1]),
        mib(peak[1]),
        mib(after[1]),
        mib(bridge_bound),
        took.as_secs_f64()
    );

    for (name, count, tcp, ws) in &rows {
        assert!(*count > 0, "no LIST during {name}");
        assert!(
            *tcp <= LIST_P99_BOUND && *ws <= LIST_P99_BOUND,
            "LIST p99 during {name}: TCP {tcp:?}, bridge {ws:?}"
        );
    }
    assert!(
        server_failures.is_empty(),
        "{} server tricklers: {:?}",
        server_failures.len(),
        &server_failures[..server_failures.len().min(5)]
    );
    assert!(
        cut_min >= LINE_TIMEOUT - Duration::from_millis(500)
            && cut_max <= LINE_TIMEOUT + Duration::from_secs(5),
        "server tricklers cut off {cut_min:?} to {cut_max:?} after their first byte"
    );
    assert_eq!(
        bridge_closed,
        bridge_lives.len(),
        "a bridge trickler was never closed"
    );
    assert!(
        longest <= HEADER_TIMEOUT + Duration::from_secs(3),
        "a bridge trickler stayed {longest:?}"
    );
    assert!(
        bridge_lives.len() >= TRICKLERS,
        "bridge tricklers did not connect"
    );
    let churned = (CHURN_PER_SECOND as u64) * CHURN_SECONDS;
    assert!(
        server_churn.0 + server_churn.1 == churned && bridge_churn.0 + bridge_churn.1 == churned,
        "churn attempts: {server_churn:?} {bridge_churn:?}"
    );
    assert!(
        churn_took <= Duration::from_secs(CHURN_SECONDS + 5),
        "the churn took {churn_took:?}: the generator could not keep 2,000/s"
    );
    assert_eq!(line_500, OVERSIZED, "{:?}", &line_replies[..5]);
    assert_eq!(head_431, OVERSIZED, "{:?}", &head_replies[..5]);
    assert!(
        peak[0] <= server_bound,
        "server RSS {} over {}",
        mib(peak[0]),
        mib(server_bound)
    );
    assert!(
        peak[1] <= bridge_bound,
        "bridge RSS {} over {}",
        mib(peak[1]),
        mib(bridge_bound)
    );
}

struct Attack {
    server_results: Vec<Result<ServerTrickle, String>>,
    bridge_lives: Vec<(Duration, bool)>,
    server_churn: (u64, u64),
    bridge_churn: (u64, u64),
    churn_took: Duration,
    line_replies: Vec<String>,
    head_replies: Vec<String>,
}
