//! `ferry`: the Ferry client. Parses flags and hands over to the prompt or a
//! one-shot subcommand; the protocol work is in the `ferry_client` library,
//! and start-up follows `ferry_program`, like the other Ferry programs.

mod cli;
mod completer;
mod connection;
mod login;
mod oneshot;
mod password;
mod progress;
mod prompt;
mod repl;
mod summary;
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
    let plain_login = if cli.allow_plain_login {
        password::PlainLogin::Allow
    } else {
        password::PlainLogin::Refuse
    };
    let passwords = password::PasswordSource {
        file: cli.password_file.clone(),
        plain_login,
    };
    match cli.command {
        Some(command) => {
            let settings = oneshot::Settings {
                options,
                quiet: cli.quiet,
                passwords,
            };
            let outcome = runtime.block_on(one_shot(command, settings));
            ferry_program::exit_code(PROGRAM, outcome)
        }
        None => {
            let settings = repl::PromptSettings {
                options,
                verify: cli.verify,
                quiet: cli.quiet,
                passwords,
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
/// command removes any temporary download file (a `--continue` part file
/// stays) — and a second one exits at once.
async fn one_shot(command: OneShot, settings: oneshot::Settings) -> anyhow::Result<()> {
    let signals = ShutdownSignals::install()?;
    let keeps_part = matches!(
        command,
        OneShot::Get {
            continue_partial: true,
            ..
        }
    );
    let kept = if keeps_part {
        "the part downloaded so far is kept for --continue"
    } else {
        "nothing partial was kept"
    };
    tokio::select! {
        outcome = oneshot::run(command, settings) => outcome,
        () = signals.requested() => anyhow::bail!("interrupted; {kept}"),
    }
}
