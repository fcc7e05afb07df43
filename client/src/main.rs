//! `ferry`: the Ferry client. Parses flags and hands over to the prompt or a
//! one-shot subcommand; the protocol work is in the `ferry_client` library.

mod cli;
mod completer;
mod oneshot;
mod progress;
mod prompt;
mod repl;
mod table;

use cli::Cli;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// Parses the flags, then runs a one-shot subcommand or the prompt.
fn main() -> ExitCode {
    let cli: Cli = ferry_program::parse_or_exit("ferry");
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ferry: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = match cli.session_options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("ferry: {error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Some(command) => {
            let outcome = runtime.block_on(async {
                tokio::select! {
                    outcome = oneshot::run(command, options, cli.quiet) => outcome.map_err(|e| e.to_string()),
                    // Dropping the command removes any temporary download file.
                    _ = tokio::signal::ctrl_c() => Err("interrupted; nothing partial was kept".to_owned()),
                }
            });
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(reason) => {
                    eprintln!("ferry: {reason}");
                    ExitCode::FAILURE
                }
            }
        }
        None => {
            let settings = repl::PromptSettings {
                options,
                verify: cli.verify,
                quiet: cli.quiet,
            };
            repl::run(&runtime, cli.target, settings).unwrap_or_else(|error| {
                eprintln!("ferry: {error:#}");
                ExitCode::FAILURE
            })
        }
    }
}

/// Logs go to standard error: warnings only by default (the prompt stays
/// clean), one line per connection and command with -v, everything with -vv.
/// RUST_LOG, when set, decides instead.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(default),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
