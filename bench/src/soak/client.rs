//! One soak client: ferry-client's `Session` (over TCP or through the
//! bridge) looping on mixed version 2 commands in a directory of its own,
//! each result checked against what this client knows it wrote.
//!
//! The client keeps a model of its directory (which content each of its
//! paths holds, by seed, size and SHA-256), so every RETRIEVE and READ is
//! compared byte for byte, every HASH, STAT and LIST against the model.
//! When a connection is lost under a command that changes something
//! (a server killed, a restart), the outcome is in doubt; the contract
//! allows exactly two outcomes (the command happened completely or not at
//! all), so after reconnecting the client first finds out which, and
//! anything else is a mismatch. An upload that did not end with `226` (cut
//! by the client itself, or by the server going away) is continued with
//! RESUME before anything else, and the kept part must be no more than was
//! sent and give the right hash.

use super::stats::{Op, Problem, Shared};
use ferry_client::{ClientError, Session, SessionOptions, Target};
use ferry_proto::{EntryKind, Path};
use ferry_testkit::data::noise;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;

/// File names in each of the client's two directories.
const SLOTS: usize = 3;

/// Largest small upload.
const SMALL_MAX: u64 = 64 * 1024;

/// Sizes of a large upload (the ones cut off mid-transfer).
const LARGE_MIN: u64 = 128 * 1024;
const LARGE_MAX: u64 = 1024 * 1024;

/// Largest READ.
const READ_MAX: u64 = 4096;

/// The pause between two commands of one client: 50 to 950 ms.
const THINK_MIN_MS: u64 = 50;
const THINK_SPREAD_MS: u64 = 900;

/// How long a client keeps trying to connect again.
const RECONNECT_LIMIT: Duration = Duration::from_secs(60);

/// How often a RESUME answered `450` (the cut connection is still being
/// wound up on the server) is tried again, 100 ms apart.
const BUSY_RETRIES: usize = 200;

/// Options of every soak session: the library defaults, with a server that
/// is silent for 30 s counting as gone.
fn options() -> SessionOptions {
    SessionOptions {
        io_timeout: Duration::from_secs(30),
        ..SessionOptions::default()
    }
}

/// A file's content, made again from its seed when needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub size: u64,
    seed: u64,
    /// SHA-256, lowercase hex.
    pub sha: String,
}

impl Content {
    fn make(size: u64, seed: u64) -> (Content, Vec<u8>) {
        let data = noise(size as usize, seed);
        let sha = sha256_hex(&data);
        (Content { size, seed, sha }, data)
    }

