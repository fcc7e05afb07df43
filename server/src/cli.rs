//! The flags of `ferry-server`, kept in the library so the binary is only
//! start-up and the flags can be checked by unit tests.

use crate::accounts::{AccountsCommand, AnonymousAccess, LoginPolicy};
use crate::{
    parse_passive_ports, parse_trusted_proxy, Config, FtpListener, ProxyListener, Secret,
    StoreSpec, TlsFiles,
};
use clap::{Parser, Subcommand};
use ferry_program::parse_seconds;
use ipnet::IpNet;
use std::net::{SocketAddr, ToSocketAddrs};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

/// Serves the regular files of one directory over the Ferry protocol.
///
/// Logs go to standard error; set RUST_LOG (e.g. RUST_LOG=debug) to change
/// how much is logged. Ctrl-C or SIGTERM stops the server gracefully; a
/// second one stops it at once.
#[derive(Debug, Parser)]
#[command(name = "ferry-server", version, args_conflicts_with_subcommands = true)]
pub struct CommandLine {
    #[command(subcommand)]
    tool: Option<Tool>,
    /// Directory to serve; created with two sample files if missing.
    #[arg(long, value_name = "DIR", default_value = crate::DEFAULT_ROOT)]
    root: PathBuf,
    /// Serve from an object store instead of --root:
    /// swift://HOST:PORT/CONTAINER/PREFIX (tempauth at /auth/v1.0),
    /// s3://HOST:PORT/BUCKET[/PREFIX], or memory://NAME (tests); swift+https://
    /// and s3+https:// use TLS.
    #[arg(long, value_name = "URL", value_parser = StoreSpec::parse)]
    store: Option<StoreSpec>,
    /// The store's user: Swift's tempauth user (ACCOUNT:USER) or S3's access key id.
    #[arg(long, value_name = "USER", env = "FERRY_STORE_USER")]
    store_user: Option<String>,
    /// The store's key: Swift's tempauth key or S3's secret (prefer the
    /// environment or --store-key-file: a flag shows in the process list).
    #[arg(
        long,
        value_name = "KEY",
        env = "FERRY_STORE_KEY",
        hide_env_values = true
    )]
    store_key: Option<String>,
    /// A file whose first line is the store's key.
    #[arg(
        long,
        value_name = "FILE",
        requires = "store",
        conflicts_with = "store_key"
    )]
    store_key_file: Option<PathBuf>,
    /// S3's region, for signing.
    #[arg(
        long,
        value_name = "REGION",
        default_value = "us-east-1",
        requires = "store"
    )]
    store_region: String,
    /// Address to listen on, HOST:PORT.
    #[arg(long, value_name = "ADDR", default_value = crate::DEFAULT_LISTEN, value_parser = parse_addr)]
    listen: SocketAddr,
    /// Largest file STORE accepts: bytes, or with a unit (K, M, G, T, KiB, MiB, GiB, TiB, KB, MB, GB, TB).
    #[arg(long, value_name = "BYTES", default_value = "16GiB", value_parser = parse_size)]
    max_file_size: u64,
    /// Most simultaneous connections; more are answered 421 and closed.
    #[arg(long, value_name = "N", default_value_t = crate::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    max_connections: usize,
    /// Most simultaneous connections from one client address (on the proxy
    /// listener, the address its PROXY header announces); more are answered
    /// 421 and closed.
    #[arg(long, value_name = "N", default_value_t = crate::DEFAULT_MAX_PER_ADDRESS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    max_per_address: usize,
    /// Seconds of silence after which a connection is closed (421); 0 disables.
    /// Also accepts durations such as 90s or 5m.
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_seconds)]
    idle_timeout: Duration,
    /// Seconds a command line may take from its first byte to its end
    /// (421 past it, however the bytes trickle in); 0 disables.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    line_timeout: Duration,
    /// Refuse STORE and DELETE (550 Read-only).
    #[arg(long)]
    read_only: bool,
    /// Seconds that transfers in flight get to finish after Ctrl-C or SIGTERM.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    shutdown_grace: Duration,
    /// A second address to listen on, for connections through a proxy (e.g.
    /// ferry-bridge --proxy-protocol): each must begin with a PROXY protocol
    /// header (v1 or v2) naming the real client, sent within 5 seconds.
    #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
    proxy_listen: Option<SocketAddr>,
    /// A proxy allowed on --proxy-listen: an address or a CIDR range
    /// (repeatable; default: loopback only, 127.0.0.0/8 and ::1). Others are
    /// closed without a reply.
    #[arg(long, value_name = "ADDR|CIDR", requires = "proxy_listen", value_parser = parse_trusted_proxy)]
    trust_proxy: Vec<IpNet>,
    /// Also serve FTP (RFC 959, passive mode only) on this address, HOST:PORT:
    /// the same files (on --root or --store), accounts, permissions, quotas
    /// and limits.
    #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
    ftp_listen: Option<SocketAddr>,
    /// The ports FTP passive data connections are offered on, LOW-HIGH.
    #[arg(long, value_name = "LOW-HIGH", requires = "ftp_listen", value_parser = parse_passive_ports,
          default_value = "49152-65535")]
    ftp_passive_ports: RangeInclusive<u16>,
    /// Certificate chain (PEM) for explicit FTPS (AUTH TLS) on --ftp-listen.
    #[arg(long, value_name = "PEM", requires_all = ["ftp_listen", "tls_key"])]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "PEM", requires_all = ["ftp_listen", "tls_cert"])]
    tls_key: Option<PathBuf>,
    /// Accounts file (TOML, see `ferry-server accounts`); read again when it changes.
    #[arg(long, value_name = "FILE")]
    accounts: Option<PathBuf>,
    /// What a session may do before logging in [default: read-write without --accounts, off with it].
    #[arg(long, value_name = "ACCESS", requires_if("off", "accounts"))]
    anonymous: Option<AnonymousAccess>,
    /// Seconds before every "530 Login incorrect" (0 allowed).
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = parse_seconds)]
    login_delay: Duration,
    /// Failed logins from one address, within --login-window, that lock it out (421).
    #[arg(long, value_name = "N", default_value_t = crate::accounts::DEFAULT_LOGIN_LIMIT,
          value_parser = clap::value_parser!(u32).range(1..))]
    login_limit: u32,
    /// Seconds failed logins from one address count, from the first one.
    #[arg(long, value_name = "SECONDS", default_value = "600", value_parser = parse_seconds)]
    login_window: Duration,
    /// Accept PASS in clear text from non-loopback peers on the main listener
    /// (and on the FTP door before AUTH TLS).
    #[arg(long)]
    allow_plain_login: bool,
    /// Seconds the bytes of a cut-off STORE or RESUME are kept (out of
    /// sight) for a RESUME of the same path and size by the same account,
    /// from the moment it was cut off; 0 keeps nothing.
    #[arg(long, value_name = "SECONDS", default_value = "86400", value_parser = parse_seconds)]
    resume_window: Duration,
}

