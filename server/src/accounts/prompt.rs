//! Where the account tool gets a new password: typed twice at the terminal
//! without echo, or one line of standard input (`--password-stdin`, for
//! scripts and provisioning).

use anyhow::{bail, Context};
use std::io::BufRead;

/// How the tool reads the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    /// Asked twice at the terminal, not echoed.
    Terminal,
    /// The first line of standard input, without its line ending.
    StandardInput,
}

/// The new password for `account`, checked by [`check`].
pub fn read_new_password(source: PasswordSource, account: &str) -> anyhow::Result<String> {
    let password = match source {
        PasswordSource::StandardInput => {
            let mut line = String::new();
            let read = std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            if read == 0 {
                bail!("no password on standard input");
            }
            strip_line_ending(line)
        }
        PasswordSource::Terminal => {
            let ask = |prompt: &str| {
                rpassword::prompt_password(prompt)
                    .context("cannot read a password from the terminal (or use --password-stdin)")
            };
            let first = ask(&format!("New password for {account}: "))?;
            check(&first)?;
            let second = ask("Type it again: ")?;
            if first != second {
                bail!("the two passwords differ; nothing changed");
            }
            first
        }
    };
    check(&password)?;
    Ok(password)
}

/// A password must be sendable in a `PASS` line: not empty, no line break,
/// no NUL.
pub fn check(password: &str) -> anyhow::Result<()> {
    if password.is_empty() {
        bail!("an empty password is refused");
    }
    if password.contains(['\r', '\n', '\0']) {
        bail!("a password cannot hold a line break or a NUL");
    }
    Ok(())
}

fn strip_line_ending(mut line: String) -> String {
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_ending_is_dropped() {
        assert_eq!(strip_line_ending("pw\n".into()), "pw");
        assert_eq!(strip_line_ending("pw\r\n".into()), "pw");
        assert_eq!(strip_line_ending("pw".into()), "pw");
        assert_eq!(strip_line_ending(" p w \n".into()), " p w ");
        assert_eq!(strip_line_ending("pw\n\n".into()), "pw\n");
    }

    #[test]
    fn passwords_must_fit_a_pass_line() {
        assert!(check("s3cret with spaces").is_ok());
        assert!(check("").is_err());
        assert!(check("a\nb").is_err());
        assert!(check("a\rb").is_err());
        assert!(check("a\0b").is_err());
    }
}
