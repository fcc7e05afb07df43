//! `ferry-server`: serves a directory over the Ferry protocol. The flags are
//! [`ferry_server::CommandLine`]; start-up and stopping follow
//! `ferry_program`, like the other Ferry programs. `ferry-server accounts
//! ...` runs the account tool instead of serving.

use ferry_program::ShutdownSignals;
use ferry_server::{CommandLine, Server};
use std::process::ExitCode;

const PROGRAM: &str = "ferry-server";

/// Parses the flags, sets up logging, and serves until stopped.
#[tokio::main]
async fn main() -> ExitCode {
    let mut command_line: CommandLine = ferry_program::parse_or_exit(PROGRAM);
    if let Some(command) = command_line.take_accounts_command() {
        return ferry_program::exit_code(PROGRAM, ferry_server::accounts::run_tool(command));
    }
    ferry_program::init_logging("info");
    ferry_program::exit_code(PROGRAM, serve(command_line).await)
}

/// Binds the server as the flags say and runs it until Ctrl-C or SIGTERM.
async fn serve(command_line: CommandLine) -> anyhow::Result<()> {
    let listen = command_line.listen();
    let config = command_line.into_config();
    #[cfg(unix)]
    raise_open_file_limit(config.max_connections);
    let signals = ShutdownSignals::install()?;
    let server = Server::bind(config, listen).await?;
    server.run(signals.requested()).await?;
    Ok(())
}

/// Raises the soft limit on open files to the hard limit: every connection
/// needs a descriptor, and the usual soft limit of 1024 is below the
/// default connection limit.
#[cfg(unix)]
fn raise_open_file_limit(wanted: usize) {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if let (Some(current), Some(maximum)) = (limit.current, limit.maximum) {
        if current < maximum {
            let raised = rustix::process::Rlimit {
                current: Some(maximum),
                maximum: Some(maximum),
            };
            if setrlimit(Resource::Nofile, raised).is_err() {
                tracing::debug!("could not raise the open file limit");
            }
        }
    }
    let current = getrlimit(Resource::Nofile).current;
    if let Some(current) = current {
        // A few descriptors per connection at most (socket, file), plus slack.
        if (current as usize) < wanted.saturating_add(64) {
            tracing::warn!(
                open_file_limit = current,
                max_connections = wanted,
                "the open file limit is below --max-connections; some connections may fail"
            );
        }
    }
}
