//! A real OpenStack Swift on 127.0.0.1 for the object-store tests:
//! `scripts/swift.sh` (Debian's Swift packages, tempauth, s3api; the script's
//! header says what it sets up and why) run in a temporary directory, its
//! `env` file read back. The store is the real thing, not a fake, so what
//! passes here passes on a deployment; nothing is skipped when Swift is
//! missing, the start fails and says what to install.
//!
//! A Swift takes seconds to start and five processes to run, so a test
//! binary that needs one for many tests shares [`Swift::shared`], each test
//! in a container or prefix of its own ([`Swift::create_container`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use tempfile::TempDir;

/// A running Swift all-in-one; stopped (exactly the processes its script
/// started) when dropped.
pub struct Swift {
    /// Tempauth v1: `GET` it with `X-Auth-User: user` and `X-Auth-Key: key`
    /// for `X-Storage-Url` and `X-Auth-Token`.
    pub auth_url: String,
    /// `account:user`, an `.admin` of its account.
    pub user: String,
    pub key: String,
    /// `http://127.0.0.1:P/v1/AUTH_test`: the account, container paths under it.
    pub storage_url: String,
    /// A token from the start, valid for [`Swift::token_life`] seconds.
    pub token: String,
    pub token_life: u64,
    /// A container made at the start, empty.
    pub container: String,
    /// The same proxy speaking S3 (s3api), path-style, SigV4 or V2.
    pub s3_endpoint: String,
    pub s3_region: String,
    /// The S3 name of [`Swift::container`].
    pub s3_bucket: String,
    /// Tempauth's `account:user` and key, as S3 credentials.
    pub s3_access_key: String,
    pub s3_secret: String,
    /// Where tempauth keeps its tokens (see [`Swift::revoke_tokens`]).
    pub memcached: String,
    dir: Option<TempDir>,
}

/// How a Swift of its own is started ([`Swift::start_with`]).
#[derive(Debug, Clone, Default)]
pub struct SwiftOptions {
    /// How long a tempauth token lives, in seconds (default 86400).
    pub token_life: Option<u64>,
}

/// `scripts/swift.sh` of this workspace.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/swift.sh")
}

fn failure(what: &str, output: &Output) -> String {
    format!(
        "{what} failed ({}): {}{}\nSwift and memcached come from `./scripts/setup.sh --tests`.",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout),
    )
}

impl Swift {
    /// Starts a Swift of its own in a new temporary directory and waits
    /// until it serves; panics, saying why (and what to install, when that
    /// is why), if it cannot.
    pub fn start() -> Swift {
        Swift::start_with(SwiftOptions::default())
    }

    /// [`Swift::start`], with `options`.
    pub fn start_with(options: SwiftOptions) -> Swift {
        let dir = tempfile::Builder::new()
            .prefix("ferry-swift-")
            .tempdir()
            .expect("a temporary directory");
        // The watcher stops it too should this process end without
        // dropping it (an abort, a kill, or a static: Swift::shared).
        let mut command = Command::new(script());
        command
            .arg("start")
            .arg(dir.path())
            .arg("--owner")
            .arg(std::process::id().to_string());
        if let Some(life) = options.token_life {
            command.arg("--token-life").arg(life.to_string());
        }
        let output = command
            .output()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", script().display()));
        if !output.status.success() {
            panic!("{}", failure("scripts/swift.sh start", &output));
        }
        let env = std::fs::read_to_string(dir.path().join("env"))
            .expect("scripts/swift.sh start writes DIR/env");
        let values: HashMap<&str, &str> = env
            .lines()
            .filter_map(|line| line.split_once('='))
            .collect();
        let value = |key: &str| -> String {
            values
                .get(key)
                .unwrap_or_else(|| panic!("no {key} in {}/env", dir.path().display()))
                .to_string()
        };
        Swift {
            auth_url: value("SWIFT_AUTH_URL"),
            user: value("SWIFT_USER"),
            key: value("SWIFT_KEY"),
            storage_url: value("SWIFT_STORAGE_URL"),
            token: value("SWIFT_TOKEN"),
            token_life: value("SWIFT_TOKEN_LIFE")
                .parse()
                .expect("SWIFT_TOKEN_LIFE is a number"),
            container: value("SWIFT_CONTAINER"),
            s3_endpoint: value("S3_ENDPOINT"),
            s3_region: value("S3_REGION"),
            s3_bucket: value("S3_BUCKET"),
            s3_access_key: value("S3_ACCESS_KEY"),
            s3_secret: value("S3_SECRET"),
            memcached: value("MEMCACHED_ADDR"),
            dir: Some(dir),
        }
    }

