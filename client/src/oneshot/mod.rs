//! The one-shot subcommands: connect (and log in), do one thing, say
//! goodbye. File and directory commands are here; the transfers, with their
//! options and trees, in `transfers`.

mod transfers;

use crate::cli::OneShot;
use crate::login;
use crate::password::PasswordSource;
use crate::table;
use ferry_client::{
    remote_path, resolve, ClientError, DownloadOptions, Partial, Session, SessionOptions,
    UploadMode, UploadOptions,
};
use std::io::Write;
use transfers::Scope;

/// What every one-shot command is run with.
pub struct Settings {
    /// Timeouts and limits of the session.
    pub options: SessionOptions,
    /// No status lines or progress bars.
    pub quiet: bool,
    /// Where a login password comes from.
    pub passwords: PasswordSource,
}

impl Settings {
    /// Prints a status line on standard error, unless quiet.
    fn status(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}

/// Runs one subcommand. Status lines go to standard error (unless quiet),
/// results to standard output.
pub async fn run(command: OneShot, settings: Settings) -> anyhow::Result<()> {
    let endpoint = command.endpoint().clone();
    let mut session = login::connect(&endpoint, settings.options.clone(), |account| {
        settings.passwords.may_send_to(&endpoint.target, account)?;
        settings.passwords.get(account)
    })
    .await?;
    let outcome = run_on(&mut session, command, &settings).await;
    let _ = session.quit().await;
    outcome
}

/// Runs `command` on an open session.
async fn run_on(
    session: &mut Session,
    command: OneShot,
    settings: &Settings,
) -> anyhow::Result<()> {
    match command {
        OneShot::Ls {
            dir, bytes, names, ..
        } => {
            let dir = dir.as_deref().map(|dir| resolve(None, dir)).transpose()?;
            let dir = dir.flatten();
            let entries = session.list(dir.as_ref()).await?;
            let text = if names {
                entries
                    .iter()
                    .map(|e| format!("{}{}\n", e.name, if e.is_dir() { "/" } else { "" }))
                    .collect()
            } else {
                table::render_in(dir.as_ref().map(|dir| dir.as_str()), &entries, bytes)
            };
            print(&text)?;
        }
        OneShot::Get {
            path,
            output,
            force,
            verify,
            continue_partial,
            recursive,
            ..
        } => {
            let partial = if continue_partial {
                Partial::Keep
            } else {
                Partial::Discard
            };
            let options = DownloadOptions {
                overwrite: force,
                verify,
                partial,
            };
            let scope = Scope::from_recursive(recursive);
            transfers::get(session, &path, output.as_deref(), options, scope, settings).await?;
        }
        OneShot::Put {
            path,
            as_path,
            verify,
            resume,
            recursive,
            ..
        } => {
            let mode = if resume {
                UploadMode::Resume
            } else {
                UploadMode::Store
            };
            let options = UploadOptions { verify, mode };
            let scope = Scope::from_recursive(recursive);
            transfers::put(session, &path, as_path.as_deref(), options, scope, settings).await?;
        }
        OneShot::Rm { path, .. } => {
            let path = remote_path(&path)?;
            session.delete(&path).await?;
            settings.status(&format!("Deleted \"{path}\""));
        }
        OneShot::Mkdir { path, .. } => {
            let path = remote_path(&path)?;
            session.mkdir(&path).await?;
            settings.status(&format!("Created the directory \"{path}\""));
        }
        OneShot::Rmdir { path, .. } => {
            let path = remote_path(&path)?;
            session.rmdir(&path).await?;
            settings.status(&format!("Removed the directory \"{path}\""));
        }
        OneShot::Mv { from, to, .. } => {
            let (from, to) = (remote_path(&from)?, remote_path(&to)?);
            session.rename(&from, &to).await?;
            settings.status(&format!("Renamed \"{from}\" to \"{to}\""));
        }
        OneShot::Stat { path, .. } => {
            let path = remote_path(&path)?;
            let status = session.stat(&path).await?;
            print(&format!(
                "{}\n",
                table::describe_status(path.as_str(), &status)
            ))?;
        }
        OneShot::Hash { path, .. } => {
            let path = remote_path(&path)?;
            let digest = session.hash(&path).await?;
            print(&format!("{digest}  {path}\n"))?;
        }
    }
    Ok(())
}

/// Writes to standard output without panicking. A reader that went away
/// early (`ferry ls … | head -1`) is not a failure worth a message.
fn print(text: &str) -> Result<(), ClientError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(ClientError::Output { source: error })
        }
        _ => Ok(()),
    }
}
