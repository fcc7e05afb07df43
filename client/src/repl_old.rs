//! The interactive `ferry>` prompt: line editing, history and Tab
//! completion (rustyline), one session at a time.

use crate::completer::{NameCache, PromptHelper};
use crate::progress::TransferBar;
use crate::prompt::{self, PromptCommand};
use crate::table::{self, human_size};
use ferry_client::{
    download, download_path, remote_name, upload, upload_name, ClientError, Destination, Session,
    SessionOptions, Target,
};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};
use std::future::Future;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio::runtime::Runtime;

/// Prompt settings from the command line.
pub struct PromptSettings {
    /// Timeouts and limits for sessions.
    pub options: SessionOptions,
    /// Check every RETRIEVE and STORE with HASH.
    pub verify: bool,
    /// No progress bars.
    pub quiet: bool,
}

/// Whether the prompt goes on after a command.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

/// The prompt's state: at most one open session.
struct Prompt<'rt> {
    runtime: &'rt Runtime,
    settings: PromptSettings,
    session: Option<Session>,
    names: NameCache,
    interactive: bool,
    failures: usize,
}

/// Runs the prompt until QUIT or end of input. With standard input not a
/// terminal (a script piped in), the exit code is non-zero if any command failed.
pub fn run(
    runtime: &Runtime,
    initial: Option<Target>,
    settings: PromptSettings,
) -> anyhow::Result<ExitCode> {
    let interactive = std::io::stdin().is_terminal();
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .max_history_size(1000)?
        .build();
    let names = NameCache::default();
    let mut editor: Editor<PromptHelper, DefaultHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(PromptHelper::new(names.clone())));
    let history = history_path().filter(|_| interactive);
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut state = Prompt {
        runtime,
        settings,
        session: None,
        names,
        interactive,
        failures: 0,
    };
    if interactive {
        println!(
            "Ferry client {}. Type HELP for the commands, QUIT or Ctrl-D to leave.",
            env!("CARGO_PKG_VERSION")
        );
    }
    if let Some(target) = initial {
        state.execute(PromptCommand::Connect(target), &mut editor);
    }
    loop {
        match editor.readline("ferry> ") {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let flow = match prompt::parse_line(&line) {
                    Ok(None) => Flow::Continue,
                    Ok(Some(command)) => state.execute(command, &mut editor),
                    Err(message) => {
                        state.failures += 1;
                        eprintln!("{message}");
                        Flow::Continue
                    }
                };
                if flow == Flow::Quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => println!("(Type QUIT or press Ctrl-D to leave.)"),
            Err(ReadlineError::Eof) => {
                state.disconnect();
                break;
            }
            Err(error) => return Err(error.into()),
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    let failed = !state.interactive && state.failures > 0;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `$HOME/.ferry_history`.
fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".ferry_history"))
}

