//! Flag parsing: a bad flag is one line and exit status 2.
//!
//! clap reports a bad flag as a message plus a usage block over several
//! lines. The Ferry programs all answer it the same way: one line naming
//! the problem, on standard error, and exit status 2, so scripts and logs
//! get the reason without the noise.

use clap::Parser;

/// Exit status for bad command-line arguments (as clap and most tools use).
pub const BAD_ARGUMENTS: i32 = 2;

/// Parses `P` from the process's arguments.
///
/// `--help` and `--version` print and exit 0, as clap does. Any other error
/// prints `program: reason (see --help)` and exits with [`BAD_ARGUMENTS`];
/// call this first in `main`, before anything needs cleaning up.
pub fn parse_or_exit<P: Parser>(program: &str) -> P {
    match P::try_parse() {
        Ok(parsed) => parsed,
        Err(error) if !error.use_stderr() => error.exit(),
        Err(error) => {
            eprintln!(
                "{program}: {} (see --help)",
                one_line_reason(&error.render().to_string())
            );
            std::process::exit(BAD_ARGUMENTS);
        }
    }
}

/// The reason in clap's rendered error, on one line: its first paragraph
/// (the usage block follows a blank line), whitespace collapsed, without the
/// leading `error: `.
pub fn one_line_reason(rendered: &str) -> String {
    let first_paragraph = rendered.split("\n\n").next().unwrap_or_default();
    let reason = first_paragraph
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match reason.strip_prefix("error: ") {
        Some(rest) => rest.to_string(),
        None if reason.is_empty() => "bad arguments".to_string(),
        None => reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    struct Example {
        #[arg(long)]
        port: u16,
    }

    fn reason_for(args: &[&str]) -> String {
        let error = Example::try_parse_from(args).unwrap_err();
        one_line_reason(&error.render().to_string())
    }

    #[test]
    fn keeps_the_reason_and_drops_the_usage() {
        let reason = reason_for(&["example", "--port", "http"]);
        assert_eq!(
            reason,
            "invalid value 'http' for '--port <PORT>': invalid digit found in string"
        );
        let reason = reason_for(&["example", "--port", "1", "--bogus"]);
        assert!(
            reason.starts_with("unexpected argument '--bogus' found"),
            "{reason}"
        );
        assert!(
            !reason.contains('\n') && !reason.contains("Usage"),
            "{reason}"
        );
    }

    #[test]
    fn missing_arguments_are_named() {
        let reason = reason_for(&["example"]);
        assert!(reason.contains("--port <PORT>"), "{reason}");
        assert!(!reason.contains('\n'), "{reason}");
    }

    #[test]
    fn text_without_the_prefix_or_any_text_still_gives_a_line() {
        assert_eq!(
            one_line_reason("  odd\n  message\n\nUsage: x"),
            "odd message"
        );
        assert_eq!(one_line_reason(""), "bad arguments");
    }
}
