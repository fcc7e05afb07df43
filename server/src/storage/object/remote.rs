//! Where the object store is (`--store`), how to log in to it, and the
//! OpenDAL operator that reaches it.
//!
//! The forms of `--store` (docs/PROTOCOL.md §5, README "Object store"):
//!
//! - `swift://HOST:PORT/CONTAINER/PREFIX` — OpenStack Swift with tempauth
//!   (v1: `GET http://HOST:PORT/auth/v1.0` with `X-Auth-User` and
//!   `X-Auth-Key` gives `X-Storage-Url` and `X-Auth-Token`). The PREFIX is
//!   required: OpenDAL puts the segments of large objects (SLO) under
//!   `.segments/<PREFIX>/…` at the container's top, which must stay out of
//!   the served tree.
//! - `s3://HOST:PORT/BUCKET[/PREFIX]` — an S3 endpoint, path-style
//!   requests, signed with the access key and secret.
//! - `memory://NAME[/PREFIX]` — a store in the server's own memory, lost at
//!   exit; every server in one process with the same NAME shares it (for
//!   tests of several instances on one store).
//!
//! `swift+https://` and `s3+https://` use TLS (rustls with ring); the plain
//! forms speak HTTP, for a store on loopback or a private network.
//!
//! Swift's token is fetched at start, fetched again before it expires
//! (`X-Auth-Token-Expires`), and dropped at once when the store answers
//! 401/403, so the next command logs in afresh. The key is never logged:
//! [`Secret`]'s `Debug` hides it.

use crate::ServerError;
use opendal::Operator;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A token is fetched again this long before the store says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// How long an auth request may take.
const AUTH_TIMEOUT: Duration = Duration::from_secs(20);

/// A credential that never reaches a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which kind of store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// OpenStack Swift, tempauth.
    Swift,
    /// An S3 endpoint.
    S3,
    /// In this process's memory (tests).
    Memory,
}

/// The object store the server serves from instead of `--root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSpec {
    /// What it is.
    pub kind: StoreKind,
    /// Whether requests use HTTPS.
    pub tls: bool,
    /// `HOST:PORT` (a memory store's NAME).
    pub host: String,
    /// The container or bucket (empty for a memory store).
    pub container: String,
    /// Names from the container's top to the served tree, `/`-joined
    /// (empty: the whole container).
    pub prefix: String,
    /// Swift's tempauth user (`account:user`) or S3's access key id.
    pub user: Option<String>,
    /// Swift's tempauth key or S3's secret access key.
    pub key: Option<Secret>,
    /// A file holding the key (its first line), read at start when `key`
    /// is not given.
    pub key_file: Option<std::path::PathBuf>,
    /// S3's region (signing only; most single-site stores ignore it).
    pub region: String,
}

