//! Tab completion at the `ferry>` prompt, as rustyline's helper: which word
//! is being completed is decided in [`crate::prompt`]; this only fetches the
//! candidates and shows them by their last path component.

use crate::prompt::{self, CompletionKind};
use crate::table;
use rustyline::completion::{Completer, Pair};
use rustyline::{Context, Helper, Highlighter, Hinter, Validator};
use std::sync::{Arc, Mutex};

/// The remote file names last seen, shared with the completer.
pub type NameCache = Arc<Mutex<Vec<String>>>;

/// Tab completion: commands, remote names (from the last listing) and local paths.
#[derive(Helper, Hinter, Highlighter, Validator)]
pub struct PromptHelper {
    names: NameCache,
}

impl PromptHelper {
    /// A completer reading remote names from `names`.
    pub fn new(names: NameCache) -> PromptHelper {
        PromptHelper { names }
    }
}

impl Completer for PromptHelper {
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
            CompletionKind::RemoteName => {
                let names = self.names.lock().map(|n| n.clone()).unwrap_or_default();
                prompt::complete_remote(word, &names)
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

    #[test]
    fn completion_lists_show_base_names() {
        assert_eq!(display_name("dir/sub/file.txt"), "file.txt");
        assert_eq!(display_name("dir/sub/"), "sub/");
        assert_eq!(display_name("RETRIEVE "), "RETRIEVE");
        assert_eq!(display_name("a b"), "a b");
    }
}
