//! What the soak's clients and its sampler share: the clock, the stop flag,
//! the server's outages (so that a lost connection can be told apart from
//! one the harness caused), the counters, the small-operation latencies per
//! 10 s window, the problems found, and the processes' memory and
//! descriptors second by second.

use crate::report::percentile;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Width of a latency window.
pub const WINDOW: Duration = Duration::from_secs(10);

/// How long after a restart a lost connection still counts as the outage's.
const OUTAGE_TAIL: Duration = Duration::from_secs(10);

/// Problems of one kind shown in full; more are only counted.
const SHOWN_PROBLEMS: usize = 10;

/// The operations, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Stat,
    Hash,
    Read,
    Store,
    StoreCut,
    Retrieve,
    RetrieveCut,
    Resume,
    Rename,
    Delete,
    MkdirRmdir,
    Noop,
}

impl Op {
    pub const ALL: [Op; 13] = [
        Op::List,
        Op::Stat,
        Op::Hash,
        Op::Read,
        Op::Store,
        Op::StoreCut,
        Op::Retrieve,
        Op::RetrieveCut,
        Op::Resume,
        Op::Rename,
        Op::Delete,
        Op::MkdirRmdir,
        Op::Noop,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Op::List => "LIST",
            Op::Stat => "STAT",
            Op::Hash => "HASH",
            Op::Read => "READ (≤ 4 KiB)",
            Op::Store => "STORE",
            Op::StoreCut => "STORE killed mid-transfer",
            Op::Retrieve => "RETRIEVE",
            Op::RetrieveCut => "RETRIEVE killed mid-transfer",
            Op::Resume => "RESUME of a cut upload",
            Op::Rename => "RENAME",
            Op::Delete => "DELETE",
            Op::MkdirRmdir => "MKDIR + RMDIR",
            Op::Noop => "NOOP",
        }
    }

    /// The operations whose latency is the small-operation figure: every
    /// one that moves no more than a few KiB.
    pub fn is_small(self) -> bool {
        !matches!(
            self,
            Op::Store | Op::StoreCut | Op::Retrieve | Op::RetrieveCut | Op::Resume
        )
    }

    fn index(self) -> usize {
        Op::ALL.iter().position(|op| *op == self).unwrap_or(0)
    }
}

/// A problem that fails the run.
#[derive(Debug, Clone, Copy)]
pub enum Problem {
    /// Bytes, a hash, a size or a listing differ from what the client wrote.
    Mismatch,
    /// A refusal (or other failure) where the contract promises success.
    Unexpected,
    /// A connection lost with no kill and no restart to explain it.
    UnexplainedLoss,
    /// A client that could not connect again within the limit.
    NoReconnect,
}

#[derive(Default)]
struct Found {
    count: u64,
    shown: Vec<String>,
}

impl Found {
    fn add(&mut self, text: String) {
        self.count += 1;
        if self.shown.len() < SHOWN_PROBLEMS {
            self.shown.push(text);
        }
    }
}

#[derive(Default)]
struct Problems {
    mismatch: Found,
    unexpected: Found,
    unexplained: Found,
    no_reconnect: Found,
}

/// One latency window.
#[derive(Debug, Default, Clone)]
pub struct Window {
    /// Operations finished in it.
    pub ops: u64,
    /// Latencies of the small operations finished in it.
    pub small: Vec<Duration>,
    /// Connections lost in it (outages and kills included).
    pub losses: u64,
}

impl Window {
    /// p50, p99 and the maximum of the small operations.
    pub fn small_figures(&self) -> (Duration, Duration, Duration) {
        let mut sorted = self.small.clone();
        sorted.sort();
        (
            percentile(&sorted, 50.0),
            percentile(&sorted, 99.0),
            sorted.last().copied().unwrap_or_default(),
        )
    }
}

/// A stretch when the server was stopping, down or starting again.
#[derive(Debug, Clone)]
pub struct Outage {
    /// What happened ("graceful restart (SIGTERM)", "SIGKILL and restart").
    pub what: &'static str,
    /// When the signal was sent, from the start of the run.
    pub from: Duration,
    /// When the new server listened.
    pub until: Option<Duration>,
}

