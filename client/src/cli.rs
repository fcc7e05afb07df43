//! Command-line flags (clap).

use clap::{ArgAction, Parser, Subcommand};
use ferry_client::{tls_config_trusting, ClientError, SessionOptions, Target};
use ferry_program::parse_seconds;
use std::path::PathBuf;
use std::time::Duration;

/// Shortest timeout a session uses, whatever the flags say (0 included).
const MIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Ferry file-transfer client.
///
/// Without a subcommand, opens an interactive prompt (type HELP there).
/// TARGET is HOST:PORT, HOST (port 8888), or a ws:// or wss:// URL of a
/// Ferry bridge, e.g. ws://127.0.0.1:8080/ws?target=127.0.0.1:8888.
#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    override_usage = "ferry [OPTIONS] [TARGET]                (interactive prompt)\n       \
                      ferry [OPTIONS] <COMMAND> <TARGET> ...  (one-shot, for scripts)"
)]
pub struct Cli {
    /// Server to connect to when the prompt opens.
    #[arg(value_parser = Target::parse)]
    pub target: Option<Target>,

    /// In the prompt, check every RETRIEVE and STORE with HASH.
    #[arg(long)]
    pub verify: bool,

    /// A one-shot command for scripts (exits non-zero on failure).
    #[command(subcommand)]
    pub command: Option<OneShot>,

    /// Log each connection and command (-v), or everything (-vv). RUST_LOG overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print no progress bars or status messages.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Seconds to wait for a connection to open.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds, global = true)]
    pub connect_timeout: Duration,

    /// Seconds the server may stay silent before the client gives up.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds, global = true)]
    pub timeout: Duration,

    /// For wss:// bridges, also trust the CA certificate(s) in this PEM file.
    #[arg(long, value_name = "PEM_FILE", global = true)]
    pub ca_cert: Option<PathBuf>,
}

impl Cli {
    /// What is logged unless RUST_LOG says otherwise: warnings only by
    /// default (the prompt stays clean), one line per connection and command
    /// with -v, everything with -vv.
    pub fn default_log_level(&self) -> &'static str {
        match self.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    }

    /// Session settings from the flags (timeouts of at least a second).
    pub fn session_options(&self) -> Result<SessionOptions, ClientError> {
        let tls = self
            .ca_cert
            .as_deref()
            .map(tls_config_trusting)
            .transpose()?;
        Ok(SessionOptions {
            connect_timeout: self.connect_timeout.max(MIN_TIMEOUT),
            io_timeout: self.timeout.max(MIN_TIMEOUT),
            tls,
            ..SessionOptions::default()
        })
    }
}

/// One-shot subcommands.
#[derive(Debug, Subcommand)]
pub enum OneShot {
    /// List the files on a server.
    Ls {
        /// The server (HOST:PORT or ws:// URL).
        #[arg(value_parser = Target::parse)]
        target: Target,
        /// Show sizes in bytes instead of KiB, MiB, ...
        #[arg(long)]
        bytes: bool,
        /// Print only the names, one per line.
        #[arg(long, conflicts_with = "bytes")]
        names: bool,
    },
    /// Download a file.
    ///
    /// Never leaves a partial file: the data goes to a temporary file that is
    /// renamed into place only when complete.
    Get {
        /// The server (HOST:PORT or ws:// URL).
        #[arg(value_parser = Target::parse)]
        target: Target,
        /// The name of the file on the server.
        name: String,
        /// Where to save it: a file (replaced if it exists), a directory, or - for standard output.
        /// Default: the remote name in the current directory.
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Replace an existing file even when no -o PATH names it.
        #[arg(short, long)]
        force: bool,
        /// Check the download against the server's SHA-256 (HASH).
        #[arg(long)]
        verify: bool,
    },
    /// Upload a file (replaces a file of the same name on the server).
    Put {
        /// The server (HOST:PORT or ws:// URL).
        #[arg(value_parser = Target::parse)]
        target: Target,
        /// The local file to upload.
        path: PathBuf,
        /// The name on the server (default: the file's base name).
        #[arg(long = "as", value_name = "NAME")]
        as_name: Option<String>,
        /// Check the upload against the server's SHA-256 (HASH).
        #[arg(long)]
        verify: bool,
    },
    /// Delete a file on the server.
    Rm {
        /// The server (HOST:PORT or ws:// URL).
        #[arg(value_parser = Target::parse)]
        target: Target,
        /// The name of the file on the server.
        name: String,
    },
    /// Print the SHA-256 of a file on the server (sha256sum format).
    Hash {
        /// The server (HOST:PORT or ws:// URL).
        #[arg(value_parser = Target::parse)]
        target: Target,
        /// The name of the file on the server.
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn flags_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn timeouts_take_seconds_or_durations_and_at_least_a_second() {
        let cli =
            Cli::try_parse_from(["ferry", "--timeout", "90", "--connect-timeout", "2m"]).unwrap();
        let options = cli.session_options().unwrap();
        assert_eq!(options.io_timeout, Duration::from_secs(90));
        assert_eq!(options.connect_timeout, Duration::from_secs(120));
        let cli = Cli::try_parse_from(["ferry", "ls", "h:1", "--timeout", "0"]).unwrap();
        assert_eq!(cli.session_options().unwrap().io_timeout, MIN_TIMEOUT);
        let defaults = Cli::try_parse_from(["ferry"])
            .unwrap()
            .session_options()
            .unwrap();
        assert_eq!(
            defaults.connect_timeout,
            SessionOptions::default().connect_timeout
        );
        assert_eq!(defaults.io_timeout, SessionOptions::default().io_timeout);
        assert!(Cli::try_parse_from(["ferry", "--timeout", "soon"]).is_err());
    }

    #[test]
    fn verbosity_picks_the_default_log_level() {
        let level = |args: &[&str]| Cli::try_parse_from(args).unwrap().default_log_level();
        assert_eq!(level(&["ferry"]), "warn");
        assert_eq!(level(&["ferry", "-v"]), "info");
        assert_eq!(level(&["ferry", "ls", "h:1", "-vv"]), "debug");
    }

    #[test]
    fn subcommands_parse() {
        let cli =
            Cli::try_parse_from(["ferry", "get", "127.0.0.1:9", "a b", "-o", "-", "--verify"])
                .unwrap();
        assert!(
            matches!(cli.command, Some(OneShot::Get { verify: true, ref name, .. }) if name == "a b")
        );
        let cli = Cli::try_parse_from(["ferry", "ws://127.0.0.1:1/ws"]).unwrap();
        assert!(matches!(cli.target, Some(Target::WebSocket { .. })));
        assert!(Cli::try_parse_from(["ferry", "ls", "host:notaport"]).is_err());
        let cli = Cli::try_parse_from(["ferry", "put", "h:1", "x", "--as", "y"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(OneShot::Put {
                as_name: Some(_),
                ..
            })
        ));
    }
}
