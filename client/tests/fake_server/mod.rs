//! Scripted fake servers for one connection, for what a real server never
//! does: dying mid-transfer, wrong hashes, answers the client must not act on.

#![allow(dead_code)]

use ferry_testkit::STEP_TIMEOUT;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What a fake server does after a command line.
pub enum Then {
    /// Sends these bytes and waits for the next command.
    Answer(Vec<u8>),
    /// Sends these bytes and closes the connection.
    AnswerAndClose(Vec<u8>),
}

/// A fake server for one connection: greets, then answers each command line
/// as `answer` says.
pub fn fake_server(answer: impl Fn(&str) -> Then + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
        stream.write_all(b"220 fake server\r\n").unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let command = line.trim_end().to_owned();
            line.clear();
            let (bytes, close) = match answer(&command) {
                Then::Answer(bytes) => (bytes, false),
                Then::AnswerAndClose(bytes) => (bytes, true),
            };
            if stream.write_all(&bytes).is_err() || close {
                break;
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
        drop::<TcpStream>(stream);
    });
    addr
}

/// A fake server that records every line it receives.
pub fn recording_server(
    answer: impl Fn(&str) -> Then + Send + 'static,
) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = fake_server(move |line| {
        log.lock().unwrap().push(line.to_owned());
        answer(line)
    });
    (addr, seen)
}