/// Resident memory and open descriptors of one process at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub rss: u64,
    pub fds: u64,
}

impl Usage {
    /// Reads process `pid`'s figures from `/proc`.
    pub fn of(pid: u32) -> Option<Usage> {
        let rss = ferry_testkit::Memory::of(pid).ok()?.rss;
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
        Some(Usage { rss, fds })
    }
}

/// One second's sample of both processes (the server's is missing while it
/// is down).
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Duration,
    pub server: Option<Usage>,
    pub bridge: Option<Usage>,
}

/// Everything the tasks of a run share.
pub struct Shared {
    started: Instant,
    stopping: AtomicBool,
    counts: [AtomicU64; Op::ALL.len()],
    /// Bytes of file content sent by STORE and RESUME.
    pub bytes_up: AtomicU64,
    /// Bytes of file content received by RETRIEVE and READ.
    pub bytes_down: AtomicU64,
    /// RESUMEs that found bytes kept.
    pub resumes_with_kept: AtomicU64,
    /// Bytes RESUMEs did not have to send.
    pub kept_bytes: AtomicU64,
    /// RESUMEs answered 450 (the cut connection not yet gone), retried.
    pub busy_retries: AtomicU64,
    /// Connections opened again after a loss or a kill.
    pub reconnects: AtomicU64,
    longest_reconnect: Mutex<Duration>,
    windows: Mutex<Vec<Window>>,
    outages: Mutex<Vec<Outage>>,
    problems: Mutex<Problems>,
    samples: Mutex<Vec<Sample>>,
}

impl Shared {
    pub fn new() -> Shared {
        Shared {
            started: Instant::now(),
            stopping: AtomicBool::new(false),
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            bytes_up: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
            resumes_with_kept: AtomicU64::new(0),
            kept_bytes: AtomicU64::new(0),
            busy_retries: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            longest_reconnect: Mutex::new(Duration::ZERO),
            windows: Mutex::new(Vec::new()),
            outages: Mutex::new(Vec::new()),
            problems: Mutex::new(Problems::default()),
            samples: Mutex::new(Vec::new()),
        }
    }

    /// Time since the run started.
    pub fn now(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    fn window<R>(&self, at: Duration, change: impl FnOnce(&mut Window) -> R) -> R {
        let index = (at.as_secs_f64() / WINDOW.as_secs_f64()) as usize;
        let mut windows = lock(&self.windows);
        if windows.len() <= index {
            windows.resize(index + 1, Window::default());
        }
        change(&mut windows[index])
    }

    /// An operation finished (successfully) after `took`.
    pub fn done(&self, op: Op, took: Duration) {
        self.counts[op.index()].fetch_add(1, Ordering::Relaxed);
        self.window(self.now(), |window| {
            window.ops += 1;
            if op.is_small() {
                window.small.push(took);
            }
        });
    }

    pub fn count(&self, op: Op) -> u64 {
        self.counts[op.index()].load(Ordering::Relaxed)
    }

    /// A connection was lost under a command the harness did not cut: fine
    /// during an outage (and a while after it), a problem otherwise.
    pub fn lost(&self, client: usize, what: String) {
        let at = self.now();
        self.window(at, |window| window.losses += 1);
        let explained = lock(&self.outages).iter().any(|outage| {
            at + Duration::from_millis(500) >= outage.from
                && outage.until.is_none_or(|until| at <= until + OUTAGE_TAIL)
        });
        if !explained {
            self.problem(
                Problem::UnexplainedLoss,
                format!("client {client} at {:.1} s: {what}", at.as_secs_f64()),
            );
        }
    }

    /// A connection the harness cut (a kill mid-transfer).
    pub fn cut(&self) {
        let at = self.now();
        self.window(at, |window| window.losses += 1);
    }

    pub fn reconnected(&self, took: Duration) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
        let mut longest = lock(&self.longest_reconnect);
        *longest = (*longest).max(took);
    }

