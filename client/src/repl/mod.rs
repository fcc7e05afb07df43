//! The interactive `ferry>` prompt: line editing, history and Tab
//! completion (rustyline), one session at a time with its remote working
//! directory. The loop and the reporting are here; the commands, by job, in
//! `connect` (CONNECT, LOGIN), `files` (listing, directories, names) and
//! `transfers` (RETRIEVE and STORE, continued after a cut).

mod connect;
mod files;
mod transfers;

use crate::completer::PromptHelper;
use crate::connection::{Connection, Shared};
use crate::password::PasswordSource;
use crate::prompt::{self, PromptCommand};
use ferry_client::{ClientError, Endpoint, RemoteDir, Session, SessionOptions};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};
use std::cell::RefMut;
use std::collections::HashSet;
use std::future::Future;
use std::io::IsTerminal;
use std::path::PathBuf;
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
    /// Where a login password comes from.
    pub passwords: PasswordSource,
}

/// The line editor of the prompt.
type PromptEditor<'rt> = Editor<PromptHelper<'rt>, DefaultHistory>;

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
    connection: Shared,
    /// Uploads cut off on this prompt (local path, remote path): the next
    /// STORE of the same file offers RESUME.
    cut_uploads: HashSet<(PathBuf, String)>,
    interactive: bool,
    failures: usize,
}

/// Runs the prompt until QUIT or end of input. With standard input not a
/// terminal (a script piped in), the exit code is non-zero if any command failed.
pub fn run(
    runtime: &Runtime,
    initial: Option<Endpoint>,
    settings: PromptSettings,
) -> anyhow::Result<ExitCode> {
    let interactive = std::io::stdin().is_terminal();
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .max_history_size(1000)?
        .build();
    let connection = Shared::default();
    let mut editor: PromptEditor = Editor::with_config(config)?;
    editor.set_helper(Some(PromptHelper::new(runtime, connection.clone())));
    let history = history_path().filter(|_| interactive);
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut state = Prompt {
        runtime,
        settings,
        connection,
        cut_uploads: HashSet::new(),
        interactive,
        failures: 0,
    };
    if interactive {
        println!(
            "Ferry client {}. Type HELP for the commands, QUIT or Ctrl-D to leave.",
            env!("CARGO_PKG_VERSION")
        );
    }
    if let Some(endpoint) = initial {
        state.execute(PromptCommand::Connect(endpoint), &mut editor);
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
    fn execute(&mut self, command: PromptCommand, editor: &mut PromptEditor) -> Flow {
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
            PromptCommand::Connect(endpoint) => self.connect(endpoint, editor),
            PromptCommand::Login(user) => self.login(user, editor),
            PromptCommand::List(dir) => self.list(dir.as_deref()),
            PromptCommand::Cd(dir) => self.cd(dir.as_deref()),
            PromptCommand::Pwd => self.pwd(),
            PromptCommand::Retrieve(path) => self.retrieve(&path, editor),
            PromptCommand::Store(path) => self.store(&path, editor),
            PromptCommand::Delete(path) => self.delete(&path),
            PromptCommand::Stat(path) => self.stat(&path),
            PromptCommand::Hash(path) => self.hash(&path),
            PromptCommand::Mkdir(path) => self.mkdir(&path),
            PromptCommand::Rmdir(path) => self.rmdir(&path),
            PromptCommand::Rename(from, to) => self.rename(&from, &to),
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
                eprintln!("Not connected. Connect first: CONNECT <host> <port> (or [user@]<host>:<port>, or a ws:// bridge URL).")
            }
            Failure::Interrupted => {
                self.connection.borrow_mut().session = None;
                eprintln!("Interrupted. The connection was closed; CONNECT again to go on (a cut-off RETRIEVE or STORE continues where it stopped).");
            }
            Failure::Client(error) => {
                eprintln!("Error: {error}");
                let mut connection = self.connection.borrow_mut();
                if connection.session.as_ref().is_some_and(|s| !s.is_usable()) {
                    connection.session = None;
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

    /// The connection, borrowed for one command, if a session is open.
    fn open(&self) -> Result<RefMut<'_, Connection>, Failure> {
        let connection = self.connection.borrow_mut();
        if connection.session.is_none() {
            return Err(Failure::NotConnected);
        }
        Ok(connection)
    }

    /// Says QUIT to the open session, if any, and forgets it.
    fn disconnect(&mut self) {
        let session = self.connection.borrow_mut().session.take();
        if let Some(session) = session {
            let _ = Self::cancellable(self.runtime, session.quit());
        }
        let mut connection = self.connection.borrow_mut();
        connection.cwd = RemoteDir::home();
        connection.target = None;
    }
}

/// The session of a borrowed connection and its working directory.
fn parts(connection: &mut Connection) -> Result<(&mut Session, &RemoteDir), Failure> {
    let Connection { session, cwd, .. } = connection;
    Ok((session.as_mut().ok_or(Failure::NotConnected)?, cwd))
}

/// An answer to a yes/no question (also what an empty answer means).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Yes,
    No,
}

/// Asks a yes/no question; an empty answer is `default`, anything else
/// but y/yes is no.
fn confirm(editor: &mut PromptEditor, question: &str, default: Answer) -> bool {
    match editor.readline(question) {
        Ok(answer) => match answer.trim().to_lowercase().as_str() {
            "" => default == Answer::Yes,
            "y" | "yes" => true,
            _ => false,
        },
        Err(_) => false,
    }
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