    fn bytes(&self) -> Vec<u8> {
        noise(self.size as usize, self.seed)
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// A command whose outcome the client does not know, because the
/// connection was lost under it.
#[derive(Debug, Clone)]
pub enum Doubt {
    /// The first MKDIRs of the client's directories.
    SetUp,
    /// An upload that did not end with `226`: RESUME it. `sent` bounds what
    /// the server may have kept.
    Upload {
        path: String,
        content: Content,
        sent: u64,
    },
    Delete {
        path: String,
    },
    Rename {
        from: String,
        to: String,
    },
    ScratchDir,
}

impl Doubt {
    /// The paths whose content this doubt leaves open.
    pub fn paths(&self) -> Vec<&str> {
        match self {
            Doubt::Upload { path, .. } | Doubt::Delete { path } => vec![path.as_str()],
            Doubt::Rename { from, to } => vec![from.as_str(), to.as_str()],
            Doubt::SetUp | Doubt::ScratchDir => Vec::new(),
        }
    }
}

/// What a client knows of its directory.
#[derive(Debug, Clone)]
pub struct Model {
    /// `c<id>`.
    pub dir: String,
    /// Every path the client uses, with what it holds (`None`: no file).
    pub files: BTreeMap<String, Option<Content>>,
    /// Whether `c<id>/tmp` (made and removed by MKDIR + RMDIR) exists.
    pub scratch_dir: bool,
    /// The command in doubt, to settle first.
    pub doubt: Option<Doubt>,
}

impl Model {
    fn new(id: usize) -> Model {
        let dir = format!("c{id}");
        let mut files = BTreeMap::new();
        for slot in 0..SLOTS {
            files.insert(format!("{dir}/f{slot}"), None);
            files.insert(format!("{dir}/sub/f{slot}"), None);
        }
        Model {
            dir,
            files,
            scratch_dir: false,
            doubt: Some(Doubt::SetUp),
        }
    }

    fn sub(&self) -> String {
        format!("{}/sub", self.dir)
    }

    fn scratch(&self) -> String {
        format!("{}/tmp", self.dir)
    }

    fn existing(&self) -> Vec<String> {
        self.files
            .iter()
            .filter(|(_, content)| content.is_some())
            .map(|(path, _)| path.clone())
            .collect()
    }

    fn content(&self, path: &str) -> Option<Content> {
        self.files.get(path).cloned().flatten()
    }
}

/// How one command went wrong.
enum Failure {
    /// The connection is gone (or out of step): reconnect.
    Lost(ClientError),
    /// Bytes, a hash, a size or a listing differ from the model.
    Mismatch(String),
    /// A reply the contract does not allow here.
    Unexpected(String),
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Failure {
        if error.is_fatal() {
            return Failure::Lost(error);
        }
        match error {
            ClientError::Refused { refusal, .. } => Failure::Unexpected(format!(
                "{} answered {}",
                refusal.verb.as_str(),
                refusal.reply
            )),
            other => Failure::Unexpected(other.to_string()),
        }
    }
}

/// What became of the connection after a command.
enum After {
    Open,
    /// The client cut it on purpose (a kill mid-transfer).
    Cut,
}

type Outcome = Result<After, Failure>;

/// A small deterministic generator (SplitMix64): each client's choices are
/// the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// What a client hands back when the run ends.
pub struct ClientEnd {
    pub model: Model,
    /// Whether it stopped on a problem (its model is then not checked).
    pub failed: bool,
}

/// Runs client `id` against `target` until the run stops.
pub async fn run(id: usize, target: Target, shared: Arc<Shared>) -> ClientEnd {
    let mut rng = Rng(0x5eed_0000 + id as u64);
    let mut model = Model::new(id);
    let mut session: Option<Session> = None;
    let mut lost_at: Option<Instant> = None;
    let mut failed = false;
    // Spread the first connections over a second.
    tokio::time::sleep(Duration::from_millis(rng.between(0, 1000))).await;
    while !shared.stopping() {
        let Some(open) = session.as_mut() else {
            match connect(&target, &shared).await {
                Some(opened) => {
                    if let Some(since) = lost_at.take() {
                        shared.reconnected(since.elapsed());
                    }
                    session = Some(opened);
                    continue;
                }
                None if shared.stopping() => break,
                None => {
                    shared.problem(
                        Problem::NoReconnect,
                        format!(
                            "client {id}: no connection to {target} within {RECONNECT_LIMIT:?}"
                        ),
                    );
                    failed = true;
                    break;
                }
            }
        };
        let outcome = if let Some(doubt) = model.doubt.clone() {
            settle(open, &mut model, &doubt, &shared).await.map(|()| {
                model.doubt = None;
                After::Open
            })
        } else {
            let pause = rng.between(THINK_MIN_MS, THINK_MIN_MS + THINK_SPREAD_MS);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            step(open, &mut model, &mut rng, &shared).await
        };
        match outcome {
            Ok(After::Open) => {}
            Ok(After::Cut) => {
                shared.cut();
                session = None;
                lost_at = Some(Instant::now());
            }
            Err(Failure::Lost(error)) => {
                shared.lost(id, error.to_string());
                session = None;
                lost_at = Some(Instant::now());
            }
            // The run has failed; this client's model can no longer be
            // trusted, so it stops rather than report the same fault again.
            Err(Failure::Mismatch(text)) => {
                shared.problem(Problem::Mismatch, format!("client {id}: {text}"));
                failed = true;
                break;
            }
            Err(Failure::Unexpected(text)) => {
                shared.problem(Problem::Unexpected, format!("client {id}: {text}"));
                failed = true;
                break;
            }
        }
    }
    if let Some(open) = session {
        let _ = tokio::time::timeout(Duration::from_secs(5), open.quit()).await;
    }
    ClientEnd { model, failed }
}

/// Connects, trying again with a growing pause (the server may be down for
/// a restart) for up to [`RECONNECT_LIMIT`]; `None` if it never succeeds or
/// the run stops meanwhile.
async fn connect(target: &Target, shared: &Shared) -> Option<Session> {
    let deadline = Instant::now() + RECONNECT_LIMIT;
    let mut pause = Duration::from_millis(50);
    let mut jitter = Rng(shared.now().as_nanos() as u64);
    while Instant::now() < deadline && !shared.stopping() {
        if let Ok(session) = Session::connect(target, options()).await {
            return Some(session);
        }
        let spread = Duration::from_millis(jitter.between(0, pause.as_millis() as u64));
        tokio::time::sleep(pause + spread).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
    None
}

fn path(text: &str) -> Path {
    Path::new(text).expect("the soak's paths are valid")
}

/// The code of a refusal, if `error` is one.
fn refused_code(error: &ClientError) -> Option<u16> {
    match error {
        ClientError::Refused { refusal, .. } => Some(refusal.reply.code),
        _ => None,
    }
}

/// Finds out what the command in doubt did and brings the model up to date.
async fn settle(
    session: &mut Session,
    model: &mut Model,
    doubt: &Doubt,
    shared: &Shared,
) -> Result<(), Failure> {
    match doubt {
        Doubt::SetUp => {
            for dir in [model.dir.clone(), model.sub()] {
                match session.mkdir(&path(&dir)).await {
                    Ok(()) => {}
                    Err(error) if refused_code(&error) == Some(550) => {}
                    Err(error) => return Err(error.into()),
                }
            }
            Ok(())
        }
        Doubt::Upload {
            path: name,
            content,
            sent,
        } => {
            resume(session, model, name, content, *sent, shared).await?;
            Ok(())
        }
        Doubt::Delete { path: name } => {
            let before = model.content(name);
            let now = hash_of(session, name).await?;
            if now.is_some() && now != before.as_ref().map(|c| c.sha.clone()) {
                return Err(Failure::Mismatch(format!(
                    "after a DELETE in doubt {name} holds neither its old content nor nothing"
                )));
            }
            if now.is_none() {
                model.files.insert(name.clone(), None);
            }
            Ok(())
        }
        Doubt::Rename { from, to } => {
            let (old_from, old_to) = (model.content(from), model.content(to));
            let sha = |c: &Option<Content>| c.as_ref().map(|c| c.sha.clone());
            let now = (hash_of(session, from).await?, hash_of(session, to).await?);
            if now == (sha(&old_from), sha(&old_to)) {
                Ok(())
            } else if now == (None, sha(&old_from)) {
                model.files.insert(to.clone(), old_from);
                model.files.insert(from.clone(), None);
                Ok(())
            } else {
                Err(Failure::Mismatch(format!(
                    "after a RENAME {from} -> {to} in doubt, neither both old files nor the moved one are there"
                )))
            }
        }
        Doubt::ScratchDir => {
            match session.stat(&path(&model.scratch())).await {
                Ok(status) => model.scratch_dir = status.kind == EntryKind::Directory,
                Err(error) if refused_code(&error) == Some(550) => model.scratch_dir = false,
                Err(error) => return Err(error.into()),
            }
            Ok(())
        }
    }
}

/// `HASH path`, `None` for no such file.
async fn hash_of(session: &mut Session, name: &str) -> Result<Option<String>, Failure> {
    match session.hash(&path(name)).await {
        Ok(sha) => Ok(Some(sha)),
        Err(error) if refused_code(&error) == Some(550) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// RESUMEs the upload of `content` as `name`, which may have been cut after
/// `sent` bytes, and checks the result by HASH.
async fn resume(
    session: &mut Session,
    model: &mut Model,
    name: &str,
    content: &Content,
    sent: u64,
    shared: &Shared,
) -> Result<(), Failure> {
    let data = content.bytes();
    let started = Instant::now();
    let mut tries = 0;
    let kept = loop {
        match session
            .resume(&path(name), content.size, &mut &data[..], &mut ())
            .await
        {
            Ok(kept) => break kept,
            Err(error) if refused_code(&error) == Some(450) && tries < BUSY_RETRIES => {
                tries += 1;
                shared.busy_retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(error.into()),
        }
    };
    if kept > sent {
        return Err(Failure::Mismatch(format!(
            "RESUME {} {name}: the server kept {kept} bytes of an upload cut after {sent}",
            content.size
        )));
    }
    shared
        .bytes_up
        .fetch_add(content.size - kept, Ordering::Relaxed);
    if kept > 0 {
        shared.resumes_with_kept.fetch_add(1, Ordering::Relaxed);
        shared.kept_bytes.fetch_add(kept, Ordering::Relaxed);
    }
    let took = started.elapsed();
    // From here the file is the new content, whatever the HASH says.
    model.files.insert(name.to_owned(), Some(content.clone()));
    let sha = session.hash(&path(name)).await?;
    if sha != content.sha {
        return Err(Failure::Mismatch(format!(
            "RESUME {} {name} (kept {kept}): HASH {sha}, sent {}",
            content.size, content.sha
        )));
    }
    shared.done(Op::Resume, took);
    Ok(())
}

/// Picks and runs one command.
async fn step(session: &mut Session, model: &mut Model, rng: &mut Rng, shared: &Shared) -> Outcome {
    let existing = model.existing();
    let roll = rng.between(0, 99);
    let large = (62..=65).contains(&roll);
    let op = match roll {
        0..=13 => Op::List,
        14..=25 => Op::Stat,
        26..=33 => Op::Hash,
        34..=45 => Op::Read,
        46..=61 => Op::Store,
        62..=65 if rng.chance(50) => Op::StoreCut,
        62..=65 => Op::Store,
        66..=77 if rng.chance(15) => Op::RetrieveCut,
        66..=77 => Op::Retrieve,
        78..=85 => Op::Rename,
        86..=91 => Op::Delete,
        92..=96 => Op::MkdirRmdir,
        _ => Op::Noop,
    };
    let needs_a_file = !matches!(
        op,
        Op::List | Op::Store | Op::StoreCut | Op::MkdirRmdir | Op::Noop
    );
    let op = if needs_a_file && existing.is_empty() {
        Op::Store
    } else {
        op
    };
    let chosen = if existing.is_empty() {
        String::new()
    } else {
        rng.pick(&existing).clone()
    };
    let started = Instant::now();
    let after = match op {
        Op::List => list(session, model, rng).await?,
        Op::Stat => stat(session, model, &chosen).await?,
        Op::Hash => hash(session, model, &chosen).await?,
        Op::Read => read(session, model, &chosen, rng, shared).await?,
        Op::Store => {
            let size = if large {
                rng.between(LARGE_MIN, LARGE_MAX)
            } else if rng.chance(5) {
                0
            } else {
                rng.between(1, SMALL_MAX)
            };
            store(session, model, rng, size, shared).await?
        }
        Op::StoreCut => store_cut(session, model, rng, shared).await?,
        Op::Retrieve => retrieve(session, model, &chosen, None, shared).await?,
        Op::RetrieveCut => {
            let name = chosen.clone();
            let size = model.content(&name).map_or(0, |c| c.size);
            let cut_at = rng.between(0, size / 2);
            retrieve(session, model, &name, Some(cut_at), shared).await?
        }
        Op::Rename => {
            let from = chosen.clone();
            let targets: Vec<String> = model
                .files
                .keys()
                .filter(|p| **p != from)
                .cloned()
                .collect();
            let to = rng.pick(&targets).clone();
            rename(session, model, &from, &to).await?
        }
        Op::Delete => delete(session, model, &chosen).await?,
        Op::MkdirRmdir => mkdir_rmdir(session, model).await?,
        // RESUME only settles a doubt; never picked here.
        Op::Noop | Op::Resume => {
            session.noop().await?;
            After::Open
        }
    };
    shared.done(op, started.elapsed());
    Ok(after)
}

async fn list(session: &mut Session, model: &Model, rng: &mut Rng) -> Outcome {
    let dir = if rng.chance(50) {
        model.dir.clone()
    } else {
        model.sub()
    };
    let entries = session.list(Some(&path(&dir))).await?;
    let mut expected: Vec<(String, Option<u64>)> = model
        .files
        .iter()
        .filter_map(|(name, content)| {
            let (parent, leaf) = name.rsplit_once('/')?;
            let size = content.as_ref()?.size;
            (parent == dir).then(|| (leaf.to_owned(), Some(size)))
        })
        .collect();
    if dir == model.dir {
        expected.push(("sub".to_owned(), None));
        if model.scratch_dir {
            expected.push(("tmp".to_owned(), None));
        }
    }
    expected.sort();
    let mut listed: Vec<(String, Option<u64>)> = entries
        .iter()
        .map(|entry| {
            let size = match entry.kind {
                EntryKind::File { size } => Some(size),
                EntryKind::Directory => None,
            };
            (entry.name.as_str().to_owned(), size)
        })
        .collect();
    listed.sort();
    if listed != expected {
        return Err(Failure::Mismatch(format!(
            "LIST {dir}: {listed:?}, expected {expected:?}"
        )));
    }
    Ok(After::Open)
}

async fn stat(session: &mut Session, model: &Model, name: &str) -> Outcome {
    let status = session.stat(&path(name)).await?;
    let size = model.content(name).map_or(0, |c| c.size);
    if status.kind != (EntryKind::File { size }) {
        return Err(Failure::Mismatch(format!(
            "STAT {name}: {:?}, expected a file of {size} bytes",
            status.kind
        )));
    }
    Ok(After::Open)
}

async fn hash(session: &mut Session, model: &Model, name: &str) -> Outcome {
    let sha = session.hash(&path(name)).await?;
    let expected = model.content(name).map(|c| c.sha).unwrap_or_default();
    if sha != expected {
        return Err(Failure::Mismatch(format!(
            "HASH {name}: {sha}, expected {expected}"
        )));
    }
    Ok(After::Open)
}

async fn read(
    session: &mut Session,
    model: &Model,
    name: &str,
    rng: &mut Rng,
    shared: &Shared,
) -> Outcome {
    let content = model.content(name).expect("an existing file");
    let offset = rng.between(0, content.size);
    let length = rng.between(0, READ_MAX);
    let mut got = Vec::new();
    session
        .read(&path(name), offset, length, &mut got, &mut ())
        .await?;
    shared
        .bytes_down
        .fetch_add(got.len() as u64, Ordering::Relaxed);
    let data = content.bytes();
    let end = (offset + length).min(content.size) as usize;
    if got != data[offset as usize..end] {
        return Err(Failure::Mismatch(format!(
            "READ {offset} {length} {name}: {} bytes that differ from the {} written there",
            got.len(),
            end - offset as usize
        )));
    }
    Ok(After::Open)
}

fn upload_target(model: &Model, rng: &mut Rng) -> String {
    let paths: Vec<String> = model.files.keys().cloned().collect();
    rng.pick(&paths).clone()
}

async fn store(
    session: &mut Session,
    model: &mut Model,
    rng: &mut Rng,
    size: u64,
    shared: &Shared,
) -> Outcome {
    let name = upload_target(model, rng);
    let (content, data) = Content::make(size, rng.next());
    match session
        .store(&path(&name), size, &mut &data[..], &mut ())
        .await
    {
        Ok(()) => {
            shared.bytes_up.fetch_add(size, Ordering::Relaxed);
            model.files.insert(name, Some(content));
            Ok(After::Open)
        }
        Err(error) if error.is_fatal() => {
            model.doubt = Some(Doubt::Upload {
                path: name,
                content,
                sent: size,
            });
            Err(Failure::Lost(error))
        }
        Err(error) => Err(error.into()),
    }
}

/// A large STORE whose connection the client drops part way, as a killed
/// client's is dropped; continued by RESUME on the next connection.
async fn store_cut(
    session: &mut Session,
    model: &mut Model,
    rng: &mut Rng,
    shared: &Shared,
) -> Outcome {
    let name = upload_target(model, rng);
    let size = rng.between(LARGE_MIN, LARGE_MAX);
    let (content, data) = Content::make(size, rng.next());
    let cut_at = rng.between(1, size - 1);
    let (cut, on_cut) = oneshot::channel();
    let mut source = CutSource {
        data: &data,
        at: 0,
        cut_at: cut_at as usize,
        cut: Some(cut),
    };
    let (target, mut progress) = (path(&name), ());
    let finished = tokio::select! {
        result = session.store(&target, size, &mut source, &mut progress) => Some(result),
        _ = on_cut => None,
    };
    shared
        .bytes_up
        .fetch_add(source.at as u64, Ordering::Relaxed);
    model.doubt = Some(Doubt::Upload {
        path: name.clone(),
        content,
        sent: cut_at,
    });
    match finished {
        None => Ok(After::Cut),
        Some(Err(error)) if error.is_fatal() => Err(Failure::Lost(error)),
        Some(Err(error)) => {
            model.doubt = None;
            Err(error.into())
        }
        Some(Ok(())) => Err(Failure::Unexpected(format!(
            "STORE {size} {name} ended with 226 after only {cut_at} bytes were sent"
        ))),
    }
}

async fn retrieve(
    session: &mut Session,
    model: &Model,
    name: &str,
    cut_at: Option<u64>,
    shared: &Shared,
) -> Outcome {
    let content = model.content(name).expect("an existing file");
    let (cut, on_cut) = oneshot::channel();
    let mut sink = HashSink {
        hasher: Sha256::new(),
        received: 0,
        cut_at: cut_at.unwrap_or(u64::MAX),
        cut: Some(cut),
    };
    let (target, mut progress) = (path(name), ());
    let finished = tokio::select! {
        result = session.retrieve(&target, &mut sink, &mut progress) => Some(result),
        _ = on_cut => None,
    };
    shared
        .bytes_down
        .fetch_add(sink.received, Ordering::Relaxed);
    let Some(result) = finished else {
        return Ok(After::Cut);
    };
    let count = result?;
    let sha = format!("{:x}", sink.hasher.finalize());
    if count != content.size || sha != content.sha {
        return Err(Failure::Mismatch(format!(
            "RETRIEVE {name}: {count} bytes hashing {sha}, expected {} hashing {}",
            content.size, content.sha
        )));
    }
    Ok(After::Open)
}

async fn rename(session: &mut Session, model: &mut Model, from: &str, to: &str) -> Outcome {
    match session.rename(&path(from), &path(to)).await {
        Ok(()) => {
            let moved = model.content(from);
            model.files.insert(to.to_owned(), moved);
            model.files.insert(from.to_owned(), None);
            Ok(After::Open)
        }
        Err(error) if error.is_fatal() => {
            model.doubt = Some(Doubt::Rename {
                from: from.to_owned(),
                to: to.to_owned(),
            });
            Err(Failure::Lost(error))
        }
        Err(error) => Err(error.into()),
    }
}

async fn delete(session: &mut Session, model: &mut Model, name: &str) -> Outcome {
    match session.delete(&path(name)).await {
        Ok(()) => {
            model.files.insert(name.to_owned(), None);
            Ok(After::Open)
        }
        Err(error) if error.is_fatal() => {
            model.doubt = Some(Doubt::Delete {
                path: name.to_owned(),
            });
            Err(Failure::Lost(error))
        }
        Err(error) => Err(error.into()),
    }
}

/// MKDIR of the scratch directory, then RMDIR of it (or only the RMDIR if
/// an earlier pair was cut between the two).
async fn mkdir_rmdir(session: &mut Session, model: &mut Model) -> Outcome {
    let scratch = path(&model.scratch());
    let result = async {
        if !model.scratch_dir {
            session.mkdir(&scratch).await?;
            model.scratch_dir = true;
        }
        session.rmdir(&scratch).await?;
        model.scratch_dir = false;
        Ok::<(), ClientError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(After::Open),
        Err(error) if error.is_fatal() => {
            model.doubt = Some(Doubt::ScratchDir);
            Err(Failure::Lost(error))
        }
        Err(error) => Err(error.into()),
    }
}

/// The bytes of an upload up to `cut_at`, then nothing ever again: the
/// upload hangs there until the client drops the connection.
struct CutSource<'a> {
    data: &'a [u8],
    at: usize,
    cut_at: usize,
    cut: Option<oneshot::Sender<()>>,
}

impl AsyncRead for CutSource<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.at >= this.cut_at {
            if let Some(cut) = this.cut.take() {
                let _ = cut.send(());
            }
            // Woken never: the select on the cut signal drops this read.
            return Poll::Pending;
        }
        let n = buf.remaining().min(this.cut_at - this.at);
        buf.put_slice(&this.data[this.at..this.at + n]);
        this.at += n;
        Poll::Ready(Ok(()))
    }
}

/// Hashes and counts a download; with a `cut_at`, takes that many bytes
/// and then stalls until the client drops the connection.
struct HashSink {
    hasher: Sha256,
    received: u64,
    cut_at: u64,
    cut: Option<oneshot::Sender<()>>,
}

impl AsyncWrite for HashSink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        if this.received >= this.cut_at {
            if let Some(cut) = this.cut.take() {
                let _ = cut.send(());
            }
            return Poll::Pending;
        }
        let n = buf.len().min((this.cut_at - this.received) as usize);
        this.hasher.update(&buf[..n]);
        this.received += n as u64;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_starts_empty_with_its_set_up_in_doubt() {
        let model = Model::new(7);
        assert_eq!(model.files.len(), 2 * SLOTS);
        assert!(model.files.keys().all(|p| p.starts_with("c7/")));
        assert!(model.existing().is_empty());
        assert!(matches!(model.doubt, Some(Doubt::SetUp)));
    }

    #[test]
    fn content_is_made_again_from_its_seed() {
        let (content, data) = Content::make(1000, 42);
        assert_eq!(content.bytes(), data);
        assert_eq!(content.sha, sha256_hex(&data));
        // (noise sets the lowest bit of its seed: 43 would be 42 again.)
        assert_ne!(Content::make(1000, 44).0.sha, content.sha);
    }

    #[test]
    fn the_generator_stays_in_range() {
        let mut rng = Rng(1);
        for _ in 0..1000 {
            let n = rng.between(3, 5);
            assert!((3..=5).contains(&n));
        }
    }
}
