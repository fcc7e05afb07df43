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
//! Swift's token is fetched at start and held by the operator's HTTP
//! transport ([`SwiftTransport`]), which puts it on every request, fetches
//! a new one a minute before a long-lived one expires
//! (`X-Auth-Token-Expires`), and when the store answers 401 (an expired or
//! revoked token) logs in again and sends the request once more. Transient
//! failures (a connection refused or reset, a 5xx) are tried again by
//! OpenDAL's retry layer, up to 5 more times over about 5 s (then `451`).
//! The key is never logged: [`Secret`]'s `Debug` hides it.

use crate::ServerError;
use backon::Retryable;
use opendal::Operator;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A token is fetched again this long before the store says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// How long an auth request may take.
const AUTH_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a connection to the store may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Swift's tempauth token as the transport uses it.
#[derive(Debug, Clone)]
struct Token {
    value: Secret,
    /// When to fetch a new one unasked (before the store says it expires).
    renew_at: Option<Instant>,
}

/// Swift's tempauth login (v1.0), shared by every request to the store.
#[derive(Debug)]
struct SwiftAuth {
    auth_url: String,
    user: String,
    key: Secret,
    client: reqwest::Client,
    /// The token in force; held while a login is under way, so that
    /// concurrent requests that find it stale log in once.
    token: tokio::sync::Mutex<Option<Token>>,
}

/// What a tempauth login gives.
struct Login {
    storage_url: String,
    token: Token,
}

impl SwiftAuth {
    async fn login(&self) -> Result<Login, ServerError> {
        let url = &self.auth_url;
        let user = &self.user;
        let sent = || async {
            self.client
                .get(url)
                .header("X-Auth-User", user)
                .header("X-Auth-Key", self.key.expose())
                .send()
                .await
        };
        // Like every other request, a login that cannot reach the proxy is
        // tried again (a refusal is not).
        let response = sent
            .retry(backoff())
            .when(|error: &reqwest::Error| error.is_request() || error.is_connect())
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
        // A token that lives long is renewed a minute before it ends; a
        // short one when the store refuses it (401).
        let renew_at = header("X-Auth-Token-Expires")
            .and_then(|secs| secs.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .filter(|life| *life > TOKEN_MARGIN * 2)
            .map(|life| Instant::now() + life - TOKEN_MARGIN);
        tracing::info!(auth = %url, "logged in to Swift");
        Ok(Login {
            storage_url,
            token: Token {
                value: Secret::new(token),
                renew_at,
            },
        })
    }

    /// The token to send now: the one in force, or a new one when there is
    /// none, it is due for renewal, or it is `refused` (a 401 answered it;
    /// a request that saw an older token refused takes the current one).
    async fn current(&self, refused: Option<&Secret>) -> Result<Secret, ServerError> {
        let mut held = self.token.lock().await;
        if let Some(token) = held.as_ref() {
            let due = token.renew_at.is_some_and(|at| Instant::now() >= at);
            if !due && refused != Some(&token.value) {
                return Ok(token.value.clone());
            }
        }
        if refused.is_some() {
            tracing::info!("the store refused the token: logging in again");
        }
        let fresh = self.login().await?.token;
        let value = fresh.value.clone();
        *held = Some(fresh);
        Ok(value)
    }
}

/// The store's bounded retries: up to [`RETRIES`] more tries, waiting from
/// 200 ms doubling to at most 2 s (with jitter), about 5 s in all.
fn backoff() -> backon::ExponentialBuilder {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(2))
        .with_max_times(RETRIES)
        .with_jitter()
}

/// Tries again after a transient failure (a connection refused or reset, a
/// 5xx), what OpenDAL's services mark temporary.
const RETRIES: usize = 5;

/// OpenDAL's HTTP transport for Swift: every request carries the token in
/// force, and a request the store answers 401 (the token expired or was
/// revoked) is sent once more with a new one. Writers that outlive a token
/// (a long upload's segments) go on with the next.
struct SwiftTransport {
    inner: opendal_http_transport_reqwest::ReqwestTransport,
    auth: Arc<SwiftAuth>,
}

