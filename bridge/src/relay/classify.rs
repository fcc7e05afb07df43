//! Reading the errors a relay meets: I/O errors in plain words for close
//! reasons and the log, and which failure of the client's WebSocket it was
//! (too big, not UTF-8, or the client simply gone), which picks the close code.

use std::io;

/// "connection refused" rather than "Connection refused (os error 111)".
pub(super) fn describe_io_error(error: &io::Error) -> String {
    let text = error.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => error.kind().to_string(),
    }
}

/// The WebSocket library's own error inside axum's.
fn library_error(error: &axum::Error) -> Option<&tungstenite::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if let Some(error) = error.downcast_ref::<tungstenite::Error>() {
            return Some(error);
        }
        source = error.source();
    }
    None
}

/// Whether the WebSocket library refused a message or frame over the limit.
pub(super) fn is_message_too_big(error: &axum::Error) -> bool {
    matches!(library_error(error), Some(tungstenite::Error::Capacity(_)))
}

/// Whether the client's connection is gone (reset, or closed without a
/// close frame): no close frame can be sent any more.
pub(super) fn is_client_gone(error: &axum::Error) -> bool {
    use tungstenite::error::ProtocolError;
    matches!(
        library_error(error),
        Some(
            tungstenite::Error::Io(_)
                | tungstenite::Error::ConnectionClosed
                | tungstenite::Error::AlreadyClosed
                | tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)
        )
    )
}

/// Whether the client sent a text message that is not UTF-8.
pub(super) fn is_invalid_utf8(error: &axum::Error) -> bool {
    matches!(library_error(error), Some(tungstenite::Error::Utf8(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_as_plain_words() {
        let refused = io::Error::from_raw_os_error(111);
        assert_eq!(describe_io_error(&refused), "connection refused");
        let custom = io::Error::other("Failed to lookup address information: x");
        assert_eq!(
            describe_io_error(&custom),
            "failed to lookup address information: x"
        );
    }
}
