//! What a line typed at the `ferry>` prompt means, and what Tab completes:
//! pure functions, kept apart from the terminal so they can be tested.

use ferry_client::Target;
use std::path::PathBuf;

/// A command typed at the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptCommand {
    /// `CONNECT <host> <port>`, `CONNECT <host>:<port>` or `CONNECT ws://…`.
    Connect(Target),
    /// `LIST`
    List,
    /// `RETRIEVE <file>`: download into the current directory.
    Retrieve(String),
    /// `STORE <local path>`: upload under the file's base name.
    Store(PathBuf),
    /// `DELETE <file>`
    Delete(String),
    /// `HASH <file>`
    Hash(String),
    /// `HELP`
    Help,
    /// `QUIT`
    Quit,
}

/// The prompt's commands: canonical name, accepted spellings, usage and a
/// one-line description (for `HELP` and Tab completion).
pub const COMMANDS: [(&str, &[&str], &str, &str); 8] = [
    (
        "CONNECT",
        &["CONNECT", "OPEN"],
        "CONNECT <host> <port>",
        "connect to a server (also <host>:<port> or a ws:// or wss:// bridge URL)",
    ),
    (
        "LIST",
        &["LIST", "LS"],
        "LIST",
        "list the files on the server",
    ),
    (
        "RETRIEVE",
        &["RETRIEVE", "RETR", "GET"],
        "RETRIEVE <file>",
        "download a file into the current directory",
    ),
    (
        "STORE",
        &["STORE", "STOR", "PUT"],
        "STORE <local path>",
        "upload a local file under its base name",
    ),
    (
        "DELETE",
        &["DELETE", "DELE", "RM"],
        "DELETE <file>",
        "delete a file on the server",
    ),
    (
        "HASH",
        &["HASH"],
        "HASH <file>",
        "show the SHA-256 of a file on the server",
    ),
    ("HELP", &["HELP", "?"], "HELP", "show this list"),
    (
        "QUIT",
        &["QUIT", "EXIT", "BYE"],
        "QUIT",
        "close the connection and leave (Ctrl-D too)",
    ),
];

/// The text `HELP` prints.
pub fn help_text() -> String {
    let width = COMMANDS.iter().map(|c| c.2.len()).max().unwrap_or(0);
    let mut out = String::from("Commands (case-insensitive):\n");
    for (_, _, usage, description) in COMMANDS {
        out.push_str(&format!("  {usage:<width$}  {description}\n"));
    }
    out.push_str(
        "File names are the rest of the line, spaces included; put a name in double quotes\n\
         to keep leading or trailing spaces. Tab completes commands, remote names and local paths.\n",
    );
    out
}

/// Parses one prompt line. `Ok(None)` for a blank line; `Err` holds a
/// message for the user.
pub fn parse_line(line: &str) -> Result<Option<PromptCommand>, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    let (word, rest) = match line.find(char::is_whitespace) {
        Some(at) => (&line[..at], line[at..].trim_start()),
        None => (line, ""),
    };
    let Some((command, _, usage, _)) = COMMANDS
        .iter()
        .find(|(_, spellings, _, _)| spellings.iter().any(|s| s.eq_ignore_ascii_case(word)))
    else {
        return Err(format!(
            "Unknown command {word:?}. Type HELP for the list of commands."
        ));
    };
    let usage = || format!("Usage: {usage}");
    let argument = || match unquote(rest) {
        "" => Err(usage()),
        argument => Ok(argument.to_owned()),
    };
    let no_argument = |command: PromptCommand| match rest {
        "" => Ok(Some(command)),
        _ => Err(format!(
            "{} takes no argument. {}",
            word.to_uppercase(),
            usage()
        )),
    };
    match *command {
        "CONNECT" => {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let target = match words.as_slice() {
                [target] => Target::parse(target),
                [host, port] => Target::from_host_and_port(host, port),
                _ => {
                    return Err(format!(
                        "{}, CONNECT <host>:<port> or CONNECT ws://<bridge>/ws",
                        usage()
                    ))
                }
            };
            target
                .map(|t| Some(PromptCommand::Connect(t)))
                .map_err(|e| e.to_string())
        }
        "LIST" => no_argument(PromptCommand::List),
        "HELP" => no_argument(PromptCommand::Help),
        "QUIT" => no_argument(PromptCommand::Quit),
        "RETRIEVE" => argument().map(|a| Some(PromptCommand::Retrieve(a))),
        "STORE" => argument().map(|a| Some(PromptCommand::Store(expand_home(&a)))),
        "DELETE" => argument().map(|a| Some(PromptCommand::Delete(a))),
        _ => argument().map(|a| Some(PromptCommand::Hash(a))),
    }
}

