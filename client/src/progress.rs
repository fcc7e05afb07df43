//! Progress bars for transfers (indicatif), drawn on standard error only
//! when it is a terminal.

use ferry_client::TransferProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Longest label shown before the bar, in characters.
const LABEL_CHARS: usize = 30;

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// A progress bar for one transfer; it disappears when dropped.
pub struct TransferBar {
    bar: ProgressBar,
}

impl TransferBar {
    /// A bar labelled `label`; hidden when `enabled` is false or standard
    /// error is not a terminal (so scripts and pipes get no escape codes).
    pub fn new(label: &str, enabled: bool) -> TransferBar {
        let target = if enabled && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        let style = ProgressStyle::with_template(
            "{msg:.bold} [{bar:30.cyan/blue}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(shorten(label, LABEL_CHARS));
        TransferBar { bar }
    }
}

impl TransferProgress for TransferBar {
    fn start(&mut self, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(0);
    }

    fn advance(&mut self, bytes: u64) {
        self.bar.inc(bytes);
    }
}

impl Drop for TransferBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_are_shortened() {
        assert_eq!(shorten("short", 30), "short");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("名前名前名前", 3), "名前…");
    }
}
