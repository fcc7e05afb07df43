//! RETRIEVE and STORE at the prompt. Both offer to go on where a cut-off
//! transfer stopped: a download always goes through its hidden part file
//! (kept on a cut, continued with READ the next time), and an upload cut
//! off on this prompt is offered again as RESUME, which a server that kept
//! nothing answers by taking the whole file, so saying yes is never wrong.

use super::{confirm, parts, Answer, Failure, Prompt, PromptEditor};
use crate::progress::TransferBar;
use crate::summary;
use crate::table::{self, human_size};
use ferry_client::{
    download, download_path, part_path, upload, upload_name, ClientError, Destination,
    DownloadOptions, Partial, UploadMode, UploadOptions,
};
use std::path::Path;

impl Prompt<'_> {
    /// RETRIEVE: downloads into the current local directory, asking before
    /// replacing a file and before continuing a kept part.
    pub(super) fn retrieve(
        &mut self,
        typed: &str,
        editor: &mut PromptEditor,
    ) -> Result<(), Failure> {
        let remote = self.open()?.cwd.resolve_entry(typed)?;
        let path = download_path(&remote, None);
        let mut overwrite = false;
        if path.symlink_metadata().is_ok() {
            if !self.interactive {
                return Err(ClientError::LocalExists { path }.into());
            }
            let question = format!("{} exists. Replace it? [y/N] ", path.display());
            if !confirm(editor, &question, Answer::No) {
                println!(
                    "Kept the existing {}; nothing was downloaded.",
                    path.display()
                );
                return Ok(());
            }
            overwrite = true;
        }
        let part = part_path(&path);
        if let Ok(metadata) = part.metadata() {
            let kept = human_size(metadata.len());
            let question = format!(
                "A cut-off download ({kept}) is kept in {}. Continue it? [Y/n] ",
                part.display()
            );
            let unattended = format!(
                "Continuing the cut-off download ({kept}) kept in {}.",
                part.display()
            );
            if !self.offer_to_continue(editor, &question, &unattended) {
                std::fs::remove_file(&part).map_err(|source| ClientError::Local {
                    action: "remove",
                    path: part.clone(),
                    source,
                })?;
            }
        }
        let options = DownloadOptions {
            overwrite,
            verify: self.settings.verify,
            partial: Partial::Keep,
        };
        let mut bar = TransferBar::new(remote.as_str(), !self.settings.quiet);
        let mut connection = self.open()?;
        let (session, _) = parts(&mut connection)?;
        let destination = Destination::File(path);
        let done = Self::cancellable(
            self.runtime,
            download(session, &remote, &destination, &options, &mut bar),
        )?;
        drop(bar);
        let done = done.inspect_err(|error| {
            if let ClientError::DownloadCut { .. } = error {
                eprintln!("(CONNECT again and RETRIEVE it to continue.)");
            }
        })?;
        let shown = table::terminal_safe(remote.as_str());
        println!("{}", summary::downloaded(&shown, &done));
        Ok(())
    }

    /// STORE: uploads a local file into the working directory, offering
    /// RESUME for one cut off earlier on this prompt.
    pub(super) fn store(&mut self, path: &Path, editor: &mut PromptEditor) -> Result<(), Failure> {
        let name = upload_name(path)?;
        let remote = {
            let connection = self.open()?;
            match connection.cwd.path() {
                Some(dir) => dir.join(&name).map_err(|error| ClientError::InvalidName {
                    name: format!("{dir}/{name}"),
                    reason: error.to_string(),
                })?,
                None => name.into(),
            }
        };
        let key = (path.to_owned(), remote.to_string());
        let mut mode = UploadMode::Store;
        if self.cut_uploads.contains(&key) {
            let question = format!(
                "The upload of {} was cut off. Resume it? [Y/n] ",
                path.display()
            );
            let unattended = format!(
                "Resuming the upload of {} that was cut off.",
                path.display()
            );
            if self.offer_to_continue(editor, &question, &unattended) {
                mode = UploadMode::Resume;
            }
        }
        let options = UploadOptions {
            verify: self.settings.verify,
            mode,
        };
        let mut bar = TransferBar::new(remote.as_str(), !self.settings.quiet);
        let done = {
            let mut connection = self.open()?;
            let (session, _) = parts(&mut connection)?;
            Self::cancellable(
                self.runtime,
                upload(session, path, &remote, &options, &mut bar),
            )
        };
        drop(bar);
        let done = match done {
            Ok(Ok(done)) => done,
            Ok(Err(error)) if error.is_cut() => {
                self.cut_uploads.insert(key);
                eprintln!("(CONNECT again and STORE it again to resume the upload.)");
                return Err(error.into());
            }
            Err(Failure::Interrupted) => {
                self.cut_uploads.insert(key);
                return Err(Failure::Interrupted);
            }
            Ok(Err(error)) => return Err(error.into()),
            Err(other) => return Err(other),
        };
        self.cut_uploads.remove(&key);
        let shown = table::terminal_safe(remote.as_str());
        println!("{}", summary::uploaded(path, &shown, &done));
        Ok(())
    }

    /// Offers to go on with a cut-off transfer: asks `question` (an empty
    /// answer is yes), or with nobody at the prompt prints `unattended` and
    /// goes on, since going on is never wrong (see the module comment).
    fn offer_to_continue(
        &self,
        editor: &mut PromptEditor,
        question: &str,
        unattended: &str,
    ) -> bool {
        if self.interactive {
            confirm(editor, question, Answer::Yes)
        } else {
            println!("{unattended}");
            true
        }
    }
}