/// `"a name "` → `a name ` (only when the quotes enclose the whole argument).
fn unquote(argument: &str) -> &str {
    argument
        .strip_prefix('"')
        .and_then(|a| a.strip_suffix('"'))
        .unwrap_or(argument)
}

/// `~/x` → `$HOME/x`, as a shell would.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// What the word under the cursor is, for Tab completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionKind {
    /// A command name.
    Command,
    /// A file on the server.
    RemoteName,
    /// A local path.
    LocalPath,
    /// Nothing to complete.
    Nothing,
}

/// For the text before the cursor: where the word to complete starts (a
/// byte offset) and what kind of word it is.
pub fn completion_context(before_cursor: &str) -> (usize, CompletionKind) {
    let start = before_cursor.len() - before_cursor.trim_start().len();
    let line = &before_cursor[start..];
    let Some(space) = line.find(char::is_whitespace) else {
        return (start, CompletionKind::Command);
    };
    let word = &line[..space];
    let rest = &line[space..];
    let argument_start = start + space + (rest.len() - rest.trim_start().len());
    let kind = COMMANDS
        .iter()
        .find(|(_, spellings, _, _)| spellings.iter().any(|s| s.eq_ignore_ascii_case(word)))
        .map_or(CompletionKind::Nothing, |(command, ..)| match *command {
            "RETRIEVE" | "DELETE" | "HASH" => CompletionKind::RemoteName,
            "STORE" => CompletionKind::LocalPath,
            _ => CompletionKind::Nothing,
        });
    (argument_start, kind)
}

/// Command names starting with `prefix` (case-insensitively), upper-case,
/// each followed by a space.
pub fn complete_command(prefix: &str) -> Vec<String> {
    COMMANDS
        .iter()
        .filter(|(name, ..)| {
            name.len() >= prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix)
        })
        .map(|(name, ..)| format!("{name} "))
        .collect()
}

/// Remote names starting with `prefix`.
pub fn complete_remote<'a>(
    prefix: &str,
    names: impl IntoIterator<Item = &'a String>,
) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .cloned()
        .collect()
}

