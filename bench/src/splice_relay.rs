//! A bare relay for plain TCP that moves bytes socket → pipe → socket with
//! splice(2): no WebSocket, no framing, no async runtime, one blocking
//! thread per direction.
//!
//! It is the floor of any user-space relay on the machine: whatever it
//! loses against direct TCP is the cost of a second loopback connection
//! (the kernel's TCP work for it, on the same cores), not of a relay's
//! code. The bridge scenario runs it as a child process
//! (`ferry-bench splice-relay`) next to ferry-bridge, so the bridge's
//! figure can be read against it.

use anyhow::{Context, Result};
use std::net::{SocketAddr, TcpListener, TcpStream};

/// Largest pipe asked for, like ferry-bridge's default.
#[cfg(target_os = "linux")]
const PIPE_SIZE: usize = 1 << 20;

/// Accepts connections on `listen` forever, relaying each to `upstream`.
pub fn run(listen: SocketAddr, upstream: SocketAddr) -> Result<()> {
    let listener = TcpListener::bind(listen).with_context(|| format!("bind {listen}"))?;
    serve(&listener, upstream);
    Ok(())
}

/// Accepts connections on `listener` forever, relaying each to `upstream`.
pub fn serve(listener: &TcpListener, upstream: SocketAddr) {
    for accepted in listener.incoming() {
        // A failed accept or connect ends only that connection.
        let Ok(client) = accepted else { continue };
        let Ok(server) = TcpStream::connect(upstream) else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (Ok(client_rx), Ok(server_rx)) = (client.try_clone(), server.try_clone()) else {
            continue;
        };
        std::thread::spawn(move || pump(client_rx, server));
        std::thread::spawn(move || pump(server_rx, client));
    }
}

/// Moves bytes from `from` to `to` until end of file or an error, then
/// half-closes `to`.
#[cfg(target_os = "linux")]
fn pump(from: TcpStream, to: TcpStream) {
    use rustix::pipe::{fcntl_setpipe_size, pipe, splice, SpliceFlags};
    let Ok((pipe_out, pipe_in)) = pipe() else {
        return;
    };
    let _ = fcntl_setpipe_size(&pipe_in, PIPE_SIZE);
    'relay: loop {
        let moved = match splice(&from, None, &pipe_in, None, PIPE_SIZE, SpliceFlags::MOVE) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut left = moved;
        while left > 0 {
            match splice(&pipe_out, None, &to, None, left, SpliceFlags::MOVE) {
                Ok(0) | Err(_) => break 'relay,
                Ok(n) => left -= n,
            }
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// Without splice(2), a read/write loop (the scenario leaves this relay out
/// on such systems; this keeps the subcommand usable).
#[cfg(not(target_os = "linux"))]
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn relays_both_ways_byte_exact_and_passes_end_of_file_on() {
        let pattern: Vec<u8> = (0..3 * 1024 * 1024 + 17)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let server_addr = server.local_addr().unwrap();
        let sent = pattern.clone();
        let server_side = std::thread::spawn(move || {
            let (mut conn, _) = server.accept().unwrap();
            let mut request = [0; 5];
            conn.read_exact(&mut request).unwrap();
            conn.write_all(&sent).unwrap();
            request
        });
        let relay = TcpListener::bind("127.0.0.1:0").unwrap();
        let relay_addr = relay.local_addr().unwrap();
        // Serves until the test process ends.
        std::thread::spawn(move || serve(&relay, server_addr));

        let mut client = TcpStream::connect(relay_addr).unwrap();
        client.write_all(b"hello").unwrap();
        let mut received = Vec::new();
        // Ends only if the server's close reached the client through the relay.
        client.read_to_end(&mut received).unwrap();
        assert_eq!(&server_side.join().unwrap(), b"hello");
        assert_eq!(received.len(), pattern.len());
        assert!(received == pattern, "bytes changed on the way");
    }
}
