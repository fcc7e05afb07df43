//! A program that cannot start says why in one line: `program: reason`.
//!
//! Errors arrive as a chain (context, then its causes). Printed with `{:?}`
//! anyhow spreads the chain over a "Caused by" block; printed with `{}` only
//! the outermost message shows. One line with every distinct cause is what
//! logs and scripts want, and many errors already quote their cause in
//! their own message, so a cause that is already there is not repeated.

use std::process::ExitCode;

/// The error chain on one line, outermost first, causes joined by `": "`,
/// each cause left out if the line already says it.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = flatten(&cause.to_string());
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    if line.is_empty() {
        line.push_str("unknown error");
    }
    line
}

/// `text` with its line breaks (and the indentation after them) turned
/// into single spaces.
fn flatten(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What `main` returns: success, or `program: reason` on standard error
/// and a failure status.
pub fn exit_code<E: Into<anyhow::Error>>(program: &str, result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {}", one_line(&error.into()));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;
    use std::io;

    #[test]
    fn the_chain_is_joined_on_one_line() {
        let error = Err::<(), _>(io::Error::from(io::ErrorKind::PermissionDenied))
            .context("cannot listen on 127.0.0.1:80")
            .unwrap_err();
        assert_eq!(
            one_line(&error),
            "cannot listen on 127.0.0.1:80: permission denied"
        );
    }

    /// Like the libraries' `#[error("cannot listen on {addr}: {source}")]`.
    #[derive(Debug)]
    struct QuotesItsCause(io::Error);

    impl std::fmt::Display for QuotesItsCause {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "cannot listen on 127.0.0.1:80: {}", self.0)
        }
    }

    impl std::error::Error for QuotesItsCause {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_already_quoted_is_not_repeated() {
        let error = anyhow::Error::new(QuotesItsCause(io::Error::other("Permission denied")));
        assert_eq!(
            one_line(&error),
            "cannot listen on 127.0.0.1:80: Permission denied"
        );
        let error = error.context("cannot start");
        assert_eq!(
            one_line(&error),
            "cannot start: cannot listen on 127.0.0.1:80: Permission denied"
        );
    }

    #[test]
    fn line_breaks_inside_a_message_become_spaces() {
        let error = anyhow::anyhow!("bad certificate\n  expected PEM\n").context("TLS setup");
        assert_eq!(one_line(&error), "TLS setup: bad certificate expected PEM");
        assert!(!one_line(&anyhow::anyhow!("")).is_empty());
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code::<io::Error>("test", Ok(())), ExitCode::SUCCESS);
        assert_eq!(
            exit_code("test", Err(io::Error::other("no"))),
            ExitCode::FAILURE
        );
    }
}
