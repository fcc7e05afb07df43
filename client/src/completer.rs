//! Tab completion at the `ferry>` prompt, as rustyline's helper: which word
//! is being completed is decided in [`crate::prompt`]; this fetches the
//! candidates and shows them by their last path component.
//!
//! Remote candidates come from a `LIST` of the directory being typed, sent
//! on the prompt's own connection at the moment Tab is pressed: completion
//! runs while no command does (the line is still being edited), and the
//! protocol lists one directory per command, so going on into `a/b/` is
//! one more LIST rather than a cache that could be stale.

use crate::connection::Shared;
use crate::prompt::{self, CompletionKind};
use crate::table;
use ferry_proto::ListingEntry;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use tokio::runtime::Runtime;

/// Tab completion: commands, remote paths (listed live) and local paths.
pub struct PromptHelper<'rt> {
    runtime: &'rt Runtime,
    connection: Shared,
}

impl<'rt> PromptHelper<'rt> {
    /// A completer that lists remote directories on `connection`.
    pub fn new(runtime: &'rt Runtime, connection: Shared) -> PromptHelper<'rt> {
        PromptHelper {
            runtime,
            connection,
        }
    }

    /// The entries of the remote directory typed as `dir_part` (relative to
    /// the working directory), or none when that cannot be listed now.
    fn list(&self, dir_part: &str) -> Vec<ListingEntry> {
        // Borrowed already: a command is asking a question (say, "Replace
        // it?"); nothing is sent on its connection in between.
        let Ok(mut connection) = self.connection.try_borrow_mut() else {
            return Vec::new();
        };
        let dir = if dir_part.is_empty() {
            connection.cwd.path().cloned()
        } else {
            match connection.cwd.resolve(dir_part) {
                Ok(dir) => dir,
                Err(_) => return Vec::new(),
            }
        };
        let Some(session) = connection.session.as_mut() else {
            return Vec::new();
        };
        self.runtime
            .block_on(session.list(dir.as_ref()))
            .unwrap_or_default()
    }
}

impl Completer for PromptHelper<'_> {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let (start, kind) = prompt::completion_context(before);
        let word = &before[start..];
        let candidates = match kind {
            CompletionKind::Command => prompt::complete_command(word),
            CompletionKind::RemotePath | CompletionKind::RemoteDir => {
                let (dir_part, prefix) = prompt::split_remote(word);
                let entries = self.list(dir_part);
                prompt::complete_remote(dir_part, prefix, &entries, &kind)
            }
            CompletionKind::LocalPath => prompt::complete_local(word),
            CompletionKind::Nothing => Vec::new(),
        };
        let pairs = candidates
            .into_iter()
            .map(|replacement| Pair {
                display: table::terminal_safe(&display_name(&replacement)),
                replacement,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for PromptHelper<'_> {
    type Hint = String;
}

impl Highlighter for PromptHelper<'_> {}

impl Validator for PromptHelper<'_> {}

impl Helper for PromptHelper<'_> {}

/// The last path component of a candidate, as listed under the prompt.
fn display_name(candidate: &str) -> String {
    let trimmed = candidate.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(slash) => candidate[slash + 1..].to_owned(),
        None => candidate.trim_end().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Connection;
    use ferry_client::{RemoteDir, Session, SessionOptions, Target};
    use rustyline::history::DefaultHistory;

    /// The replacements Tab offers for `line` with the cursor at its end.
    fn tab(helper: &PromptHelper<'_>, line: &str) -> (usize, Vec<String>) {
        let history = DefaultHistory::new();
        let (start, pairs) = helper
            .complete(line, line.len(), &Context::new(&history))
            .unwrap();
        (
            start,
            pairs.into_iter().map(|pair| pair.replacement).collect(),
        )
    }

    #[test]
    fn remote_paths_complete_in_any_directory_of_a_real_server() {
        let server = ferry_testkit::TestServer::start_on_thread();
        std::fs::create_dir_all(server.path("docs/deep dir")).unwrap();
        server.put_file("docs/deep dir/notes.txt", b"x");
        server.put_file("docs/draft.txt", b"x");
        server.put_file("docs/readme", b"x");
        server.put_file("data.bin", b"x");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let target = Target::parse(&server.target()).unwrap();
        let session = runtime
            .block_on(Session::connect(&target, SessionOptions::default()))
            .unwrap();
        let connection = Shared::new(std::cell::RefCell::new(Connection {
            session: Some(session),
            cwd: RemoteDir::home(),
            target: Some(target.clone()),
        }));
        let helper = PromptHelper::new(&runtime, connection.clone());

        assert_eq!(
            tab(&helper, "get d"),
            (4, vec!["data.bin".into(), "docs/".into()])
        );
        assert_eq!(
            tab(&helper, "RETRIEVE docs/d"),
            (9, vec!["docs/deep dir/".into(), "docs/draft.txt".into()])
        );
        assert_eq!(
            tab(&helper, "hash docs/deep dir/"),
            (5, vec!["docs/deep dir/notes.txt".into()])
        );
        assert_eq!(tab(&helper, "cd docs/"), (3, vec!["docs/deep dir/".into()]));
        assert_eq!(
            tab(&helper, "rename data.bin docs/r"),
            (16, vec!["docs/readme".into()])
        );
        // Relative to the working directory, and through `..` and `/`.
        connection.borrow_mut().cwd = RemoteDir::home().join("docs").unwrap();
        assert_eq!(tab(&helper, "stat re"), (5, vec!["readme".into()]));
        assert_eq!(tab(&helper, "stat ../da"), (5, vec!["../data.bin".into()]));
        assert_eq!(tab(&helper, "stat /da"), (5, vec!["/data.bin".into()]));
        assert_eq!(tab(&helper, "stat nowhere/x"), (5, Vec::<String>::new()));
        // While a command holds the connection, Tab offers nothing rather than waiting.
        let held = connection.borrow_mut();
        assert_eq!(tab(&helper, "stat re"), (5, Vec::<String>::new()));
        drop(held);
        assert!(connection.borrow().session.as_ref().unwrap().is_usable());
    }

    #[test]
    fn completion_lists_show_base_names() {
        assert_eq!(display_name("dir/sub/file.txt"), "file.txt");
        assert_eq!(display_name("dir/sub/"), "sub/");
        assert_eq!(display_name("RETRIEVE "), "RETRIEVE");
        assert_eq!(display_name("a b"), "a b");
    }
}
