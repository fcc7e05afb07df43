//! The FTP door under test as the real `ferry-server` binary (flags and
//! all), and the FTP clients nobody here wrote — curl, lftp and Python's
//! ftplib — run as child processes against it, each killed if it outlives
//! the step timeout. A certificate authority made at test time signs the
//! door's certificate for FTPS, so the clients verify it as they would any
//! other server's.

#![allow(dead_code)]

use ferry_testkit::{
    closed_port, run_to_end, run_to_end_within, write_accounts_file, ChildProcess, TestAccount,
};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_ferry-server");

/// Width of each door's passive port range.
const PASSIVE_PORTS: u16 = 40;

/// How the door is started.
#[derive(Default)]
pub struct DoorOptions {
    /// Accounts written to an accounts file beside the root; empty: none.
    pub accounts: Vec<TestAccount>,
    /// `--anonymous`, when given.
    pub anonymous: Option<&'static str>,
    /// `--max-file-size`, when given.
    pub max_file_size: Option<&'static str>,
    /// FTPS with a certificate signed by a CA made for this door.
    pub tls: bool,
    /// `--store URL` and its credentials' flags, served instead of the
    /// door's own root directory (which then stays empty).
    pub store: Vec<String>,
}

/// A running `ferry-server --ftp-listen`; killed when dropped.
pub struct Door {
    /// The FTP listener.
    pub ftp: SocketAddr,
    /// The Ferry protocol listener of the same process.
    pub ferry: SocketAddr,
    /// The served directory.
    pub root: PathBuf,
    /// The CA certificate (PEM) the clients trust, with `tls`.
    pub ca: Option<PathBuf>,
    /// Declared before `dir`, so the process goes before its files.
    process: ChildProcess,
    pub dir: TempDir,
}

impl Door {
    pub fn start(options: DoorOptions) -> Door {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let ftp = closed_port();
        let ferry = closed_port();
        let low = passive_range();
        let mut args: Vec<String> = if options.store.is_empty() {
            vec!["--root".into(), root.to_str().unwrap().into()]
        } else {
            options.store.clone()
        };
        args.extend(
            [
                "--listen",
                &ferry.to_string(),
                "--ftp-listen",
                &ftp.to_string(),
                "--ftp-passive-ports",
                &format!("{low}-{}", low + PASSIVE_PORTS - 1),
                "--login-delay",
                "0",
                "--login-limit",
                "1000",
            ]
            .map(String::from),
        );
        if !options.accounts.is_empty() {
            let file = dir.path().join("accounts.toml");
            write_accounts_file(&file, &options.accounts);
            args.extend(["--accounts".into(), file.to_str().unwrap().into()]);
        }
        if let Some(anonymous) = options.anonymous {
            args.extend(["--anonymous".into(), anonymous.into()]);
        }
        if let Some(size) = options.max_file_size {
            args.extend(["--max-file-size".into(), size.into()]);
        }
        let ca = options.tls.then(|| {
            let files = TestCa::write(dir.path());
            args.extend([
                "--tls-cert".into(),
                files.cert.to_str().unwrap().into(),
                "--tls-key".into(),
                files.key.to_str().unwrap().into(),
            ]);
            files.ca
        });
        let process = ChildProcess::spawn(Path::new(BIN), &args, ftp)
            .unwrap_or_else(|error| panic!("ferry-server {args:?}: {error:#}"));
        Door {
            ftp,
            ferry,
            root,
            ca,
            process,
            dir,
        }
    }

    /// `ftp://USER:PASSWORD@127.0.0.1:PORT/PATH`.
    pub fn url(&self, user: &str, password: &str, path: &str) -> String {
        format!("ftp://{user}:{password}@{}/{path}", self.ftp)
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

/// The first port of a passive range below Linux's ephemeral ports,
/// from a probe that all of it is free now. Doors started at the same time
/// may still overlap: the door tries ten ports of its range per PASV.
fn passive_range() -> u16 {
    let seed = std::process::id() as u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64;
    let mut state = seed | 1;
    for _ in 0..64 {
        // xorshift: good enough to spread the doors of parallel tests.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let low = 20_000 + (state % 12_000) as u16;
        let all_free =
            (low..low + PASSIVE_PORTS).all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok());
        if all_free {
            return low;
        }
    }
    panic!("no free passive port range below 32000");
}

/// A CA and a certificate it signed for 127.0.0.1 and localhost.
pub struct TestCa {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// Makes the CA and the door's certificate, and writes their PEM files
    /// into `dir`.
    pub fn write(dir: &Path) -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Ferry FTP test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
        let files = TestCa {
            ca: dir.join("ca.pem"),
            cert: dir.join("door-cert.pem"),
            key: dir.join("door-key.pem"),
        };
        std::fs::write(&files.ca, ca_cert.pem()).unwrap();
        std::fs::write(&files.cert, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        files
    }
}

/// Runs `curl` with `args` (quiet, failing on FTP errors, bounded in time).
pub fn curl(args: &[&str]) -> Output {
    let mut all = vec!["--silent", "--show-error", "--max-time", "15"];
    all.extend_from_slice(args);
    run_to_end(Path::new("curl"), &all, b"")
}

/// Runs one lftp session: `open` to the door as `user`, then `commands`
/// (one per line), stopping at the first that fails. `tls` is the CA file
/// for FTPS (then every command and transfer is protected), or `None`
/// for plain FTP.
pub fn lftp(door: &Door, user: &str, password: &str, tls: Option<&Path>, commands: &str) -> Output {
    let mut script = String::from(
        "set cmd:fail-exit yes\n\
         set net:max-retries 1\n\
         set net:timeout 10\n\
         set net:reconnect-interval-base 1\n\
         set ftp:passive-mode yes\n\
         set xfer:clobber yes\n",
    );
    match tls {
        Some(ca) => script.push_str(&format!(
            "set ftp:ssl-force true\n\
             set ftp:ssl-protect-data true\n\
             set ftp:ssl-protect-list true\n\
             set ssl:verify-certificate yes\n\
             set ssl:ca-file {}\n",
            ca.display()
        )),
        None => script.push_str("set ftp:ssl-allow false\n"),
    }
    script.push_str(&format!(
        "open -u {user},{password} -p {} 127.0.0.1\n{commands}\nbye\n",
        door.ftp.port()
    ));
    // A session may mirror a tree both ways: several steps.
    run_to_end_within(
        Path::new("lftp"),
        &["-f", "/dev/stdin"],
        script.as_bytes(),
        Duration::from_secs(120),
    )
}

/// Runs the ftplib suite (tests/ftp/ftplib_suite.py) with `args`.
pub fn ftplib_suite(args: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ftp/ftplib_suite.py");
    let mut all = vec![script.to_str().unwrap()];
    all.extend_from_slice(args);
    // Some thirty logins (each an Argon2id) and a few MiB each way: far
    // more than one step, on a machine busy with the other tests.
    run_to_end_within(Path::new("python3"), &all, b"", Duration::from_secs(180))
}

/// Panics with everything the tool said unless it succeeded.
pub fn assert_ok(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every regular file under `dir` as (relative path, bytes), sorted; and
/// every directory, with a trailing `/`.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut entries = Vec::new();
    walk(dir, dir, &mut entries);
    entries.sort();
    entries
}

fn walk(base: &Path, dir: &Path, entries: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let relative = path
            .strip_prefix(base)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
        if kind.is_dir() {
            entries.push((format!("{relative}/"), Vec::new()));
            walk(base, &path, entries);
        } else if kind.is_file() {
            entries.push((relative, std::fs::read(&path).unwrap()));
        }
    }
}
