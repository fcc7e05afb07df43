//! Fuzz target for the accounts file loader: whatever text the file holds,
//! `AccountsFile::parse` gives accounts or a one-line error naming the file
//! and a line of it, never a panic; and what it accepts is valid (names,
//! homes below the root without `..` or empty parts) and reads back the
//! same after `render`. (The server's other input from the network, the
//! PROXY header, is fuzzed in src/proxy.rs, next to the private reader.)
//!
//! A bolero `check!`: one second under `cargo test`,
//! `BOLERO_RANDOM_TEST_TIME_MS` for longer (scripts/fuzz.sh).

use bolero::check;
use ferry_server::accounts::{AccountsFile, Home};
use std::path::Path;

/// A real Argon2id PHC string (the cheapest parameters), so that fuzzed
/// files get past the password field and exercise the rest.
const HASH: &str = "$argon2id$v=19$m=64,t=1,p=1$c2l6H6wHW8RXrXZy0mGRJw$\
                    kM0BvuNW6hIpK3kDJP6mSuonTAsBUxNcStX8eK12KbQ";

/// Bytes with the top bit set become pieces that matter to TOML and to
/// the account rules; the rest stay as they are.
fn interesting(raw: &[u8]) -> String {
    const PIECES: &[&str] = &[
        "/",
        ".",
        "..",
        "\"",
        "'",
        "\\",
        "\n",
        "=",
        "[",
        "]",
        "[[",
        "]]",
        ".",
        "#",
        " ",
        "\t",
        "accounts",
        "password",
        "home",
        "read_only",
        "quota",
        "true",
        "1",
        "-1",
        "é",
        "\u{0}",
        "\u{7f}",
        "@",
        "_",
        "-",
        "{",
        "}",
        ",",
        "\"\"\"",
        "'''",
        "$argon2id$",
        "m=",
        "t=",
        "p=",
        "18446744073709551616",
        "1979-05-27T07:32:00Z",
        "inf",
        "nan",
        "0x1F",
    ];
    ferry_testkit::data::spliced_text(raw, PIECES)
}

/// Mostly the characters of valid account names and homes, sometimes a
/// piece of [`interesting`] (so that most are valid, and some nearly).
fn plausible(raw: &[u8], alphabet: &[u8]) -> String {
    let mut out = String::new();
    for &byte in raw {
        match alphabet.get(usize::from(byte)) {
            Some(&c) => out.push(char::from(c)),
            None if byte >= 0xf0 => out.push_str(&interesting(&[byte])),
            None => out.push(char::from(alphabet[usize::from(byte) % alphabet.len()])),
        }
    }
    out
}

/// `text` as a TOML basic string (escaped), or raw when `raw` (often invalid).
fn value(text: &str, raw: bool) -> String {
    if raw {
        return text.to_owned();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A file of accounts made from fuzzed parts: `(name, home, flags, quota)`.
fn file_of(accounts: &[(Vec<u8>, Vec<u8>, u8, i64)]) -> String {
    let mut text = String::new();
    // One bad account fails the whole file: keep to a few.
    for (name, home, flags, quota) in accounts.iter().take(3) {
        let name = plausible(&name[..name.len().min(12)], b"abcdefxyzABZ0189._-@");
        let home = plausible(&home[..home.len().min(16)], b"abcxyz09/.-_ ");
        // Mostly a name that starts well, as a quoted key.
        let name = match name.chars().next() {
            Some(c) if c.is_ascii_alphanumeric() || quota.rem_euclid(5) == 0 => name,
            _ => format!("u{name}"),
        };
        let key = if flags & 1 != 0 && quota.rem_euclid(3) == 0 {
            name.clone()
        } else {
            value(&name, false)
        };
        text.push_str(&format!("[accounts.{key}]\n"));
        let password = match flags >> 1 & 7 {
            0..=4 => HASH.to_owned(),
            5 => HASH.replace("m=64", &format!("m={quota}")),
            6 => format!("$argon2id$v=19${home}"),
            _ => interesting(name.as_bytes()),
        };
        let raw = flags & 8 != 0 && quota.rem_euclid(8) == 0;
        text.push_str(&format!("password = {}\n", value(&password, raw)));
        if flags & 16 != 0 {
            let raw = flags & 32 != 0 && quota.rem_euclid(8) == 1;
            text.push_str(&format!("home = {}\n", value(&home, raw)));
        }
        if flags & 64 != 0 {
            text.push_str("read_only = true\n");
        }
        if flags & 128 != 0 {
            // Mostly a quota in range (a u64), sometimes a negative one.
            let quota = if quota.rem_euclid(7) == 0 {
                quota.to_string()
            } else {
                quota.unsigned_abs().to_string()
            };
            text.push_str(&format!("quota = {quota}\n"));
        }
    }
    text
}

fn check_home(home: &Home) {
    if let Home::Below(path) = home {
        assert!(!path.is_empty() && !path.starts_with('/'), "{path:?}");
        for name in path.split('/') {
            assert!(!name.is_empty() && name != "." && name != "..", "{path:?}");
            assert!(!name.contains(['\\', '\0']) && !name.chars().any(char::is_control));
        }
    }
}

#[test]
fn accounts_file_parse() {
    let path = Path::new("fuzz/accounts.toml");
    check!()
        .with_type::<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>, u8, i64)>)>()
        .for_each(|(raw, accounts)| {
            for text in [interesting(raw), file_of(accounts)] {
                match AccountsFile::parse(&text, path) {
                    Ok(file) => {
                        for account in file.accounts() {
                            let name = account.name.as_str();
                            assert!(!name.is_empty() && name.len() <= 64, "{name:?}");
                            assert!(name
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric()
                                    || matches!(c, '.' | '_' | '-' | '@')));
                            check_home(&account.home);
                            assert_eq!(file.get(name), Some(account));
                        }
                        let rendered = file.render();
                        assert_eq!(AccountsFile::parse(&rendered, path), Ok(file));
                    }
                    Err(error) => {
                        assert_eq!(error.path, path);
                        assert!(!error.message.contains('\n'), "{error:?}");
                        if let Some(line) = error.line {
                            assert!(line >= 1 && line <= text.lines().count() + 1, "{error:?}");
                        }
                        assert!(error.to_string().starts_with("fuzz/accounts.toml"));
                    }
                }
            }
        });
}
