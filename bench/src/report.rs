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

/// Every round of one path: on a noisy machine the best round shows what
/// the path can do, the median what it usually does.
#[derive(Debug, Clone)]
pub struct Rounds {
    /// The rounds, in the order run.
    pub rounds: Vec<Throughput>,
}

impl Rounds {
    /// No rounds yet.
    pub fn new() -> Rounds {
        Rounds { rounds: Vec::new() }
    }

    /// Adds one round.
    pub fn push(&mut self, round: Throughput) {
        self.rounds.push(round);
    }

    /// What was measured (the first round's label).
    pub fn label(&self) -> &str {
        self.rounds.first().map_or("", |r| r.label.as_str())
    }

    /// The fastest round's MiB/s (0 without rounds).
    pub fn best(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(0.0)
    }

    /// The median round's MiB/s (the mean of the middle two for an even
    /// count; 0 without rounds).
    pub fn median(&self) -> f64 {
        let sorted = self.sorted();
        match sorted.len() {
            0 => 0.0,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }

    fn sorted(&self) -> Vec<f64> {
        let mut speeds: Vec<f64> = self.rounds.iter().map(Throughput::mib_per_sec).collect();
        speeds.sort_by(f64::total_cmp);
        speeds
    }
}

impl Default for Rounds {
    fn default() -> Rounds {
        Rounds::new()
    }
}

/// Prints `rows` as a table of best and median rounds, each with its ratio
/// to the same statistic of `reference`.
pub fn print_rounds(title: &str, reference: &Rounds, rows: &[&Rounds]) {
    println!("\n### {title}\n");
    println!("| path | rounds | best MiB/s | best ratio | median MiB/s | median ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in std::iter::once(reference).chain(rows.iter().copied()) {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.0} | {:.2} |",
            row.label(),
            row.rounds.len(),
            row.best(),
            row.best() / reference.best(),
            row.median(),
            row.median() / reference.median()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn round(mib: u64, millis: u64) -> Throughput {
        Throughput {
            label: "path".into(),
            bytes: mib * 1024 * 1024,
            elapsed: Duration::from_millis(millis),
        }
    }

    #[test]
    fn best_and_median_of_rounds() {
        let mut rounds = Rounds::new();
        assert_eq!((rounds.best(), rounds.median()), (0.0, 0.0));
        // 1000, 500 and 2000 MiB/s.
        for millis in [1000, 2000, 500] {
            rounds.push(round(1000, millis));
        }
        assert_eq!(rounds.best(), 2000.0);
        assert_eq!(rounds.median(), 1000.0);
        rounds.push(round(1500, 1000));
        assert_eq!(rounds.median(), 1250.0);
        assert_eq!(rounds.label(), "path");
    }
}
