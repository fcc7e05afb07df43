//! The command line of `ferry-bench`: one subcommand per scenario.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Ferry benchmarks: every figure is measured next to its reference in the same run.
#[derive(Parser)]
#[command(version)]
pub struct Cli {
    /// Where test data and server roots go (default: a fresh temp dir).
    #[arg(long, global = true)]
    pub work_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub scenario: Scenario,
}

/// The scenarios.
#[derive(Subcommand)]
pub enum Scenario {
    /// RETRIEVE and STORE over direct TCP vs a plain TCP copy; server peak RSS.
    Direct {
        /// File size in MiB.
        #[arg(long, default_value_t = 1024)]
        size_mib: u64,
        /// Rounds per path (best is reported).
        #[arg(long, default_value_t = 2)]
        rounds: usize,
    },
    /// LIST latency p50/p99 with many clients connected at once.
    List {
        /// Concurrent connected clients.
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        /// LISTs per client.
        #[arg(long, default_value_t = 20)]
        requests: usize,
    },
    /// LIST of one directory with many files vs `ls -l` of it; server peak RSS.
    BigListing {
        /// Files in the directory.
        #[arg(long, default_value_t = 100_000)]
        files: usize,
        /// Rounds (best and median are reported).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// RETRIEVE/STORE through ferry-bridge and websockify vs direct TCP; bridge RSS with idle relays.
    Bridge {
        /// File size in MiB.
        #[arg(long, default_value_t = 1024)]
        size_mib: u64,
        /// Rounds per path (best and median are reported).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Idle relays held open for the memory figure.
        #[arg(long, default_value_t = 1000)]
        idle_relays: usize,
    },
    /// Logins (Argon2id password verifications) per second on one core,
    /// next to one SHA-256 and a minimal Argon2id.
    Logins {
        /// Seconds spent on each figure, over all rounds.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Rounds, alternating between the figures (best and median are reported).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// RESUME of an upload cut off at --cut-percent next to a full STORE of
    /// the same size: the bytes sent and the time of each.
    Resume {
        /// File size in MiB.
        #[arg(long, default_value_t = 1024)]
        size_mib: u64,
        /// Where the first upload is cut off, in percent of the size.
        #[arg(long, default_value_t = 90)]
        cut_percent: u64,
    },
    /// Whole sessions per second with many clients at once: connect + USER +
    /// PASS + LIST + QUIT against a server with accounts, next to connect +
    /// LIST + QUIT against one without; the server's CPU of each.
    Sessions {
        /// Clients looping at the same time.
        #[arg(long, default_value_t = 100)]
        clients: usize,
        /// Seconds of each round.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Rounds per server, alternating between them.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Many clients over TCP and through ferry-bridge doing mixed commands,
    /// checked byte for byte, with transfers killed part way, a graceful
    /// server restart and a SIGKILL; fails on any mismatch, leftover or growth.
    Soak {
        /// Length of the run in seconds.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Clients at once (half over TCP, half through the bridge).
        #[arg(long, default_value_t = 1000)]
        clients: usize,
    },
    /// A download with curl from the FTP door, with `ferry get` and with
    /// curl from vsftpd serving the same directory; LIST of a large
    /// directory with lftp against the door and vsftpd.
    Ftp {
        /// File size in MiB.
        #[arg(long, default_value_t = 1024)]
        size_mib: u64,
        /// Files in the listed directory.
        #[arg(long, default_value_t = 10_000)]
        files: usize,
        /// Rounds per path, alternating (best and median are reported).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// ferry-server on a Swift all-in-one (scripts/swift.sh) vs on the
    /// local file system: a large STORE and RETRIEVE, LIST of many files,
    /// and many clients' RETRIEVE throughput on one store server vs two.
    Store {
        /// Size of the large file in MiB.
        #[arg(long, default_value_t = 1024)]
        size_mib: u64,
        /// Files in the listed directory.
        #[arg(long, default_value_t = 10_000)]
        files: usize,
        /// LIST rounds on each side.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Clients of the throughput figure.
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// Seconds each throughput figure runs.
        #[arg(long, default_value_t = 15)]
        seconds: u64,
    },
    /// Every scenario with its defaults.
    All,
    /// The bare splice(2) relay the bridge scenario starts as a reference
    /// (runs until killed).
    #[command(hide = true)]
    SpliceRelay {
        /// Address to listen on.
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// Server to relay to.
        #[arg(long)]
        upstream: std::net::SocketAddr,
    },
}
