//! The one-shot subcommands: connect, do one thing, say goodbye.

use crate::cli::OneShot;
use crate::progress::TransferBar;
use crate::table::{self, human_size};
use ferry_client::{
    download, download_path, remote_name, upload, upload_name, ClientError, Destination, Session,
    SessionOptions,
};
use std::io::Write;
use std::path::Path;

/// Runs one subcommand. Status lines go to standard error (unless `quiet`),
/// results to standard output.
pub async fn run(
    command: OneShot,
    options: SessionOptions,
    quiet: bool,
) -> Result<(), ClientError> {
    let status = |line: String| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    match command {
        OneShot::Ls {
            target,
            bytes,
            names,
        } => {
            let mut session = Session::connect(&target, options).await?;
            let entries = session.list().await?;
            let text = if names {
                entries.iter().map(|e| format!("{}\n", e.name)).collect()
            } else {
                table::render(&entries, bytes)
            };
            print(&text)?;
            let _ = session.quit().await;
        }
        OneShot::Get {
            target,
            name,
            output,
            force,
            verify,
        } => {
            let name = remote_name(&name)?;
            let to_stdout = output.as_deref() == Some(Path::new("-"));
            let destination = if to_stdout {
                Destination::Stdout
            } else {
                Destination::File(download_path(&name, output.as_deref()))
            };
            // Naming a file with -o is consent to replace it; the default name is not.
            let overwrite = force || output.as_deref().is_some_and(|path| !path.is_dir());
            if let (Destination::File(path), false) = (&destination, overwrite) {
                if path.symlink_metadata().is_ok() {
                    return Err(ClientError::LocalExists { path: path.clone() });
                }
            }
            let mut session = Session::connect(&target, options).await?;
            let mut bar = TransferBar::new(name.as_str(), !quiet);
            let done = download(
                &mut session,
                &name,
                &destination,
                overwrite,
                verify,
                &mut bar,
            )
            .await?;
            drop(bar);
            let checked = if done.verified {
                ", SHA-256 verified"
            } else {
                ""
            };
            match &done.path {
                Some(path) => status(format!(
                    "Saved \"{name}\" to {} ({}{checked})",
                    path.display(),
                    human_size(done.bytes)
                )),
                None => status(format!(
                    "Wrote \"{name}\" to standard output ({}{checked})",
                    human_size(done.bytes)
                )),
            }
            let _ = session.quit().await;
        }
        OneShot::Put {
            target,
            path,
            as_name,
            verify,
        } => {
            let name = match as_name {
                Some(name) => remote_name(&name)?,
                None => upload_name(&path)?,
            };
            let mut session = Session::connect(&target, options).await?;
            let mut bar = TransferBar::new(name.as_str(), !quiet);
            let done = upload(&mut session, &path, &name, verify, &mut bar).await?;
            drop(bar);
            let checked = if done.verified {
                ", SHA-256 verified"
            } else {
                ""
            };
            status(format!(
                "Stored {} as \"{name}\" ({}{checked})",
                path.display(),
                human_size(done.bytes)
            ));
            let _ = session.quit().await;
        }
        OneShot::Rm { target, name } => {
            let name = remote_name(&name)?;
            let mut session = Session::connect(&target, options).await?;
            session.delete(&name).await?;
            status(format!("Deleted \"{name}\""));
            let _ = session.quit().await;
        }
        OneShot::Hash { target, name } => {
            let name = remote_name(&name)?;
            let mut session = Session::connect(&target, options).await?;
            let digest = session.hash(&name).await?;
            print(&format!("{digest}  {name}\n"))?;
            let _ = session.quit().await;
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
