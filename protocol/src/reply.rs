//! Reply lines: `DDD text`.

use crate::ProtoError;
use std::fmt;

/// The reply codes used by Ferry (docs/PROTOCOL.md §2-3).
pub mod codes {
    /// Data bytes follow (LIST, RETRIEVE, READ), or the server is ready for
    /// them (STORE, RESUME).
    pub const DATA_FOLLOWS: u16 = 150;
    /// `NOOP` succeeded.
    pub const OK: u16 = 200;
    /// `HASH` result.
    pub const HASH: u16 = 213;
    /// `STAT` result (the same code as HASH's).
    pub const FILE_STATUS: u16 = 213;
    /// `HELP` result.
    pub const HELP: u16 = 214;
    /// Greeting on accept.
    pub const READY: u16 = 220;
    /// `QUIT` accepted; the server closes the connection.
    pub const GOODBYE: u16 = 221;
    /// `USER` or `PASS`: logged in, or no login required.
    pub const LOGGED_IN: u16 = 230;
    /// A transfer (LIST, RETRIEVE, READ, STORE, RESUME) completed.
    pub const TRANSFER_COMPLETE: u16 = 226;
    /// `DELETE` succeeded.
    pub const DELETED: u16 = 250;
    /// `RMDIR` or `RENAME` succeeded (the same code as DELETE's).
    pub const FILE_ACTION_OK: u16 = 250;
    /// `MKDIR` succeeded.
    pub const CREATED: u16 = 257;
    /// `USER` accepted: send `PASS`.
    pub const PASSWORD_REQUIRED: u16 = 331;
    /// Too many connections, idle timeout or shutdown; the server closes.
    pub const CLOSING: u16 = 421;
    /// The same upload is in progress on another connection (RESUME, STORE).
    pub const UPLOAD_IN_PROGRESS: u16 = 450;
    /// Transient local error on the server (e.g. disk I/O failed).
    pub const LOCAL_ERROR: u16 = 451;
    /// Line too long or otherwise unusable.
    pub const SYNTAX_ERROR: u16 = 500;
    /// Known verb, missing or malformed argument.
    pub const BAD_ARGUMENT: u16 = 501;
    /// Unknown verb.
    pub const UNKNOWN_COMMAND: u16 = 502;
    /// `PASS` without `USER` first.
    pub const BAD_SEQUENCE: u16 = 503;
    /// Not logged in, or login incorrect.
    pub const NOT_LOGGED_IN: u16 = 530;
    /// No such file or directory, not allowed here, or read-only.
    pub const UNAVAILABLE: u16 = 550;
    /// Over the size limit or quota.
    pub const TOO_LARGE: u16 = 552;
    /// Invalid path.
    pub const INVALID_NAME: u16 = 553;
}

/// One reply line from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code; clients decide by it alone.
    pub code: u16,
    /// The free text after the code.
    pub text: String,
}

impl Reply {
    /// A reply with the given code and text.
    pub fn new(code: u16, text: impl Into<String>) -> Reply {
        Reply {
            code,
            text: text.into(),
        }
    }

    /// Parses a reply line (without its line ending).
    pub fn parse(line: &[u8]) -> Result<Reply, ProtoError> {
        let malformed = || ProtoError::MalformedReply(String::from_utf8_lossy(line).into_owned());
        if line.len() < 3
            || !line[..3].iter().all(u8::is_ascii_digit)
            || !(b'1'..=b'5').contains(&line[0])
        {
            return Err(malformed());
        }
        let code = u16::from(line[0] - b'0') * 100
            + u16::from(line[1] - b'0') * 10
            + u16::from(line[2] - b'0');
        let text = match &line[3..] {
            [] => String::new(),
            [b' ', rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
            _ => return Err(malformed()),
        };
        Ok(Reply { code, text })
    }

    /// The reply as wire bytes, `DDD text` + CRLF. Any CR or LF inside the
    /// text is replaced by a space so a reply is always exactly one line.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(6 + self.text.len());
        out.extend_from_slice(format!("{:03}", self.code).as_bytes());
        if !self.text.is_empty() {
            out.push(b' ');
            out.extend(
                self.text
                    .bytes()
                    .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// 1xx: preliminary, more follows.
    pub fn is_preliminary(&self) -> bool {
        self.code / 100 == 1
    }

    /// 3xx: more is needed (`331`: send PASS).
    pub fn is_intermediate(&self) -> bool {
        self.code / 100 == 3
    }

    /// 2xx: success.
    pub fn is_success(&self) -> bool {
        self.code / 100 == 2
    }

    /// 4xx: transient failure.
    pub fn is_transient_failure(&self) -> bool {
        self.code / 100 == 4
    }

    /// 5xx: permanent failure.
    pub fn is_permanent_failure(&self) -> bool {
        self.code / 100 == 5
    }

    /// For a `150` reply: the number of data bytes announced by its first word.
    pub fn data_len(&self) -> Option<u64> {
        if self.code != codes::DATA_FOLLOWS {
            return None;
        }
        let word = self.text.split(' ').next()?;
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        word.parse().ok()
    }

    /// For a `213 SHA-256 <hex>` reply: the lowercase hex digest.
    pub fn sha256_hex(&self) -> Option<&str> {
        if self.code != codes::HASH {
            return None;
        }
        let hex = self.text.strip_prefix("SHA-256 ")?;
        let ok = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then_some(hex)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03} {}", self.code, self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = Reply::new(150, "42 bytes");
        assert_eq!(r.encode(), b"150 42 bytes\r\n");
        assert_eq!(Reply::parse(b"150 42 bytes").unwrap(), r);
        assert_eq!(r.data_len(), Some(42));
        assert_eq!(Reply::parse(b"221").unwrap(), Reply::new(221, ""));
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            &b""[..],
            b"15",
            b"abc text",
            b"600 nope",
            b"099 x",
            b"2000 x",
            b"200-x",
        ] {
            assert!(
                Reply::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn text_never_breaks_the_line() {
        assert_eq!(Reply::new(550, "a\r\nb").encode(), b"550 a  b\r\n");
    }

    #[test]
    fn data_len_needs_digits() {
        assert_eq!(Reply::new(150, "bytes").data_len(), None);
        assert_eq!(Reply::new(150, "-1 bytes").data_len(), None);
        assert_eq!(Reply::new(226, "5 bytes").data_len(), None);
        assert_eq!(
            Reply::new(150, "99999999999999999999999 bytes").data_len(),
            None
        );
    }

    #[test]
    fn sha256_hex() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            Reply::new(213, format!("SHA-256 {hex}")).sha256_hex(),
            Some(hex)
        );
        assert_eq!(Reply::new(213, "SHA-256 XYZ").sha256_hex(), None);
    }
}