impl SwiftTransport {
    fn request(
        parts: &http::request::Parts,
        body: opendal::Buffer,
        token: &Secret,
    ) -> Result<http::Request<opendal::Buffer>, opendal::Error> {
        let mut request = http::Request::new(body);
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = parts.uri.clone();
        *request.version_mut() = parts.version;
        *request.headers_mut() = parts.headers.clone();
        *request.extensions_mut() = parts.extensions.clone();
        let mut value = http::HeaderValue::from_str(token.expose()).map_err(|_| {
            opendal::Error::new(opendal::ErrorKind::Unexpected, "a token that is no header")
        })?;
        value.set_sensitive(true);
        request.headers_mut().insert("X-Auth-Token", value);
        Ok(request)
    }
}

fn auth_failed(error: ServerError) -> opendal::Error {
    // A login that could not reach the proxy after its own retries is
    // final; the retry layer need not try it again.
    opendal::Error::new(opendal::ErrorKind::PermissionDenied, error.to_string())
}

impl opendal::HttpTransport for SwiftTransport {
    async fn fetch(
        &self,
        request: http::Request<opendal::Buffer>,
    ) -> opendal::Result<http::Response<opendal::HttpBody>> {
        let (parts, body) = request.into_parts();
        let token = self.auth.current(None).await.map_err(auth_failed)?;
        let first = Self::request(&parts, body.clone(), &token)?;
        let response = self.inner.fetch(first).await?;
        if response.status() != http::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        drop(response);
        let fresh = self.auth.current(Some(&token)).await.map_err(auth_failed)?;
        self.inner.fetch(Self::request(&parts, body, &fresh)?).await
    }
}

/// How the store is reached: one operator for the server's life (Swift's
/// token is its transport's), and for Swift the transport itself, for the
/// requests OpenDAL does not make (a large object's DELETE).
#[derive(Debug)]
pub(crate) struct Remote {
    spec: StoreSpec,
    op: Operator,
    swift: Option<SwiftRequests>,
}

/// Swift requests of the server's own, through the same transport.
#[derive(Debug)]
struct SwiftRequests {
    transport: opendal::HttpTransporter,
    /// `<storage URL>/<container>/<prefix>`, no `/` at the end.
    base: reqwest::Url,
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

/// Transient failures (temporary errors: a connection that failed, a 5xx)
/// are tried again, [`backoff`]'s way.
fn retried(op: Operator) -> Operator {
    op.layer(
        opendal::layers::RetryLayer::new()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(2))
            .with_max_times(RETRIES)
            .with_jitter(),
    )
}

