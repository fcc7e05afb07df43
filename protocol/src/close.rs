//! WebSocket close codes the bridge sends, and what each means for a person
//! (RFC 6455 §7.4). The bridge, the CLI and the web client share this table;
//! the bridge never parses the protocol, it only takes these constants.

/// The upstream server closed the connection (e.g. after `QUIT`).
pub const NORMAL: u16 = 1000;
/// The bridge is shutting down, or the relay was idle too long.
pub const GOING_AWAY: u16 = 1001;
/// The client sent something that is not a WebSocket data message the bridge relays.
pub const PROTOCOL_ERROR: u16 = 1002;
/// The connection dropped without a close frame (never sent; reported by browsers).
pub const ABNORMAL: u16 = 1006;
/// A text message was not valid UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;
/// The requested target is not on the bridge's allowlist.
pub const POLICY_VIOLATION: u16 = 1008;
/// A client message was larger than the bridge's `--max-message-size`.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// The bridge hit an internal error.
pub const INTERNAL_ERROR: u16 = 1011;
/// The upstream server could not be reached, or its connection failed.
pub const BAD_GATEWAY: u16 = 1014;
/// Sent by a client that abandons an upload (the protocol cannot cancel a STORE).
pub const CLIENT_ABORTED: u16 = 4000;
/// Sent by a client that received bytes breaking the protocol.
pub const CLIENT_PROTOCOL_ERROR: u16 = 4002;

/// What a close with `code` means, as a sentence fragment for
/// "the bridge closed the connection: …"; `None` for a normal close.
pub fn meaning(code: u16) -> Option<&'static str> {
    Some(match code {
        NORMAL => return None,
        GOING_AWAY => "the bridge is shutting down, or the connection was idle too long",
        PROTOCOL_ERROR | INVALID_PAYLOAD => "the bridge could not relay what this client sent",
        POLICY_VIOLATION => "the bridge does not allow this server",
        MESSAGE_TOO_BIG => "a message was too large for the bridge",
        INTERNAL_ERROR => "the bridge hit an internal error",
        BAD_GATEWAY => "the bridge could not reach the server",
        ABNORMAL => "the connection to the bridge was lost",
        _ => "the bridge closed the connection",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_sent_has_words() {
        assert_eq!(meaning(NORMAL), None);
        for code in [GOING_AWAY, POLICY_VIOLATION, MESSAGE_TOO_BIG, BAD_GATEWAY] {
            assert_ne!(meaning(code), meaning(4999), "{code}");
        }
    }
}