impl StoreSpec {
    /// Parses a `--store` URL (the forms above); the credentials come
    /// separately.
    pub fn parse(text: &str) -> Result<StoreSpec, String> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or("expected swift://HOST:PORT/CONTAINER/PREFIX, s3://HOST:PORT/BUCKET[/PREFIX] or memory://NAME[/PREFIX]")?;
        let (kind, tls) = match scheme {
            "swift" => (StoreKind::Swift, false),
            "swift+https" => (StoreKind::Swift, true),
            "s3" => (StoreKind::S3, false),
            "s3+https" => (StoreKind::S3, true),
            "memory" => (StoreKind::Memory, false),
            other => {
                return Err(format!(
                    "unknown store scheme {other:?} (swift, swift+https, s3, s3+https, memory)"
                ))
            }
        };
        let mut names = rest.trim_end_matches('/').split('/');
        let host = names.next().unwrap_or_default().to_owned();
        if host.is_empty() {
            return Err("the store URL has no host".to_owned());
        }
        let container = match kind {
            StoreKind::Memory => String::new(),
            _ => names
                .next()
                .filter(|name| !name.is_empty())
                .ok_or("the store URL names no container or bucket")?
                .to_owned(),
        };
        let prefix: Vec<&str> = names.collect();
        if prefix
            .iter()
            .any(|name| name.is_empty() || *name == "." || *name == "..")
        {
            return Err("the store URL's prefix has an empty name, . or ..".to_owned());
        }
        let prefix = prefix.join("/");
        if kind == StoreKind::Swift && prefix.is_empty() {
            return Err("swift:// needs a PREFIX after the container (swift://HOST:PORT/CONTAINER/PREFIX): large objects keep their segments under .segments/ at the container's top".to_owned());
        }
        Ok(StoreSpec {
            kind,
            tls,
            host,
            container,
            prefix,
            user: None,
            key: None,
            key_file: None,
            region: "us-east-1".to_owned(),
        })
    }

    fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.host)
    }

    /// The OpenDAL root: the prefix as an absolute directory.
    fn root(&self) -> String {
        if self.prefix.is_empty() {
            "/".to_owned()
        } else {
            format!("/{}/", self.prefix)
        }
    }

    /// Where this store is, for the log (no credentials).
    pub fn describe(&self) -> String {
        let scheme = match (self.kind, self.tls) {
            (StoreKind::Swift, false) => "swift",
            (StoreKind::Swift, true) => "swift+https",
            (StoreKind::S3, false) => "s3",
            (StoreKind::S3, true) => "s3+https",
            (StoreKind::Memory, _) => "memory",
        };
        let mut text = format!("{scheme}://{}", self.host);
        for part in [&self.container, &self.prefix] {
            if !part.is_empty() {
                text.push('/');
                text.push_str(part);
            }
        }
        text
    }

    /// Reads the key from `key_file` when no key was given.
    fn load_key(&mut self) -> Result<(), ServerError> {
        if self.key.is_some() {
            return Ok(());
        }
        if let Some(file) = &self.key_file {
            let text = std::fs::read_to_string(file).map_err(|error| {
                ServerError::Store(format!(
                    "cannot read the store key file {}: {error}",
                    file.display()
                ))
            })?;
            let key = text.lines().next().unwrap_or_default().trim().to_owned();
            if key.is_empty() {
                return Err(ServerError::Store(format!(
                    "the store key file {} is empty",
                    file.display()
                )));
            }
            self.key = Some(Secret::new(key));
        }
        Ok(())
    }

    fn credentials(&self) -> Result<(&str, &str), ServerError> {
        match (&self.user, &self.key) {
            (Some(user), Some(key)) => Ok((user, key.expose())),
            _ => Err(ServerError::Store(format!(
                "{} needs --store-user and --store-key (or FERRY_STORE_USER and FERRY_STORE_KEY, or --store-key-file)",
                self.describe()
            ))),
        }
    }
}

/// A Swift login in force.
#[derive(Debug, Clone)]
struct SwiftLogin {
    op: Operator,
    storage_url: String,
    token: Secret,
    renew_at: Option<Instant>,
}

/// How the store is reached: an operator fixed at start, or Swift's,
/// remade with each new token.
#[derive(Debug)]
pub(crate) struct Remote {
    spec: StoreSpec,
    fixed: Option<Operator>,
    client: reqwest::Client,
    login: tokio::sync::Mutex<Option<SwiftLogin>>,
}

/// Memory stores by name, so that servers of one process share one.
fn memory_stores() -> &'static Mutex<HashMap<String, Operator>> {
    static STORES: OnceLock<Mutex<HashMap<String, Operator>>> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

/// OpenDAL's HTTP services send through reqwest, installed once per
/// process (the feature that would do it pulls in aws-lc, which needs cmake).
fn install_transport() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let client = reqwest::Client::new();
        opendal::HttpTransporter::install_default(
            opendal_http_transport_reqwest::ReqwestTransport::new(client),
        );
    });
}

fn store_error(error: impl fmt::Display) -> ServerError {
    ServerError::Store(error.to_string())
}

