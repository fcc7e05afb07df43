//! Command-line flags (clap).

use clap::{ArgAction, Args, Parser, Subcommand};
use ferry_client::{tls_config_trusting, ClientError, Endpoint, SessionOptions};
use ferry_program::parse_seconds;
use std::path::PathBuf;
use std::time::Duration;

/// Shortest timeout a session uses, whatever the flags say (0 included).
const MIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Ferry file-transfer client.
///
/// Without a subcommand, opens an interactive prompt (type HELP there).
/// TARGET is HOST:PORT, HOST (port 8888), or a ws:// or wss:// URL of a
/// Ferry bridge, e.g. ws://127.0.0.1:8080/ws?target=127.0.0.1:8888; with
/// USER@ before the host, the client logs in as USER. The password comes
/// from --password-file, else FERRY_PASSWORD, else a prompt without echo.
#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    override_usage = "ferry [OPTIONS] [TARGET]                (interactive prompt)\n       \
                      ferry [OPTIONS] <COMMAND> <TARGET> ...  (one-shot, for scripts)"
)]
pub struct Cli {
    /// Server to connect to when the prompt opens ([USER@]HOST:PORT or ws:// URL).
    #[arg(value_parser = Endpoint::parse, value_name = "TARGET")]
    pub target: Option<Endpoint>,

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

    /// Read the login password from the first line of FILE (else from the
    /// FERRY_PASSWORD environment variable, else ask without echo).
    #[arg(long, value_name = "FILE", global = true)]
    pub password_file: Option<PathBuf>,

    /// Send a login password even over plain TCP or ws:// to another machine
    /// (by default only to this machine or through wss://).
    #[arg(long, global = true)]
    pub allow_plain_login: bool,

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

/// One-shot subcommands. Remote paths are relative to the home (a leading
/// `/` is allowed, `..` is resolved here).
#[derive(Debug, Subcommand)]
pub enum OneShot {
    /// List a directory on the server (the home by default).
    Ls {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The directory to list.
        dir: Option<String>,
        /// Show sizes in bytes instead of KiB, MiB, ...
        #[arg(long)]
        bytes: bool,
        /// Print only the names, one per line (directories end in /).
        #[arg(long, conflicts_with = "bytes")]
        names: bool,
    },
    /// Download a file (or, with -r, a directory and everything in it).
    ///
    /// Never leaves a partial file: the data goes to a temporary file that is
    /// renamed into place only when complete. With --continue a cut-off
    /// download is kept in a hidden .NAME.part file beside the target and
    /// continued from its length the next time.
    Get {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The path of the file (or directory, with -r) on the server.
        path: String,
        /// Where to save it: a file (replaced if it exists), a directory, or - for standard output.
        /// Default: the remote file's name in the current directory.
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Replace an existing file even when no -o PATH names it.
        #[arg(short, long)]
        force: bool,
        /// Check the download against the server's SHA-256 (HASH).
        #[arg(long)]
        verify: bool,
        /// Keep a cut-off download in a hidden part file, and continue one found there.
        #[arg(short = 'c', long = "continue")]
        continue_partial: bool,
        /// Download a whole directory tree.
        #[arg(short, long)]
        recursive: bool,
    },
    /// Upload a file (or, with -r, a directory tree); replaces a file of the same path.
    Put {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The local file (or directory, with -r) to upload.
        path: PathBuf,
        /// The path on the server (default: the local base name in the home; a
        /// PATH ending in / is a directory to put it in under that name).
        #[arg(long = "as", value_name = "PATH")]
        as_path: Option<String>,
        /// Check the upload against the server's SHA-256 (HASH).
        #[arg(long)]
        verify: bool,
        /// Continue an upload that was cut off (RESUME): only what the server lacks is sent.
        #[arg(long)]
        resume: bool,
        /// Upload a whole directory tree (remote directories are created as needed).
        #[arg(short, long)]
        recursive: bool,
    },
    /// Delete a file on the server.
    Rm {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The path of the file on the server.
        path: String,
    },
    /// Create a directory on the server (its parent must exist).
    Mkdir {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The path of the new directory.
        path: String,
    },
    /// Remove an empty directory on the server.
    Rmdir {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The path of the directory.
        path: String,
    },
    /// Rename or move a file or directory on the server (a file replaces a file).
    Mv {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The path now.
        from: String,
        /// The new path.
        to: String,
    },
    /// Show whether a path is a file (with its size) or a directory, and when it changed.
    Stat {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The path on the server.
        path: String,
    },
    /// Print the SHA-256 of a file on the server (sha256sum format).
    Hash {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The path of the file on the server.
        path: String,
    },
}

/// The server of a one-shot command, and how to log in there.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// The server: [USER@]HOST:PORT, or a ws:// or wss:// bridge URL (ws://USER@...).
    #[arg(value_parser = Endpoint::parse, value_name = "TARGET")]
    pub endpoint: Endpoint,
}

impl OneShot {
    /// The server the command talks to.
    pub fn endpoint(&self) -> &Endpoint {
        let remote = match self {
            OneShot::Ls { remote, .. }
            | OneShot::Get { remote, .. }
            | OneShot::Put { remote, .. }
            | OneShot::Rm { remote, .. }
            | OneShot::Mkdir { remote, .. }
            | OneShot::Rmdir { remote, .. }
            | OneShot::Mv { remote, .. }
            | OneShot::Stat { remote, .. }
            | OneShot::Hash { remote, .. } => remote,
        };
        &remote.endpoint
    }
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
            matches!(cli.command, Some(OneShot::Get { verify: true, ref path, .. }) if path == "a b")
        );
        let cli = Cli::try_parse_from(["ferry", "ws://127.0.0.1:1/ws"]).unwrap();
        assert!(matches!(
            cli.target,
            Some(Endpoint {
                target: ferry_client::Target::WebSocket { .. },
                ..
            })
        ));
        assert!(Cli::try_parse_from(["ferry", "ls", "host:notaport"]).is_err());
        let cli = Cli::try_parse_from(["ferry", "put", "h:1", "x", "--as", "d/y", "-r"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(OneShot::Put {
                as_path: Some(_),
                recursive: true,
                ..
            })
        ));
        let cli =
            Cli::try_parse_from(["ferry", "mv", "alice@h:1", "a", "b", "--password-file", "p"])
                .unwrap();
        let command = cli.command.unwrap();
        assert_eq!(command.endpoint().user.as_deref(), Some("alice"));
        assert!(
            matches!(command, OneShot::Mv { ref from, ref to, .. } if from == "a" && to == "b")
        );
        assert_eq!(cli.password_file, Some(PathBuf::from("p")));
        let cli = Cli::try_parse_from(["ferry", "get", "h:1", "f", "--continue"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(OneShot::Get {
                continue_partial: true,
                ..
            })
        ));
    }
}