/// What `ferry-server` does instead of serving.
#[derive(Debug, Subcommand)]
enum Tool {
    /// Adds, changes, removes or lists accounts in an accounts file.
    #[command(subcommand)]
    Accounts(AccountsCommand),
}

impl CommandLine {
    /// The address to listen on.
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// The account tool's command, when `ferry-server accounts ...` was
    /// asked for instead of serving.
    pub fn take_accounts_command(&mut self) -> Option<AccountsCommand> {
        self.tool.take().map(|Tool::Accounts(command)| command)
    }

    /// The server's settings.
    pub fn into_config(self) -> Config {
        let anonymous = self
            .anonymous
            .unwrap_or(AnonymousAccess::default_for(self.accounts.is_some()));
        Config {
            accounts: self.accounts,
            anonymous,
            login: LoginPolicy {
                delay: self.login_delay,
                limit: self.login_limit,
                window: self.login_window,
                allow_plain_login: self.allow_plain_login,
            },
            max_file_size: self.max_file_size,
            max_connections: self.max_connections,
            max_per_address: self.max_per_address,
            idle_timeout: self.idle_timeout,
            line_timeout: self.line_timeout,
            read_only: self.read_only,
            shutdown_grace: self.shutdown_grace,
            resume_window: self.resume_window,
            proxy: self.proxy_listen.map(|addr| {
                let mut proxy = ProxyListener::new(addr);
                if !self.trust_proxy.is_empty() {
                    proxy.trusted = self.trust_proxy;
                }
                proxy
            }),
            ftp: self.ftp_listen.map(|addr| FtpListener {
                addr,
                passive_ports: self.ftp_passive_ports,
                tls: self
                    .tls_cert
                    .zip(self.tls_key)
                    .map(|(cert, key)| TlsFiles { cert, key }),
            }),
            store: self.store.map(|spec| StoreSpec {
                user: self.store_user,
                key: self.store_key.map(Secret::new),
                key_file: self.store_key_file,
                region: self.store_region,
                ..spec
            }),
            ..Config::new(self.root)
        }
    }
}