/// Local paths starting with `prefix`: entries of the directory part of
/// `prefix` (directories get a trailing `/`); hidden entries only when the
/// typed part starts with a dot.
pub fn complete_local(prefix: &str) -> Vec<String> {
    let (dir_part, file_part) = match prefix.rfind('/') {
        Some(slash) => prefix.split_at(slash + 1),
        None => ("", prefix),
    };
    let dir = if dir_part.is_empty() {
        PathBuf::from(".")
    } else {
        expand_home(dir_part)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if !name.starts_with(file_part)
                || (name.starts_with('.') && !file_part.starts_with('.'))
            {
                return None;
            }
            let is_dir = entry.path().is_dir();
            Some(format!("{dir_part}{name}{}", if is_dir { "/" } else { "" }))
        })
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> PromptCommand {
        parse_line(line).unwrap().unwrap()
    }

    fn tcp(host: &str, port: u16) -> PromptCommand {
        PromptCommand::Connect(Target::Tcp {
            host: host.into(),
            port,
        })
    }

    #[test]
    fn connect_forms() {
        assert_eq!(parse("CONNECT localhost 8888"), tcp("localhost", 8888));
        assert_eq!(parse("connect 127.0.0.1:9000"), tcp("127.0.0.1", 9000));
        assert_eq!(
            parse("  Connect   files.example   21  "),
            tcp("files.example", 21)
        );
        assert_eq!(parse("connect files.example"), tcp("files.example", 8888));
        assert_eq!(
            parse("CONNECT ws://127.0.0.1:8080/ws?target=127.0.0.1:8888"),
            PromptCommand::Connect(Target::WebSocket {
                url: "ws://127.0.0.1:8080/ws?target=127.0.0.1:8888".into()
            })
        );
        for bad in [
            "CONNECT",
            "CONNECT a b c",
            "CONNECT host port",
            "CONNECT host:0",
            "connect http://x",
        ] {
            let message = parse_line(bad).unwrap_err();
            assert!(!message.is_empty(), "{bad}");
        }
        assert!(parse_line("CONNECT")
            .unwrap_err()
            .contains("Usage: CONNECT <host> <port>"));
    }

    #[test]
    fn verbs_are_case_insensitive_and_arguments_keep_spaces() {
        assert_eq!(parse("list"), PromptCommand::List);
        assert_eq!(parse("LiSt"), PromptCommand::List);
        assert_eq!(
            parse("retrieve my file.txt"),
            PromptCommand::Retrieve("my file.txt".into())
        );
        assert_eq!(
            parse("RETR  名前.txt "),
            PromptCommand::Retrieve("名前.txt".into())
        );
        assert_eq!(
            parse("get \" padded \""),
            PromptCommand::Retrieve(" padded ".into())
        );
        assert_eq!(
            parse("Store ./a b.bin"),
            PromptCommand::Store(PathBuf::from("./a b.bin"))
        );
        assert_eq!(parse("dele x"), PromptCommand::Delete("x".into()));
        assert_eq!(parse("hash x"), PromptCommand::Hash("x".into()));
        assert_eq!(parse("help"), PromptCommand::Help);
        assert_eq!(parse("QUIT"), PromptCommand::Quit);
        assert_eq!(parse("exit"), PromptCommand::Quit);
        assert_eq!(parse_line("   "), Ok(None));
    }

    #[test]
    fn mistakes_get_explained() {
        assert_eq!(
            parse_line("FROB x").unwrap_err(),
            "Unknown command \"FROB\". Type HELP for the list of commands."
        );
        assert_eq!(
            parse_line("RETRIEVE").unwrap_err(),
            "Usage: RETRIEVE <file>"
        );
        assert_eq!(
            parse_line("store \"\"").unwrap_err(),
            "Usage: STORE <local path>"
        );
        assert!(parse_line("LIST extra")
            .unwrap_err()
            .starts_with("LIST takes no argument"));
    }

    #[test]
    fn completion_knows_what_is_under_the_cursor() {
        assert_eq!(completion_context(""), (0, CompletionKind::Command));
        assert_eq!(completion_context("  re"), (2, CompletionKind::Command));
        assert_eq!(
            completion_context("RETRIEVE my f"),
            (9, CompletionKind::RemoteName)
        );
        assert_eq!(
            completion_context("dele  x"),
            (6, CompletionKind::RemoteName)
        );
        assert_eq!(
            completion_context("store ./sr"),
            (6, CompletionKind::LocalPath)
        );
        assert_eq!(
            completion_context("connect lo"),
            (8, CompletionKind::Nothing)
        );
        assert_eq!(complete_command("re"), ["RETRIEVE "]);
        assert_eq!(complete_command("H"), ["HASH ", "HELP "]);
        assert_eq!(complete_command("xyz"), Vec::<String>::new());
        let names = vec!["a b.txt".to_owned(), "a c".to_owned(), "b".to_owned()];
        assert_eq!(complete_remote("a ", &names), ["a b.txt", "a c"]);
    }

    #[test]
    fn local_paths_complete_from_the_file_system() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report one.txt"), b"x").unwrap();
        std::fs::write(dir.path().join(".hidden"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("reports")).unwrap();
        let base = format!("{}/", dir.path().display());
        assert_eq!(
            complete_local(&format!("{base}rep")),
            [format!("{base}report one.txt"), format!("{base}reports/")]
        );
        assert_eq!(complete_local(&base).len(), 2);
        assert_eq!(
            complete_local(&format!("{base}.h")),
            [format!("{base}.hidden")]
        );
        assert!(complete_local("/no/such/dir/x").is_empty());
    }
}