impl Remote {
    /// Connects (logs in, for Swift) and checks that the store answers.
    pub(crate) async fn open(mut spec: StoreSpec) -> Result<Remote, ServerError> {
        spec.load_key()?;
        // HTTPS through reqwest needs a process-wide rustls provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        install_transport();
        let (op, swift) = match spec.kind {
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
                (op, None)
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
                (retried(Operator::new(builder).map_err(store_error)?), None)
            }
            StoreKind::Swift => {
                let (op, requests) = Remote::swift(&spec).await?;
                (op, Some(requests))
            }
        };
        let remote = Remote { spec, op, swift };
        remote.check().await?;
        Ok(remote)
    }

    /// Logs in to Swift and builds the operator on its transport.
    async fn swift(spec: &StoreSpec) -> Result<(Operator, SwiftRequests), ServerError> {
        let (user, key) = spec.credentials()?;
        let client = reqwest::Client::builder()
            .timeout(AUTH_TIMEOUT)
            .build()
            .map_err(store_error)?;
        let auth = Arc::new(SwiftAuth {
            auth_url: format!("{}/auth/v1.0", spec.base_url()),
            user: user.to_owned(),
            key: Secret::new(key),
            client,
            token: tokio::sync::Mutex::new(None),
        });
        let login = auth.login().await?;
        let token = login.token.value.clone();
        *auth.token.lock().await = Some(login.token);
        let transport = opendal::HttpTransporter::new(SwiftTransport {
            inner: opendal_http_transport_reqwest::ReqwestTransport::new(
                reqwest::Client::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .build()
                    .map_err(store_error)?,
            ),
            auth,
        });
        let builder = opendal::services::Swift::default()
            .endpoint(&login.storage_url)
            .container(&spec.container)
            .root(&spec.root())
            // The transport sets the token in force on each request.
            .token(token.expose());
        let op = Operator::new(builder).map_err(store_error)?;
        let context = op.context().with_http_transport(transport.clone());
        let op = retried(op.with_context(context));
        let mut base = reqwest::Url::parse(&login.storage_url).map_err(store_error)?;
        base.path_segments_mut()
            .map_err(|()| ServerError::Store("the storage URL cannot hold a path".into()))?
            .pop_if_empty()
            .push(&spec.container)
            .extend(spec.prefix.split('/').filter(|name| !name.is_empty()));
        Ok((op, SwiftRequests { transport, base }))
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

    /// The operator (for Swift: its transport keeps the token fresh).
    pub(crate) async fn op(&self) -> Result<Operator, ServerError> {
        Ok(self.op.clone())
    }

    /// Deletes the object `key` (from the served tree's top) if it is a
    /// file; returns whether there was one. First a HEAD: on Swift a large
    /// object is a manifest over segments, which the HEAD tells
    /// (`X-Static-Large-Object`), and its DELETE then says
    /// `multipart-manifest=delete`, so the segments go with it (Swift
    /// refuses that query for an ordinary object, which gets a plain
    /// DELETE).
    pub(crate) async fn delete(&self, key: &str) -> Result<bool, ServerError> {
        let Some(swift) = &self.swift else {
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
            return outcome.map_err(store_error);
        };
        let mut url = swift.base.clone();
        url.path_segments_mut()
            .map_err(|()| ServerError::Store("the storage URL cannot hold a path".into()))?
            .extend(key.split('/'));
        let head = swift.send(http::Method::HEAD, &url).await?;
        check_status(key, head.status())?;
        if head.status() == http::StatusCode::NOT_FOUND {
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
        let response = swift.send(http::Method::DELETE, &url).await?;
        check_status(key, response.status())?;
        if large {
            // The bulk-style answer carries its own status.
            let body = String::from_utf8_lossy(&response.into_body().to_vec()).into_owned();
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
}

impl SwiftRequests {
    /// One request through the transport (the token, a 401's new login),
    /// tried again as the retry layer would on a connection error or 5xx.
    async fn send(
        &self,
        method: http::Method,
        url: &reqwest::Url,
    ) -> Result<http::Response<opendal::Buffer>, ServerError> {
        let attempt = || async {
            let request = http::Request::builder()
                .method(method.clone())
                .uri(url.as_str())
                .header("Accept", "application/json")
                .body(opendal::Buffer::new())
                .map_err(|error| {
                    opendal::Error::new(opendal::ErrorKind::Unexpected, error.to_string())
                })?;
            let response = self.transport.send(request).await?;
            if response.status().is_server_error() {
                return Err(opendal::Error::new(
                    opendal::ErrorKind::Unexpected,
                    format!("HTTP {}", response.status()),
                )
                .set_temporary());
            }
            Ok(response)
        };
        attempt
            .retry(backoff())
            .when(opendal::Error::is_temporary)
            .await
            .map_err(store_error)
    }
}

/// An HTTP status of a request on `key` as the server reports it.
fn check_status(key: &str, status: http::StatusCode) -> Result<(), ServerError> {
    match status.as_u16() {
        200..=299 | 404 => Ok(()),
        401 | 403 => Err(ServerError::Store("the store refused the token".into())),
        status => Err(ServerError::Storage(io::Error::other(format!(
            "{key}: HTTP {status}"
        )))),
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
