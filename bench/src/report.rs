//! Printing results as Markdown tables.

use std::time::Duration;

/// One timed bulk transfer.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// What was measured.
    pub label: String,
    /// Bytes moved.
    pub bytes: u64,
    /// Wall-clock time from request to completion.
    pub elapsed: Duration,
}

impl Throughput {
    /// MiB per second.
    pub fn mib_per_sec(&self) -> f64 {
        self.bytes as f64 / (1024.0 * 1024.0) / self.elapsed.as_secs_f64()
    }
}

/// Prints `rows` as a table, each with its ratio to `reference`.
pub fn print_throughput(title: &str, reference: &Throughput, rows: &[Throughput]) {
    println!("\n### {title}\n");
    println!(
        "| path | bytes | seconds | MiB/s | ratio to {} |",
        reference.label
    );
    println!("|---|---:|---:|---:|---:|");
    for row in std::iter::once(reference).chain(rows) {
        println!(
            "| {} | {} | {:.2} | {:.0} | {:.2} |",
            row.label,
            row.bytes,
            row.elapsed.as_secs_f64(),
            row.mib_per_sec(),
            row.mib_per_sec() / reference.mib_per_sec()
        );
    }
}

/// Formats a byte count in MiB.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The `p`-th percentile (0-100) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
