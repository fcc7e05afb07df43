//! Validated file names.

use crate::ProtoError;
use std::fmt;

/// Longest valid name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 255;

/// A file name that satisfies docs/PROTOCOL.md §3.1: 1 to 255 bytes of
/// UTF-8, not `.` or `..`, and free of `/`, `\` and control characters.
///
/// Because a valid name can never hold a path separator, it is one entry of
/// one directory; a [`Path`](crate::Path) joins names to go deeper.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    /// Validates `name` and wraps it.
    pub fn new(name: impl Into<String>) -> Result<Name, ProtoError> {
        Name::checked(name.into())
    }

    /// [`Name::new`] compiled once, not once per argument type.
    fn checked(name: String) -> Result<Name, ProtoError> {
        validate(&name)?;
        Ok(Name(name))
    }

    /// Wraps `name`, known to be valid (a name of a valid [`Path`](crate::Path)).
    pub(crate) fn valid(name: &str) -> Name {
        debug_assert!(validate(name).is_ok(), "{name:?} is not a valid name");
        Name(name.to_owned())
    }

    /// Validates raw bytes (as they come off the wire) as a name.
    pub fn from_bytes(bytes: &[u8]) -> Result<Name, ProtoError> {
        let text = std::str::from_utf8(bytes).map_err(|_| ProtoError::InvalidName("not UTF-8"))?;
        Name::new(text)
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Unwraps the inner string.
    pub fn into_string(self) -> String {
        self.0
    }
}

pub(crate) fn validate(name: &str) -> Result<(), ProtoError> {
    if name.is_empty() {
        return Err(ProtoError::InvalidName("empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(ProtoError::InvalidName("longer than 255 bytes"));
    }
    if name == "." || name == ".." {
        return Err(ProtoError::InvalidName("'.' and '..' are not file names"));
    }
    if name.contains(['/', '\\']) {
        return Err(ProtoError::InvalidName("contains a path separator"));
    }
    if name.chars().any(|c| c <= '\u{1f}' || c == '\u{7f}') {
        return Err(ProtoError::InvalidName("contains a control character"));
    }
    Ok(())
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Name {
    type Err = ProtoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Name::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in [
            "a",
            "file.txt",
            "with space.bin",
            "ünïcödé 名前",
            ".hidden",
            "...",
            "a..b",
        ] {
            assert_eq!(Name::new(ok).unwrap().as_str(), ok);
        }
        assert!(Name::new("x".repeat(255)).is_ok());
        // 255 bytes made of two-byte characters plus one byte.
        assert!(Name::new(format!("{}a", "é".repeat(127))).is_ok());
    }

    #[test]
    fn rejects_everything_the_contract_forbids() {
        let long = "x".repeat(256);
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "/etc/passwd",
            "..\\x",
            "a/b",
            "a\\b",
            "nul\0",
            "tab\t",
            "cr\r",
            "lf\n",
            "esc\u{1b}",
            "del\u{7f}",
            &long,
        ] {
            assert!(Name::new(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(Name::from_bytes(b"\xff\xfe").is_err());
    }
}
