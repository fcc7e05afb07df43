//! `ferry`: the Ferry client. Parses flags and hands over to the prompt or a
//! one-shot subcommand; the protocol work is in the `ferry_client` library,
//! and start-up follows `ferry_program`, like the other Ferry programs.

mod cli;
mod completer;
mod oneshot;
mod progress;
mod prompt;
mod repl;
mod table;

use anyhow::Context;
use cli::{Cli, OneShot};
use ferry_client::SessionOptions;
use ferry_program::ShutdownSignals;
use std::process::ExitCode;
use tokio::runtime::Runtime;

const PROGRAM: &str = "ferry";

/// Parses the flags, then runs a one-shot subcommand or the prompt.
fn main() -> ExitCode {
    let cli: Cli = ferry_program::parse_or_exit(PROGRAM);
    ferry_program::init_logging(cli.default_log_level());
    let (runtime, options) = match start(&cli) {
        Ok(started) => started,
        Err(error) => return ferry_program::exit_code(PROGRAM, Err(error)),
    };
    match cli.command {
        Some(command) => {
            let outcome = runtime.block_on(one_shot(command, options, cli.quiet));
            ferry_program::exit_code(PROGRAM, outcome)
        }
        None => {
            let settings = repl::PromptSettings {
                options,
                verify: cli.verify,
                quiet: cli.quiet,
            };
            repl::run(&runtime, cli.target, settings)
                .unwrap_or_else(|error| ferry_program::exit_code(PROGRAM, Err(error)))
        }
    }
}

/// The async runtime and the session settings, or why there are none.
fn start(cli: &Cli) -> anyhow::Result<(Runtime, SessionOptions)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok((runtime, cli.session_options()?))
}

/// Runs a one-shot command. Ctrl-C or SIGTERM abandons it — dropping the
/// command removes any temporary download file — and a second one exits at
/// once.
async fn one_shot(command: OneShot, options: SessionOptions, quiet: bool) -> anyhow::Result<()> {
    let signals = ShutdownSignals::install()?;
    tokio::select! {
        outcome = oneshot::run(command, options, quiet) => Ok(outcome?),
        () = signals.requested() => anyhow::bail!("interrupted; nothing partial was kept"),
    }
}
