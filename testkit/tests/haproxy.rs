//! The HAProxy fixture in front of two tiny TCP echo servers: connections
//! alternate between them, HAProxy says which one took each, and when one
//! dies its traffic goes to the other, at once and for as long as it is
//! down, then back to both once it is up again.

use ferry_testkit::{
    BackendState, Haproxy, HaproxyOptions, ProxyOptions, ServerOptions, TestServer, STEP_TIMEOUT,
};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Answers each line with "<name> <line>" until stopped; stopped, it
/// neither listens nor keeps a connection open.
struct Echo {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepting: Option<JoinHandle<()>>,
}

impl Echo {
    fn start(name: &'static str, addr: SocketAddr) -> Echo {
        let listener = TcpListener::bind(addr).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let accepting = std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        let stopped = Arc::clone(&stopped);
                        std::thread::spawn(move || echo(name, tcp, &stopped));
                    }
                    Err(error) if error.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(error) => panic!("accept: {error}"),
                }
            }
        });
        Echo {
            addr,
            stop,
            accepting: Some(accepting),
        }
    }

    /// Stops listening (the port refuses from now on) and drops every
    /// connection within a read timeout.
    fn kill(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accepting) = self.accepting.take() {
            accepting.join().unwrap();
        }
    }
}

fn echo(name: &str, tcp: TcpStream, stopped: &AtomicBool) {
    tcp.set_nonblocking(false).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut writer = tcp.try_clone().unwrap();
    let mut reader = BufReader::new(tcp);
    let mut line = String::new();
    while !stopped.load(Ordering::SeqCst) {
        match reader.read_line(&mut line) {
            // HAProxy's health checks connect and close at once.
            Ok(0) => return,
            Ok(_) => {
                if writer
                    .write_all(format!("{name} {line}").as_bytes())
                    .is_err()
                {
                    return;
                }
                line.clear();
            }
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// One connection through HAProxy: the echo's name in its answer, and the
/// back-end HAProxy says it chose.
fn round_trip(haproxy: &Haproxy) -> (String, usize) {
    let tcp = TcpStream::connect(haproxy.addr).unwrap();
    tcp.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    let client = tcp.local_addr().unwrap();
    (&tcp).write_all(b"ping\n").unwrap();
    let mut answer = String::new();
    BufReader::new(&tcp).read_line(&mut answer).unwrap();
    let name = answer
        .strip_suffix(" ping\n")
        .unwrap_or_else(|| panic!("not an echo: {answer:?}"))
        .to_owned();
    (name, haproxy.backend_of(client))
}

/// The echo behind each index.
const NAMES: [&str; 2] = ["zero", "one"];

#[test]
fn connections_alternate_over_both_and_follow_the_one_left_when_the_other_dies() {
    let zero = Echo::start(NAMES[0], "127.0.0.1:0".parse().unwrap());
    let mut one = Echo::start(NAMES[1], "127.0.0.1:0".parse().unwrap());
    let haproxy = Haproxy::start(&[zero.addr, one.addr]);
    assert_eq!(haproxy.backends, vec![zero.addr, one.addr]);
    haproxy.wait_for(0, BackendState::Up);
    haproxy.wait_for(1, BackendState::Up);

    let mut taken = [0; 2];
    for _ in 0..10 {
        let (name, backend) = round_trip(&haproxy);
        assert_eq!(
            name, NAMES[backend],
            "HAProxy's log names the echo that answered"
        );
        taken[backend] += 1;
    }
    assert_eq!(taken, [5, 5], "round robin");

    // Killed: the next connections go to the other one, even before the
    // health check has seen it gone (a refused connect is redispatched).
    one.kill();
    for _ in 0..4 {
        assert_eq!(round_trip(&haproxy), (NAMES[0].to_owned(), 0));
    }
    haproxy.wait_for(1, BackendState::Down);
    for _ in 0..4 {
        assert_eq!(round_trip(&haproxy), (NAMES[0].to_owned(), 0));
    }

    // Back on its port: checked up again, it takes its turn again.
    let _one = Echo::start(NAMES[1], one.addr);
    haproxy.wait_for(1, BackendState::Up);
    let mut taken = [0; 2];
    for _ in 0..4 {
        taken[round_trip(&haproxy).1] += 1;
    }
    assert_eq!(taken, [2, 2]);
    assert!(haproxy.pid() > 0);
}

#[test]
fn a_connection_open_on_a_killed_backend_ends() {
    let mut only = Echo::start(NAMES[0], "127.0.0.1:0".parse().unwrap());
    let haproxy = Haproxy::start(&[only.addr]);
    let tcp = TcpStream::connect(haproxy.addr).unwrap();
    tcp.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    (&tcp).write_all(b"ping\n").unwrap();
    let mut reader = BufReader::new(&tcp);
    let mut answer = String::new();
    reader.read_line(&mut answer).unwrap();
    assert_eq!(answer, "zero ping\n");
    only.kill();
    answer.clear();
    // HAProxy passes the back-end's close on: end of stream, not a hang.
    assert_eq!(reader.read_line(&mut answer).unwrap(), 0);
}

/// The command and source address of the PROXY v2 header starting `tcp`
/// (`None` for a connection closed before one).
fn proxy_v2_header(tcp: &mut TcpStream) -> Option<(u8, SocketAddr)> {
    use std::io::Read;
    let mut fixed = [0u8; 16];
    tcp.read_exact(&mut fixed).ok()?;
    assert_eq!(&fixed[..12], b"\r\n\r\n\0\r\nQUIT\n", "the v2 signature");
    let mut rest = vec![0u8; u16::from_be_bytes([fixed[14], fixed[15]]) as usize];
    tcp.read_exact(&mut rest).ok()?;
    if fixed[13] != 0x11 {
        // Not TCP over IPv4: a health check's LOCAL header, say.
        return Some((fixed[12], "0.0.0.0:0".parse().unwrap()));
    }
    let ip = std::net::Ipv4Addr::new(rest[0], rest[1], rest[2], rest[3]);
    Some((
        fixed[12],
        SocketAddr::from((ip, u16::from_be_bytes([rest[8], rest[9]]))),
    ))
}

#[test]
fn with_send_proxy_v2_each_connection_names_its_client() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let options = HaproxyOptions {
        send_proxy_v2: true,
    };
    let haproxy = Haproxy::start_with(&[listener.local_addr().unwrap()], options);
    let client = TcpStream::connect(haproxy.addr).unwrap();
    let client_addr = client.local_addr().unwrap();
    // Health checks connect too: the client's is the one whose header names it.
    let deadline = std::time::Instant::now() + STEP_TIMEOUT;
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no PROXY header naming {client_addr}"
        );
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
        if let Some((command, source)) = proxy_v2_header(&mut tcp) {
            if source == client_addr {
                assert_eq!(command, 0x21, "version 2, PROXY");
                break;
            }
        }
    }
}

#[test]
fn two_ferry_servers_behind_haproxy_greet_through_their_proxy_listeners() {
    let options = || ServerOptions {
        proxy: Some(ProxyOptions::default()),
        ..ServerOptions::default()
    };
    let servers = [
        TestServer::start_on_thread_with(options()),
        TestServer::start_on_thread_with(options()),
    ];
    let listeners: Vec<SocketAddr> = servers
        .iter()
        .map(|server| server.proxy_addr.expect("a proxy listener"))
        .collect();
    let haproxy = Haproxy::start_with(
        &listeners,
        HaproxyOptions {
            send_proxy_v2: true,
        },
    );
    let mut taken = [0; 2];
    for _ in 0..4 {
        let mut tcp = TcpStream::connect(haproxy.addr).unwrap();
        tcp.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
        let mut greeting = [0u8; 4];
        std::io::Read::read_exact(&mut tcp, &mut greeting).unwrap();
        assert_eq!(
            &greeting, b"220 ",
            "a greeting, so the PROXY header was taken"
        );
        taken[haproxy.backend_of(tcp.local_addr().unwrap())] += 1;
    }
    assert_eq!(taken, [2, 2]);
}