    pub fn longest_reconnect(&self) -> Duration {
        *lock(&self.longest_reconnect)
    }

    pub fn problem(&self, kind: Problem, text: String) {
        let mut problems = lock(&self.problems);
        match kind {
            Problem::Mismatch => problems.mismatch.add(text),
            Problem::Unexpected => problems.unexpected.add(text),
            Problem::UnexplainedLoss => problems.unexplained.add(text),
            Problem::NoReconnect => problems.no_reconnect.add(text),
        }
    }

    /// Count and first few of each kind of problem, as failure reasons.
    pub fn failures(&self) -> Vec<String> {
        let problems = lock(&self.problems);
        let mut reasons = Vec::new();
        for (label, found) in [
            ("integrity mismatches", &problems.mismatch),
            ("unexpected replies", &problems.unexpected),
            (
                "connections lost outside kills and restarts",
                &problems.unexplained,
            ),
            ("clients that could not reconnect", &problems.no_reconnect),
        ] {
            if found.count > 0 {
                reasons.push(format!(
                    "{} {label}: {}",
                    found.count,
                    found.shown.join("; ")
                ));
            }
        }
        reasons
    }

    pub fn mismatches(&self) -> u64 {
        lock(&self.problems).mismatch.count
    }

    pub fn outage_begins(&self, what: &'static str) {
        let from = self.now();
        lock(&self.outages).push(Outage {
            what,
            from,
            until: None,
        });
    }

    pub fn outage_ends(&self) {
        let until = self.now();
        if let Some(outage) = lock(&self.outages).last_mut() {
            outage.until = Some(until);
        }
    }

    pub fn outages(&self) -> Vec<Outage> {
        lock(&self.outages).clone()
    }

    pub fn windows(&self) -> Vec<Window> {
        lock(&self.windows).clone()
    }

    pub fn sample(&self, sample: Sample) {
        lock(&self.samples).push(sample);
    }

    pub fn samples(&self) -> Vec<Sample> {
        lock(&self.samples).clone()
    }
}

impl Default for Shared {
    fn default() -> Shared {
        Shared::new()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The mean RSS and descriptors of the samples taken in `[from, to)`, for
/// the process `pick` selects; `None` without samples there.
pub fn mean_usage(
    samples: &[Sample],
    from: Duration,
    to: Duration,
    pick: impl Fn(&Sample) -> Option<Usage>,
) -> Option<(f64, f64)> {
    let picked: Vec<Usage> = samples
        .iter()
        .filter(|sample| sample.at >= from && sample.at < to)
        .filter_map(pick)
        .collect();
    if picked.is_empty() {
        return None;
    }
    let n = picked.len() as f64;
    Some((
        picked.iter().map(|u| u.rss as f64).sum::<f64>() / n,
        picked.iter().map(|u| u.fds as f64).sum::<f64>() / n,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_count_as_an_outage_only_inside_it_and_its_tail() {
        let shared = Shared::new();
        shared.lost(1, "before any outage".into());
        assert_eq!(lock(&shared.problems).unexplained.count, 1);
        shared.outage_begins("restart");
        shared.lost(2, "during".into());
        shared.outage_ends();
        shared.lost(3, "right after".into());
        assert_eq!(lock(&shared.problems).unexplained.count, 1);
        assert_eq!(shared.failures().len(), 1);
        assert!(shared.failures()[0].contains("client 1"));
    }

    #[test]
    fn mean_usage_takes_only_the_window_and_the_process_picked() {
        let at = |s: u64, rss: u64| Sample {
            at: Duration::from_secs(s),
            server: (s != 2).then_some(Usage { rss, fds: 10 }),
            bridge: None,
        };
        let samples = [at(0, 100), at(1, 200), at(2, 0), at(3, 400)];
        let window = mean_usage(
            &samples,
            Duration::from_secs(1),
            Duration::from_secs(4),
            |s| s.server,
        );
        assert_eq!(window, Some((300.0, 10.0)));
        assert_eq!(
            mean_usage(&samples, Duration::ZERO, Duration::from_secs(9), |s| s
                .bridge),
            None
        );
    }
}
