//! `get` and `put`: one file or, with `-r`, a whole tree; `--continue` and
//! `--resume` pick up what a cut-off transfer left.

use super::Settings;
use crate::progress::TransferBar;
use crate::summary;
use ferry_client::{
    download, download_path, download_tree, remote_path, resolve, upload, upload_name, upload_tree,
    ClientError, Destination, DownloadOptions, Partial, Session, UploadMode, UploadOptions,
};
use std::path::{Path, PathBuf};

/// One file, or a directory and everything in it (`-r`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    File,
    Tree,
}

impl Scope {
    /// The scope `-r` asks for.
    pub fn from_recursive(recursive: bool) -> Scope {
        if recursive {
            Scope::Tree
        } else {
            Scope::File
        }
    }
}

/// `get`: a file, or with `-r` a tree.
pub async fn get(
    session: &mut Session,
    typed: &str,
    output: Option<&Path>,
    mut options: DownloadOptions,
    scope: Scope,
    settings: &Settings,
) -> anyhow::Result<()> {
    match scope {
        Scope::Tree => get_tree(session, typed, output, &options, settings).await,
        Scope::File => {
            // Naming a file with -o is consent to replace it; the default name is not.
            options.overwrite |= output.is_some_and(|path| !path.is_dir());
            get_file(session, typed, output, &options, settings).await
        }
    }
}

/// `put`: a file, or with `-r` a tree.
pub async fn put(
    session: &mut Session,
    path: &Path,
    as_path: Option<&str>,
    options: UploadOptions,
    scope: Scope,
    settings: &Settings,
) -> anyhow::Result<()> {
    match scope {
        Scope::Tree => put_tree(session, path, as_path, &options, settings).await,
        Scope::File => put_file(session, path, as_path, &options, settings).await,
    }
}

/// `get PATH [-o OUTPUT]`.
async fn get_file(
    session: &mut Session,
    typed: &str,
    output: Option<&Path>,
    options: &DownloadOptions,
    settings: &Settings,
) -> anyhow::Result<()> {
    let remote = remote_path(typed)?;
    let destination = if output == Some(Path::new("-")) {
        Destination::Stdout
    } else {
        Destination::File(download_path(&remote, output))
    };
    if let (Destination::File(path), false) = (&destination, options.overwrite) {
        if path.symlink_metadata().is_ok() {
            return Err(ClientError::LocalExists { path: path.clone() }.into());
        }
    }
    let mut bar = TransferBar::new(remote.as_str(), !settings.quiet);
    let done = download(session, &remote, &destination, options, &mut bar).await;
    drop(bar);
    let hint = (options.partial == Partial::Discard)
        .then_some("nothing was kept (with --continue a cut-off download is kept and continued)");
    let done = done.map_err(|error| with_cut_hint(error, hint))?;
    settings.status(&summary::downloaded(remote.as_str(), &done));
    Ok(())
}

/// `get -r DIR [-o LOCAL_DIR]`: into LOCAL_DIR, by default the remote
/// directory's name here (the current directory for the home).
async fn get_tree(
    session: &mut Session,
    typed: &str,
    output: Option<&Path>,
    options: &DownloadOptions,
    settings: &Settings,
) -> anyhow::Result<()> {
    let remote = resolve(None, typed)?;
    let local = match (output, &remote) {
        (Some(output), _) => output.to_owned(),
        (None, Some(remote)) => PathBuf::from(remote.last_name().as_str()),
        (None, None) => PathBuf::from("."),
    };
    let mut bar = TransferBar::new(typed, !settings.quiet);
    let done = download_tree(session, remote.as_ref(), &local, options, &mut bar).await;
    drop(bar);
    let done = done?;
    settings.status(&format!(
        "Saved \"/{}\" to {} ({})",
        remote.as_ref().map_or("", |remote| remote.as_str()),
        local.display(),
        summary::tree(&done)
    ));
    Ok(())
}

/// `put FILE [--as PATH]`.
async fn put_file(
    session: &mut Session,
    path: &Path,
    as_path: Option<&str>,
    options: &UploadOptions,
    settings: &Settings,
) -> anyhow::Result<()> {
    // `--as dir/` (or `--as /`) puts the file into that directory under its own name.
    let remote = match as_path {
        Some(typed) if typed.ends_with('/') => {
            let name = upload_name(path)?;
            remote_path(&format!("{typed}{name}"))?
        }
        Some(typed) => remote_path(typed)?,
        None => upload_name(path)?.into(),
    };
    let mut bar = TransferBar::new(remote.as_str(), !settings.quiet);
    let done = upload(session, path, &remote, options, &mut bar).await;
    drop(bar);
    let hint = (options.mode == UploadMode::Store)
        .then_some("`ferry put --resume` continues it where the server kept the part");
    let done = done.map_err(|error| with_cut_hint(error, hint))?;
    settings.status(&summary::uploaded(path, remote.as_str(), &done));
    Ok(())
}

/// `put -r DIR [--as PATH]`: as PATH, by default the directory's name in
/// the home (`--as /` uploads into the home itself).
async fn put_tree(
    session: &mut Session,
    path: &Path,
    as_path: Option<&str>,
    options: &UploadOptions,
    settings: &Settings,
) -> anyhow::Result<()> {
    let remote = match as_path {
        Some(typed) => resolve(None, typed)?,
        None => Some(upload_name(path)?.into()),
    };
    let label = path.display().to_string();
    let mut bar = TransferBar::new(&label, !settings.quiet);
    let done = upload_tree(session, path, remote.as_ref(), options, &mut bar).await;
    drop(bar);
    let done = done?;
    for skipped in &done.skipped {
        settings.status(&format!(
            "Skipped {} (not a regular file or directory)",
            skipped.display()
        ));
    }
    settings.status(&format!(
        "Stored {} as \"/{}\" ({})",
        path.display(),
        remote.as_ref().map_or("", |remote| remote.as_str()),
        summary::tree(&done)
    ));
    Ok(())
}

/// `error`, followed by `hint` if the connection was cut: the flag that
/// picks the transfer up where it stopped.
fn with_cut_hint(error: ClientError, hint: Option<&str>) -> anyhow::Error {
    match hint {
        Some(hint) if error.is_cut() => anyhow::anyhow!("{error}; {hint}"),
        _ => error.into(),
    }
}