impl Prompt<'_> {
    /// Runs one prompt command and reports its failure, if any.
    fn execute(
        &mut self,
        command: PromptCommand,
        editor: &mut Editor<PromptHelper, DefaultHistory>,
    ) -> Flow {
        let outcome = match command {
            PromptCommand::Help => {
                print!("{}", prompt::help_text());
                Ok(())
            }
            PromptCommand::Quit => {
                self.disconnect();
                println!("Goodbye.");
                return Flow::Quit;
            }
            PromptCommand::Connect(target) => self.connect(target),
            PromptCommand::List => self.list(),
            PromptCommand::Retrieve(name) => self.retrieve(&name, editor),
            PromptCommand::Store(path) => self.store(&path),
            PromptCommand::Delete(name) => self.delete(&name),
            PromptCommand::Hash(name) => self.hash(&name),
        };
        if let Err(error) = outcome {
            self.failures += 1;
            self.report(error);
        }
        Flow::Continue
    }

    /// Prints a failure; drops the session if the failure closed it.
    fn report(&mut self, error: Failure) {
        match error {
            Failure::NotConnected => {
                eprintln!("Not connected. Connect first: CONNECT <host> <port> (or <host>:<port>, or a ws:// bridge URL).")
            }
            Failure::Interrupted => {
                self.session = None;
                eprintln!("Interrupted. The connection was closed; nothing partial was kept. CONNECT again to go on.");
            }
            Failure::Client(error) => {
                eprintln!("Error: {error}");
                if self.session.as_ref().is_some_and(|s| !s.is_usable()) {
                    self.session = None;
                    eprintln!("The connection is closed. Use CONNECT to connect again.");
                }
            }
        }
    }

    /// Runs `work` on the runtime; Ctrl-C abandons it (dropping it removes
    /// any temporary file and, with the session, the connection).
    fn cancellable<F: Future>(runtime: &Runtime, work: F) -> Result<F::Output, Failure> {
        runtime.block_on(async {
            tokio::select! {
                output = work => Ok(output),
                _ = tokio::signal::ctrl_c() => Err(Failure::Interrupted),
            }
        })
    }

    /// The open session, or the reason there is none.
    fn session(&mut self) -> Result<&mut Session, Failure> {
        self.session.as_mut().ok_or(Failure::NotConnected)
    }

    /// CONNECT: replaces any open session and fills the completion cache.
    fn connect(&mut self, target: Target) -> Result<(), Failure> {
        self.disconnect();
        let options = self.settings.options.clone();
        let session = Self::cancellable(self.runtime, Session::connect(&target, options))??;
        println!(
            "Connected to {}: {}",
            session.peer(),
            session.greeting().text
        );
        self.session = Some(session);
        // Fill the completion cache. A refusal is no reason to fail CONNECT,
        // but a connection that broke already is.
        let runtime = self.runtime;
        match Self::cancellable(runtime, self.session()?.list())? {
            Ok(entries) => {
                self.remember(entries.into_iter().map(|e| e.name.into_string()).collect())
            }
            Err(error) if error.is_fatal() => return Err(error.into()),
            Err(_) => {}
        }
        Ok(())
    }

    /// Says QUIT to the open session, if any, and forgets it.
    fn disconnect(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = Self::cancellable(self.runtime, session.quit());
        }
        self.remember(Vec::new());
    }

    /// LIST: prints the table and refreshes the completion cache.
    fn list(&mut self) -> Result<(), Failure> {
        let runtime = self.runtime;
        let entries = Self::cancellable(runtime, self.session()?.list())??;
        print!("{}", table::render(&entries, false));
        self.remember(entries.into_iter().map(|e| e.name.into_string()).collect());
        Ok(())
    }

    /// RETRIEVE: downloads into the current directory, asking before replacing a file.
    fn retrieve(
        &mut self,
        name: &str,
        editor: &mut Editor<PromptHelper, DefaultHistory>,
    ) -> Result<(), Failure> {
        let name = remote_name(name)?;
        self.session()?;
        let path = download_path(&name, None);
        let mut overwrite = false;
        if path.symlink_metadata().is_ok() {
            if !self.interactive {
                return Err(ClientError::LocalExists { path }.into());
            }
            if !confirm(
                editor,
                &format!("{} exists. Replace it? [y/N] ", path.display()),
            ) {
                println!(
                    "Kept the existing {}; nothing was downloaded.",
                    path.display()
                );
                return Ok(());
            }
            overwrite = true;
        }
        let (runtime, verify, quiet) = (self.runtime, self.settings.verify, self.settings.quiet);
        let session = self.session()?;
        let mut bar = TransferBar::new(name.as_str(), !quiet);
        let destination = Destination::File(path);
        let done = Self::cancellable(
            runtime,
            download(session, &name, &destination, overwrite, verify, &mut bar),
        )??;
        drop(bar);
        let checked = if done.verified {
            ", SHA-256 verified"
        } else {
            ""
        };
        let shown = done
            .path
            .as_deref()
            .unwrap_or(Path::new("-"))
            .display()
            .to_string();
        println!(
            "Saved \"{name}\" to {shown} ({}{checked})",
            human_size(done.bytes)
        );
        Ok(())
    }

    /// STORE: uploads a local file under its base name.
    fn store(&mut self, path: &Path) -> Result<(), Failure> {
        let name = upload_name(path)?;
        let (runtime, verify, quiet) = (self.runtime, self.settings.verify, self.settings.quiet);
        let session = self.session()?;
        let mut bar = TransferBar::new(name.as_str(), !quiet);
        let done = Self::cancellable(runtime, upload(session, path, &name, verify, &mut bar))??;
        drop(bar);
        let checked = if done.verified {
            ", SHA-256 verified"
        } else {
            ""
        };
        println!(
            "Stored {} as \"{name}\" ({}{checked})",
            path.display(),
            human_size(done.bytes)
        );
        if let Ok(mut names) = self.names.lock() {
            if !names.contains(&name.to_string()) {
                names.push(name.into_string());
                names.sort();
            }
        }
        Ok(())
    }

    /// DELETE: removes a file on the server.
    fn delete(&mut self, name: &str) -> Result<(), Failure> {
        let name = remote_name(name)?;
        let runtime = self.runtime;
        Self::cancellable(runtime, self.session()?.delete(&name))??;
        println!("Deleted \"{name}\"");
        if let Ok(mut names) = self.names.lock() {
            names.retain(|n| n != name.as_str());
        }
        Ok(())
    }

    /// HASH: prints the server's SHA-256 of a file.
    fn hash(&mut self, name: &str) -> Result<(), Failure> {
        let name = remote_name(name)?;
        let runtime = self.runtime;
        let digest = Self::cancellable(runtime, self.session()?.hash(&name))??;
        println!("{digest}  {name}");
        Ok(())
    }

    /// Replaces the remote names offered by Tab completion.
    fn remember(&self, names: Vec<String>) {
        if let Ok(mut cache) = self.names.lock() {
            *cache = names;
        }
    }
}

/// Asks a yes/no question; anything but y/yes is no.
fn confirm(editor: &mut Editor<PromptHelper, DefaultHistory>, question: &str) -> bool {
    matches!(editor.readline(question), Ok(answer) if matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// Why a prompt command did not complete.
enum Failure {
    /// The command needs a connection and there is none.
    NotConnected,
    /// Ctrl-C during the command.
    Interrupted,
    /// Anything the client library reports.
    Client(ClientError),
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Failure {
        Failure::Client(error)
    }
}