    /// One Swift for the whole test binary, started by the first caller.
    /// Never dropped: it stops when the test process exits (the script's
    /// watcher sees the process gone).
    pub fn shared() -> &'static Swift {
        static SHARED: OnceLock<Swift> = OnceLock::new();
        SHARED.get_or_init(Swift::start)
    }

    /// Where the instance lives: `conf/`, `srv/` (the objects), `log/` (each
    /// server's log, for a failing test to read), `pid/`, `env`.
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().expect("set until dropped").path()
    }

    /// `<storage_url>/<container>`, the Swift URL of a container.
    pub fn container_url(&self, container: &str) -> String {
        format!("{}/{container}", self.storage_url)
    }

    /// The names of the objects of the test container under `prefix`, from
    /// Swift itself (the store as it is, not as a server shows it).
    pub fn objects(&self, prefix: &str) -> Vec<String> {
        let url = format!(
            "{}?format=plain&prefix={prefix}",
            self.container_url(&self.container)
        );
        let output = Command::new("curl")
            .args(["-sS", "-m", "30", "-H"])
            .arg(format!("X-Auth-Token: {}", self.token))
            .arg(url)
            .output()
            .expect("curl runs (./scripts/setup.sh --tests installs it)");
        if !output.status.success() {
            panic!("{}", failure(&format!("listing {prefix}"), &output));
        }
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The requests clients made of the proxy so far whose path (decoded:
    /// Swift logs it percent-encoded, a listing's query twice) holds
    /// `needle`, each as `METHOD path status`, from the proxy's access log;
    /// the requests Swift makes of itself (a large object's segments, a
    /// copy's GET) are left out.
    pub fn requests(&self, needle: &str) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir().join("log/proxy.log")).unwrap_or_default();
        log.lines()
            // proxy-logging's line: "proxy: CLIENT REMOTE DATE METHOD PATH
            // PROTOCOL STATUS ..."; Swift's own subrequests have "-" as the
            // client.
            .filter_map(|line| line.strip_prefix("proxy: "))
            .filter(|line| !line.starts_with("- "))
            .filter_map(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                match fields.as_slice() {
                    [_, _, _, method, path, _, status, ..] => {
                        let path = decode(&decode(path));
                        path.contains(needle)
                            .then(|| format!("{method} {path} {status}"))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// Revokes every tempauth token at once (memcached's `flush_all`), as a
    /// restarted cache or an operator would: a request with one gets 401
    /// from then on. [`Swift::token`] goes too, so [`Swift::objects`] and
    /// [`Swift::create_container`] fail after this: for a Swift of the
    /// test's own.
    pub fn revoke_tokens(&self) {
        use std::io::{BufRead, BufReader, Write};
        let mut cache = std::net::TcpStream::connect(&self.memcached)
            .unwrap_or_else(|error| panic!("memcached at {}: {error}", self.memcached));
        cache.write_all(b"flush_all\r\n").expect("flush_all sent");
        let mut reply = String::new();
        BufReader::new(cache)
            .read_line(&mut reply)
            .expect("memcached answers");
        assert_eq!(reply.trim_end(), "OK", "memcached flush_all");
    }

    /// Creates container (bucket) `name` in the test account (no error if it
    /// exists), for a test that wants a store of its own on a shared Swift.
    pub fn create_container(&self, name: &str) {
        let output = Command::new("curl")
            .args(["-sS", "-m", "30", "-X", "PUT"])
            .args(["-o", "/dev/null", "-w", "%{http_code}"])
            .arg("-H")
            .arg(format!("X-Auth-Token: {}", self.token))
            .arg(self.container_url(name))
            .output()
            .expect("curl runs (./scripts/setup.sh --tests installs it)");
        let code = String::from_utf8_lossy(&output.stdout);
        if !matches!(code.as_ref(), "201" | "202") {
            panic!(
                "{}",
                failure(&format!("PUT container {name} ({code})"), &output)
            );
        }
    }
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

impl Drop for Swift {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        let stopped = Command::new(script()).arg("stop").arg(dir.path()).output();
        match stopped {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!("{}", failure("scripts/swift.sh stop", &output)),
            Err(error) => eprintln!("cannot run scripts/swift.sh stop: {error}"),
        }
    }
}