impl Remote {
    /// Connects (logs in, for Swift) and checks that the store answers.
    pub(crate) async fn open(mut spec: StoreSpec) -> Result<Remote, ServerError> {
        spec.load_key()?;
        // HTTPS through reqwest needs a process-wide rustls provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        install_transport();
        let client = reqwest::Client::builder()
            .timeout(AUTH_TIMEOUT)
            .build()
            .map_err(store_error)?;
        let fixed = match spec.kind {
            StoreKind::Memory => {
                let mut stores = memory_stores().lock().unwrap_or_else(|p| p.into_inner());
                let key = format!("{}/{}", spec.host, spec.prefix);
                let op = match stores.get(&key) {
                    Some(op) => op.clone(),
                    None => {
                        let op =
                            Operator::new(opendal::services::Memory::default().root(&spec.root()))
                                .map_err(store_error)?;
                        stores.insert(key, op.clone());
                        op
                    }
                };
                Some(op)
            }
            StoreKind::S3 => {
                let (user, key) = spec.credentials()?;
                let builder = opendal::services::S3::default()
                    .endpoint(&spec.base_url())
                    .bucket(&spec.container)
                    .root(&spec.root())
                    .region(&spec.region)
                    .access_key_id(user)
                    .secret_access_key(key)
                    .disable_config_load()
                    .disable_ec2_metadata();
                Some(Operator::new(builder).map_err(store_error)?)
            }
            StoreKind::Swift => None,
        };
        let remote = Remote {
            spec,
            fixed,
            client,
            login: tokio::sync::Mutex::new(None),
        };
        remote.check().await?;
        Ok(remote)
    }

    /// One request that must succeed for the store to be usable.
    async fn check(&self) -> Result<(), ServerError> {
        // A listing of one name: a stat of the top asks the store nothing.
        let op = self.op().await?;
        let listed = match op.lister_with("/").limit(1).await {
            Ok(mut lister) => futures::TryStreamExt::try_next(&mut lister).await.map(drop),
            Err(error) => Err(error),
        };
        match listed {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == opendal::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(ServerError::Store(format!(
                "{} does not answer: {error}",
                self.spec.describe()
            ))),
        }
    }

    pub(crate) fn spec(&self) -> &StoreSpec {
        &self.spec
    }

    /// The operator to use now (for Swift: logged in, the token fresh).
    pub(crate) async fn op(&self) -> Result<Operator, ServerError> {
        if let Some(op) = &self.fixed {
            return Ok(op.clone());
        }
        Ok(self.swift_login().await?.op)
    }

    /// After a store error: a refused token is dropped, so the next
    /// command logs in again.
    pub(crate) async fn note(&self, error: &opendal::Error) {
        if self.fixed.is_none() && error.kind() == opendal::ErrorKind::PermissionDenied {
            tracing::info!("the store refused the token: logging in again at the next command");
            *self.login.lock().await = None;
        }
    }

    async fn swift_login(&self) -> Result<SwiftLogin, ServerError> {
        let mut login = self.login.lock().await;
        if let Some(current) = login.as_ref() {
            if current.renew_at.is_none_or(|at| Instant::now() < at) {
                return Ok(current.clone());
            }
        }
        let fresh = self.tempauth().await?;
        *login = Some(fresh.clone());
        Ok(fresh)
    }

    /// Swift's tempauth (v1.0).
    async fn tempauth(&self) -> Result<SwiftLogin, ServerError> {
        let (user, key) = self.spec.credentials()?;
        let url = format!("{}/auth/v1.0", self.spec.base_url());
        let response = self
            .client
            .get(&url)
            .header("X-Auth-User", user)
            .header("X-Auth-Key", key)
            .send()
            .await
            .map_err(|error| ServerError::Store(format!("Swift auth at {url}: {error}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(ServerError::Store(format!(
                "Swift auth at {url} refused user {user}: HTTP {status}"
            )));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let (Some(storage_url), Some(token)) = (header("X-Storage-Url"), header("X-Auth-Token"))
        else {
            return Err(ServerError::Store(format!(
                "Swift auth at {url} gave no X-Storage-Url or X-Auth-Token"
            )));
        };
        let renew_at = header("X-Auth-Token-Expires")
            .and_then(|secs| secs.trim().parse::<u64>().ok())
            .map(|secs| Instant::now() + Duration::from_secs(secs).saturating_sub(TOKEN_MARGIN));
        let builder = opendal::services::Swift::default()
            .endpoint(&storage_url)
            .container(&self.spec.container)
            .root(&self.spec.root())
            .token(&token);
        let op = Operator::new(builder).map_err(store_error)?;
        tracing::info!(store = %self.spec.describe(), "logged in to Swift");
        Ok(SwiftLogin {
            op,
            storage_url,
            token: Secret::new(token),
            renew_at,
        })
    }