/// `--listen`: an IP socket address, or a host name with a port (first address wins).
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    text.to_socket_addrs()
        .map_err(|error| format!("not a HOST:PORT address ({error})"))?
        .next()
        .ok_or_else(|| "the host name has no address".to_owned())
}

/// `--max-file-size` and the account tool's `--quota`: a number of bytes,
/// optionally with a binary or decimal unit.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err("expected a number of bytes, e.g. 1048576 or 10MiB".to_owned());
    }
    let number: u64 = digits.parse().map_err(|_| "number too large".to_owned())?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => {
            return Err(format!(
                "unknown unit {other:?} (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)"
            ))
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| "size too large".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("2 GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("").is_err());
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999TiB").is_err());
    }

    #[test]
    fn flags_are_well_formed() {
        use clap::CommandFactory;
        CommandLine::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_library_defaults() {
        let config = CommandLine::try_parse_from(["ferry-server"])
            .unwrap()
            .into_config();
        assert_eq!(config.max_file_size, crate::DEFAULT_MAX_FILE_SIZE);
        assert_eq!(config.idle_timeout, crate::DEFAULT_IDLE_TIMEOUT);
        assert_eq!(config.line_timeout, crate::DEFAULT_LINE_TIMEOUT);
        assert_eq!(config.shutdown_grace, crate::DEFAULT_SHUTDOWN_GRACE);
        assert_eq!(config.resume_window, crate::DEFAULT_RESUME_WINDOW);
        assert_eq!(config.resume_window, Duration::from_secs(86_400));
        assert!(!config.read_only);
    }

    #[test]
    fn seconds_flags_take_plain_seconds_and_durations() {
        let config = CommandLine::try_parse_from([
            "ferry-server",
            "--idle-timeout",
            "90",
            "--line-timeout",
            "0",
            "--shutdown-grace",
            "2m",
            "--resume-window",
            "0",
        ])
        .unwrap()
        .into_config();
        assert_eq!(config.idle_timeout, Duration::from_secs(90));
        assert_eq!(config.line_timeout, Duration::ZERO);
        assert_eq!(config.shutdown_grace, Duration::from_secs(120));
        assert_eq!(config.resume_window, Duration::ZERO);
        let config = CommandLine::try_parse_from(["ferry-server", "--resume-window", "1h"])
            .unwrap()
            .into_config();
        assert_eq!(config.resume_window, Duration::from_secs(3600));
        assert!(CommandLine::try_parse_from(["ferry-server", "--resume-window", "-1"]).is_err());
    }

    #[test]
    fn trusted_proxies_replace_the_loopback_default() {
        let config = CommandLine::try_parse_from(["ferry-server"])
            .unwrap()
            .into_config();
        assert_eq!(config.proxy, None);
        let proxy =
            CommandLine::try_parse_from(["ferry-server", "--proxy-listen", "127.0.0.1:8889"])
                .unwrap()
                .into_config()
                .proxy
                .unwrap();
        assert_eq!(proxy.addr.to_string(), "127.0.0.1:8889");
        assert_eq!(proxy.trusted, crate::proxy::loopback());
        assert_eq!(proxy.header_timeout, crate::DEFAULT_HEADER_TIMEOUT);
        let proxy = CommandLine::try_parse_from([
            "ferry-server",
            "--proxy-listen",
            "0.0.0.0:8889",
            "--trust-proxy",
            "10.0.0.0/8",
            "--trust-proxy",
            "192.0.2.1",
        ])
        .unwrap()
        .into_config()
        .proxy
        .unwrap();
        let trusted: Vec<String> = proxy.trusted.iter().map(ToString::to_string).collect();
        assert_eq!(trusted, ["10.0.0.0/8", "192.0.2.1/32"]);
        assert!(
            CommandLine::try_parse_from(["ferry-server", "--trust-proxy", "10.0.0.0/8"]).is_err()
        );
        assert!(CommandLine::try_parse_from([
            "ferry-server",
            "--proxy-listen",
            "127.0.0.1:8889",
            "--trust-proxy",
            "not-an-address"
        ])
        .is_err());
    }

    #[test]
    fn login_flags_are_carried_in_the_config() {
        let config = CommandLine::try_parse_from(["ferry-server"])
            .unwrap()
            .into_config();
        assert_eq!(config.accounts, None);
        assert_eq!(config.anonymous, AnonymousAccess::ReadWrite);
        assert_eq!(config.login, LoginPolicy::default());
        assert_eq!(config.login.delay, Duration::from_secs(1));
        assert_eq!(config.login.limit, 5);
        assert_eq!(config.login.window, Duration::from_secs(600));
        assert!(!config.login.allow_plain_login);

        let config = CommandLine::try_parse_from([
            "ferry-server",
            "--accounts",
            "accounts.toml",
            "--login-delay",
            "0",
            "--login-limit",
            "3",
            "--login-window",
            "1h",
            "--allow-plain-login",
        ])
        .unwrap()
        .into_config();
        assert_eq!(config.accounts, Some(PathBuf::from("accounts.toml")));
        assert_eq!(config.anonymous, AnonymousAccess::Off, "off with accounts");
        assert_eq!(
            config.login,
            LoginPolicy {
                delay: Duration::ZERO,
                limit: 3,
                window: Duration::from_secs(3600),
                allow_plain_login: true,
            }
        );
        for bad in [
            ["--login-limit", "0"],
            ["--login-delay", "soon"],
            ["--login-window", "-1"],
        ] {
            let mut args = vec!["ferry-server"];
            args.extend(bad);
            assert!(CommandLine::try_parse_from(args).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ftp_flags() {
        let config = CommandLine::try_parse_from(["ferry-server"])
            .unwrap()
            .into_config();
        assert_eq!(config.ftp, None);
        let config = CommandLine::try_parse_from([
            "ferry-server",
            "--ftp-listen",
            "127.0.0.1:2121",
            "--ftp-passive-ports",
            "50000-50010",
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
        ])
        .unwrap()
        .into_config();
        let ftp = config.ftp.unwrap();
        assert_eq!(ftp.addr.to_string(), "127.0.0.1:2121");
        assert_eq!(ftp.passive_ports, 50000..=50010);
        let tls = ftp.tls.unwrap();
        assert_eq!(
            (tls.cert.to_str(), tls.key.to_str()),
            (Some("cert.pem"), Some("key.pem"))
        );
        let default_ports =
            CommandLine::try_parse_from(["ferry-server", "--ftp-listen", "127.0.0.1:2121"])
                .unwrap()
                .into_config();
        assert_eq!(
            default_ports.ftp.unwrap().passive_ports,
            crate::DEFAULT_PASSIVE_PORTS
        );
        for bad in [
            &["ferry-server", "--ftp-passive-ports", "50000-50010"][..],
            &[
                "ferry-server",
                "--ftp-listen",
                "127.0.0.1:2121",
                "--tls-cert",
                "c.pem",
            ],
            &["ferry-server", "--tls-cert", "c.pem", "--tls-key", "k.pem"],
            &[
                "ferry-server",
                "--ftp-listen",
                "127.0.0.1:2121",
                "--ftp-passive-ports",
                "9-1",
            ],
        ] {
            assert!(CommandLine::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn anonymous_access() {
        let anonymous = |args: &[&str]| {
            let mut all = vec!["ferry-server"];
            all.extend(args);
            CommandLine::try_parse_from(all).map(|line| line.into_config().anonymous)
        };
        assert_eq!(
            anonymous(&["--anonymous", "read-only"]).unwrap(),
            AnonymousAccess::ReadOnly
        );
        assert_eq!(
            anonymous(&["--accounts", "a.toml", "--anonymous", "read-write"]).unwrap(),
            AnonymousAccess::ReadWrite
        );
        assert_eq!(
            anonymous(&["--accounts", "a.toml", "--anonymous", "off"]).unwrap(),
            AnonymousAccess::Off
        );
        let error = anonymous(&["--anonymous", "off"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("--accounts"), "{error}");
        assert!(anonymous(&["--anonymous", "maybe"]).is_err());
    }

    #[test]
    fn store_flags() {
        let config = CommandLine::try_parse_from([
            "ferry-server",
            "--store",
            "swift://127.0.0.1:8080/ferry/files",
            "--store-user",
            "test:tester",
            "--store-key",
            "testing",
        ])
        .unwrap()
        .into_config();
        let store = config.store.unwrap();
        assert_eq!(store.describe(), "swift://127.0.0.1:8080/ferry/files");
        assert_eq!(store.user.as_deref(), Some("test:tester"));
        assert_eq!(store.key, Some(Secret::new("testing")));
        assert!(
            !format!("{store:?}").contains("testing"),
            "the key is hidden"
        );
        let both = CommandLine::try_parse_from([
            "ferry-server",
            "--store",
            "s3://127.0.0.1:9000/bucket",
            "--ftp-listen",
            "127.0.0.1:2121",
        ])
        .unwrap()
        .into_config();
        assert!(
            both.store.is_some() && both.ftp.is_some(),
            "the door serves the store"
        );
        let error =
            CommandLine::try_parse_from(["ferry-server", "--store", "swift://h:1/c"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("PREFIX"), "{error}");
        assert!(CommandLine::try_parse_from(["ferry-server", "--store-key-file", "k"]).is_err());
    }

    #[test]
    fn the_account_tool_is_a_subcommand_beside_the_flags() {
        let mut line = CommandLine::try_parse_from([
            "ferry-server",
            "accounts",
            "add",
            "alice",
            "--accounts",
            "a.toml",
            "--quota",
            "10GiB",
            "--password-stdin",
        ])
        .unwrap();
        assert!(matches!(
            line.take_accounts_command(),
            Some(AccountsCommand::Add(_))
        ));
        let mut line =
            CommandLine::try_parse_from(["ferry-server", "--root", "files", "--read-only"])
                .unwrap();
        assert!(line.take_accounts_command().is_none());
        for bad in [
            &[
                "ferry-server",
                "--read-only",
                "accounts",
                "list",
                "--accounts",
                "a",
            ][..],
            &["ferry-server", "accounts", "list"],
            &["ferry-server", "accounts", "add", "-x", "--accounts", "a"],
            &[
                "ferry-server",
                "accounts",
                "add",
                "bob",
                "--accounts",
                "a",
                "--home",
                "../x",
            ],
            &[
                "ferry-server",
                "accounts",
                "add",
                "bob",
                "--accounts",
                "a",
                "--quota",
                "1 parsec",
            ],
            &[
                "ferry-server",
                "accounts",
                "rename",
                "bob",
                "--accounts",
                "a",
            ],
        ] {
            let error = CommandLine::try_parse_from(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}");
        }
    }
}
