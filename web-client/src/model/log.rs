//! The console's lines: what was sent, what came back, and the client's own
//! notes, kept to a bounded number.

/// Console lines kept; older ones are dropped.
pub const LOG_LIMIT: usize = 1000;

/// The kind of a console line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A command line we sent.
    Sent,
    /// A reply line from the server.
    Received,
    /// Data shown for a command (listing rows).
    Data,
    /// A note from the client itself.
    Info,
    /// A failure, in plain words.
    Error,
}

/// One line of the console panel.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Unique within the page (used as the list key).
    pub id: u64,
    /// What kind of line.
    pub kind: LineKind,
    /// The text.
    pub text: String,
}

/// Appends `line`, dropping the oldest lines beyond [`LOG_LIMIT`].
pub fn append(log: &mut Vec<LogLine>, line: LogLine) {
    log.push(line);
    if log.len() > LOG_LIMIT {
        log.drain(..log.len() - LOG_LIMIT);
    }
}