    /// Deletes the object `key` (from the served tree's top) if it is a
    /// file; returns whether there was one. First a HEAD: on Swift a large
    /// object is a manifest over segments, which the HEAD tells
    /// (`X-Static-Large-Object`), and its DELETE then says
    /// `multipart-manifest=delete`, so the segments go with it (Swift
    /// refuses that query for an ordinary object, which gets a plain
    /// DELETE).
    pub(crate) async fn delete(&self, key: &str) -> Result<bool, ServerError> {
        if self.fixed.is_some() {
            let op = self.op().await?;
            let outcome = match op.stat(key).await {
                // A file's key that names a directory (a marker's ends in `/`).
                Ok(meta) if meta.mode() == opendal::EntryMode::DIR && !key.ends_with('/') => {
                    return Ok(false)
                }
                Ok(_) => op.delete(key).await.map(|()| true),
                Err(error) if error.kind() == opendal::ErrorKind::NotFound => return Ok(false),
                Err(error) => Err(error),
            };
            return match outcome {
                Ok(found) => Ok(found),
                Err(error) => {
                    self.note(&error).await;
                    Err(store_error(error))
                }
            };
        }
        let login = self.swift_login().await?;
        let mut url = reqwest::Url::parse(&login.storage_url).map_err(store_error)?;
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|()| ServerError::Store("the storage URL cannot hold a path".into()))?;
            segments.pop_if_empty().push(&self.spec.container);
            segments.extend(self.spec.prefix.split('/').filter(|name| !name.is_empty()));
            segments.extend(key.split('/'));
        }
        let token = login.token.expose();
        let head = self
            .client
            .head(url.clone())
            .header("X-Auth-Token", token)
            .send()
            .await
            .map_err(store_error)?;
        self.check_status(key, head.status().as_u16()).await?;
        if head.status().as_u16() == 404 {
            return Ok(false);
        }
        let large = head
            .headers()
            .get("X-Static-Large-Object")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
        if large {
            url.set_query(Some("multipart-manifest=delete"));
        }
        let response = self
            .client
            .delete(url)
            .header("X-Auth-Token", token)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(store_error)?;
        self.check_status(key, response.status().as_u16()).await?;
        if large {
            // The bulk-style answer carries its own status.
            let body = response.text().await.map_err(store_error)?;
            if !(body.contains("\"Response Status\": \"200")
                || body.contains("\"Response Status\": \"404"))
            {
                return Err(ServerError::Storage(io::Error::other(format!(
                    "DELETE of the large object {key}: {body}"
                ))));
            }
        }
        Ok(true)
    }

    /// An HTTP status of a request on `key` as the server reports it.
    async fn check_status(&self, key: &str, status: u16) -> Result<(), ServerError> {
        match status {
            200..=299 | 404 => Ok(()),
            401 | 403 => {
                *self.login.lock().await = None;
                Err(ServerError::Store("the store refused the token".into()))
            }
            status => Err(ServerError::Storage(io::Error::other(format!(
                "{key}: HTTP {status}"
            )))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        let spec = StoreSpec::parse("swift://127.0.0.1:8080/ferry/files").unwrap();
        assert_eq!(spec.kind, StoreKind::Swift);
        assert_eq!(
            (spec.host.as_str(), spec.container.as_str()),
            ("127.0.0.1:8080", "ferry")
        );
        assert_eq!(spec.prefix, "files");
        assert_eq!(spec.root(), "/files/");
        assert_eq!(spec.describe(), "swift://127.0.0.1:8080/ferry/files");
        assert!(
            StoreSpec::parse("swift://127.0.0.1:8080/ferry").is_err(),
            "no prefix"
        );
        let spec = StoreSpec::parse("s3+https://s3.example:443/bucket").unwrap();
        assert!(spec.tls);
        assert_eq!(spec.root(), "/");
        assert_eq!(spec.base_url(), "https://s3.example:443");
        let spec = StoreSpec::parse("memory://t1/a/b").unwrap();
        assert_eq!((spec.host.as_str(), spec.prefix.as_str()), ("t1", "a/b"));
        for bad in [
            "ftp://x/y",
            "s3://",
            "s3://host",
            "s3://host/b/../c",
            "s3://host/b//c",
            "nothing",
        ] {
            assert!(StoreSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_never_shows_in_debug() {
        let mut spec = StoreSpec::parse("s3://h:1/b").unwrap();
        spec.user = Some("me".into());
        spec.key = Some(Secret::new("hunter2"));
        let shown = format!("{spec:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }
}
