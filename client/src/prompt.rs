//! What a line typed at the `ferry>` prompt means, and what Tab completes:
//! pure functions, kept apart from the terminal so they can be tested.

use ferry_client::{Endpoint, Target};
use std::path::PathBuf;

/// A command typed at the prompt. Remote paths are as typed: relative to
/// the remote working directory, resolved by the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptCommand {
    /// `CONNECT [user@]<host> <port>`, `CONNECT [user@]<host>:<port>` or `CONNECT ws://…`.
    Connect(Endpoint),
    /// `LOGIN [user]`
    Login(Option<String>),
    /// `LIST [dir]`
    List(Option<String>),
    /// `CD [dir]`: no directory is the home.
    Cd(Option<String>),
    /// `PWD`
    Pwd,
    /// `RETRIEVE <path>`: download into the current local directory.
    Retrieve(String),
    /// `STORE <local path>`: upload into the remote working directory.
    Store(PathBuf),
    /// `DELETE <path>`
    Delete(String),
    /// `STAT <path>`
    Stat(String),
    /// `HASH <path>`
    Hash(String),
    /// `MKDIR <path>`
    Mkdir(String),
    /// `RMDIR <path>`
    Rmdir(String),
    /// `RENAME <from> <to>`
    Rename(String, String),
    /// `HELP`
    Help,
    /// `QUIT`
    Quit,
}

/// The prompt's commands: canonical name, accepted spellings, usage and a
/// one-line description (for `HELP` and Tab completion).
pub const COMMANDS: [(&str, &[&str], &str, &str); 15] = [
    (
        "CONNECT",
        &["CONNECT", "OPEN"],
        "CONNECT [user@]<host> <port>",
        "connect (and log in as user); also <host>:<port> or a ws:// or wss:// bridge URL",
    ),
    (
        "LOGIN",
        &["LOGIN", "USER"],
        "LOGIN [user]",
        "log in on the open connection (the password is asked without echo)",
    ),
    (
        "LIST",
        &["LIST", "LS", "DIR"],
        "LIST [dir]",
        "list a directory on the server (the working directory by default)",
    ),
    (
        "CD",
        &["CD", "CWD"],
        "CD [dir]",
        "change the remote working directory (.. goes up; no dir: the home)",
    ),
    ("PWD", &["PWD"], "PWD", "show the remote working directory"),
    (
        "RETRIEVE",
        &["RETRIEVE", "RETR", "GET"],
        "RETRIEVE <path>",
        "download a file into the current local directory",
    ),
    (
        "STORE",
        &["STORE", "STOR", "PUT"],
        "STORE <local path>",
        "upload a local file into the remote working directory",
    ),
    (
        "DELETE",
        &["DELETE", "DELE", "RM"],
        "DELETE <path>",
        "delete a file on the server",
    ),
    (
        "STAT",
        &["STAT"],
        "STAT <path>",
        "show whether a path is a file (and its size) or a directory",
    ),
    (
        "HASH",
        &["HASH"],
        "HASH <path>",
        "show the SHA-256 of a file on the server",
    ),
    (
        "MKDIR",
        &["MKDIR", "MKD"],
        "MKDIR <path>",
        "create a directory on the server",
    ),
    (
        "RMDIR",
        &["RMDIR", "RMD"],
        "RMDIR <path>",
        "remove an empty directory on the server",
    ),
    (
        "RENAME",
        &["RENAME", "MV"],
        "RENAME <from> <to>",
        "rename or move a file or directory (quote names with spaces)",
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
        "Paths are relative to the remote working directory (PWD); /path starts at the home.\n\
         A path is the rest of the line, spaces included; put it in double quotes to keep\n\
         leading or trailing spaces. RENAME takes two words: quote a name with spaces.\n\
         A cut-off RETRIEVE or STORE is continued by the same command after CONNECT.\n\
         Tab completes commands, remote paths (in any directory) and local paths.\n",
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
    let Some((command, _, usage, _)) = find_command(word) else {
        return Err(format!(
            "Unknown command {word:?}. Type HELP for the list of commands."
        ));
    };
    let usage = || format!("Usage: {usage}");
    let argument = || match unquote(rest) {
        "" => Err(usage()),
        argument => Ok(argument.to_owned()),
    };
    let optional = || match unquote(rest) {
        "" => None,
        argument => Some(argument.to_owned()),
    };
    let no_argument = |command: PromptCommand| match rest {
        "" => Ok(Some(command)),
        _ => Err(format!(
            "{} takes no argument. {}",
            word.to_uppercase(),
            usage()
        )),
    };
    let command = match *command {
        "CONNECT" => PromptCommand::Connect(parse_connect(rest).map_err(|e| match e {
            ConnectError::Usage => format!(
                "{}, CONNECT [user@]<host>:<port> or CONNECT ws://<bridge>/ws",
                usage()
            ),
            ConnectError::Invalid(message) => message,
        })?),
        "LOGIN" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            [] => PromptCommand::Login(None),
            [user] => PromptCommand::Login(Some((*user).to_owned())),
            _ => return Err(usage()),
        },
        "LIST" => PromptCommand::List(optional()),
        "CD" => PromptCommand::Cd(optional()),
        "PWD" => return no_argument(PromptCommand::Pwd),
        "HELP" => return no_argument(PromptCommand::Help),
        "QUIT" => return no_argument(PromptCommand::Quit),
        "RETRIEVE" => PromptCommand::Retrieve(argument()?),
        "STORE" => PromptCommand::Store(expand_home(&argument()?)),
        "DELETE" => PromptCommand::Delete(argument()?),
        "STAT" => PromptCommand::Stat(argument()?),
        "MKDIR" => PromptCommand::Mkdir(argument()?),
        "RMDIR" => PromptCommand::Rmdir(argument()?),
        "RENAME" => match shlex::split(rest).as_deref() {
            Some([from, to]) if !from.is_empty() && !to.is_empty() => {
                PromptCommand::Rename(from.clone(), to.clone())
            }
            _ => {
                return Err(format!(
                    "{} (quote a name with spaces: RENAME \"a b\" c)",
                    usage()
                ))
            }
        },
        _ => PromptCommand::Hash(argument()?),
    };
    Ok(Some(command))
}

/// The entry of [`COMMANDS`] that `word` spells, in any case.
fn find_command(
    word: &str,
) -> Option<&'static (
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
)> {
    COMMANDS
        .iter()
        .find(|(_, spellings, _, _)| spellings.iter().any(|s| s.eq_ignore_ascii_case(word)))
}

/// Why the words after CONNECT name no server.
enum ConnectError {
    Usage,
    Invalid(String),
}

/// `[user@]host port`, `[user@]host:port`, or a bridge URL.
fn parse_connect(rest: &str) -> Result<Endpoint, ConnectError> {
    let invalid = |error: ferry_client::ClientError| ConnectError::Invalid(error.to_string());
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [target] => Endpoint::parse(target).map_err(invalid),
        [host, port] => {
            let (user, host) = match host.rsplit_once('@') {
                Some((user, host)) if !user.is_empty() => (Some(user.to_owned()), host),
                _ => (None, *host),
            };
            let target = Target::from_host_and_port(host, port).map_err(invalid)?;
            Ok(Endpoint { user, target })
        }
        _ => Err(ConnectError::Usage),
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
    /// A file or directory on the server.
    RemotePath,
    /// A directory on the server.
    RemoteDir,
    /// A local path.
    LocalPath,
    /// Nothing to complete.
    Nothing,
}

/// For the text before the cursor: where the word to complete starts (a
/// byte offset) and what kind of word it is. A path is the rest of the
/// line (names may hold spaces), except for RENAME's two words.
pub fn completion_context(before_cursor: &str) -> (usize, CompletionKind) {
    let start = before_cursor.len() - before_cursor.trim_start().len();
    let line = &before_cursor[start..];
    let Some(space) = line.find(char::is_whitespace) else {
        return (start, CompletionKind::Command);
    };
    let word = &line[..space];
    let rest = &line[space..];
    let mut argument_start = start + space + (rest.len() - rest.trim_start().len());
    let kind = find_command(word).map_or(CompletionKind::Nothing, |(command, ..)| match *command {
        "RETRIEVE" | "DELETE" | "HASH" | "STAT" | "RMDIR" | "MKDIR" => CompletionKind::RemotePath,
        "RENAME" => {
            let last_space = before_cursor.rfind(char::is_whitespace).unwrap_or(0);
            argument_start = argument_start.max(last_space + 1);
            CompletionKind::RemotePath
        }
        "LIST" | "CD" => CompletionKind::RemoteDir,
        "STORE" => CompletionKind::LocalPath,
        _ => CompletionKind::Nothing,
    });
    (argument_start, kind)
}

/// A typed remote path split for completion: the directory part as typed
/// (with its last `/`, or empty) and the start of the name being typed.
pub fn split_remote(typed: &str) -> (&str, &str) {
    match typed.rfind('/') {
        Some(slash) => typed.split_at(slash + 1),
        None => ("", typed),
    }
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

/// Completions of a remote path: `dir_part` (as typed) followed by each
/// listed name starting with `prefix`; directories end in `/`, so Tab goes
/// on into them. [`CompletionKind::RemoteDir`] leaves files out (CD, LIST).
pub fn complete_remote(
    dir_part: &str,
    prefix: &str,
    entries: &[ferry_proto::ListingEntry],
    kind: &CompletionKind,
) -> Vec<String> {
    entries
        .iter()
        .filter(|entry| entry.name.as_str().starts_with(prefix))
        .filter(|entry| entry.is_dir() || *kind != CompletionKind::RemoteDir)
        .map(|entry| {
            let slash = if entry.is_dir() { "/" } else { "" };
            format!("{dir_part}{}{slash}", entry.name)
        })
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
    use ferry_proto::{ListingEntry, Name};

    fn parse(line: &str) -> PromptCommand {
        parse_line(line).unwrap().unwrap()
    }

    fn tcp(host: &str, port: u16) -> PromptCommand {
        PromptCommand::Connect(
            Target::Tcp {
                host: host.into(),
                port,
            }
            .into(),
        )
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
            PromptCommand::Connect(
                Target::WebSocket {
                    url: "ws://127.0.0.1:8080/ws?target=127.0.0.1:8888".into()
                }
                .into()
            )
        );
        let with_user = |line| match parse(line) {
            PromptCommand::Connect(endpoint) => endpoint.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            with_user("CONNECT alice@localhost 8888"),
            "alice@localhost:8888"
        );
        assert_eq!(with_user("connect bob@127.0.0.1:9"), "bob@127.0.0.1:9");
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
            .contains("Usage: CONNECT [user@]<host> <port>"));
    }

    #[test]
    fn verbs_are_case_insensitive_and_arguments_keep_spaces() {
        assert_eq!(parse("LiSt"), PromptCommand::List(None));
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
        assert_eq!(parse("hash d/x"), PromptCommand::Hash("d/x".into()));
        assert_eq!(parse("stat a b"), PromptCommand::Stat("a b".into()));
        assert_eq!(
            parse("mkdir new dir"),
            PromptCommand::Mkdir("new dir".into())
        );
        assert_eq!(parse("rmd old"), PromptCommand::Rmdir("old".into()));
        assert_eq!(parse("cd"), PromptCommand::Cd(None));
        assert_eq!(parse("CD ../x y"), PromptCommand::Cd(Some("../x y".into())));
        assert_eq!(parse("pwd"), PromptCommand::Pwd);
        assert_eq!(parse("list"), PromptCommand::List(None));
        assert_eq!(
            parse("ls sub dir"),
            PromptCommand::List(Some("sub dir".into()))
        );
        assert_eq!(parse("login"), PromptCommand::Login(None));
        assert_eq!(
            parse("LOGIN alice"),
            PromptCommand::Login(Some("alice".into()))
        );
        assert_eq!(
            parse("rename \"a b.txt\" d/c"),
            PromptCommand::Rename("a b.txt".into(), "d/c".into())
        );
        assert_eq!(
            parse("mv x 'y z'"),
            PromptCommand::Rename("x".into(), "y z".into())
        );
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
            "Usage: RETRIEVE <path>"
        );
        assert_eq!(
            parse_line("store \"\"").unwrap_err(),
            "Usage: STORE <local path>"
        );
        assert!(parse_line("PWD extra")
            .unwrap_err()
            .starts_with("PWD takes no argument"));
        for bad in ["RENAME a", "RENAME a b c", "RENAME \"a b", "LOGIN a b"] {
            assert!(parse_line(bad).unwrap_err().starts_with("Usage: "), "{bad}");
        }
    }

    #[test]
    fn completion_knows_what_is_under_the_cursor() {
        assert_eq!(completion_context(""), (0, CompletionKind::Command));
        assert_eq!(completion_context("  re"), (2, CompletionKind::Command));
        assert_eq!(
            completion_context("RETRIEVE my f"),
            (9, CompletionKind::RemotePath)
        );
        assert_eq!(
            completion_context("dele  x"),
            (6, CompletionKind::RemotePath)
        );
        assert_eq!(completion_context("cd a/b"), (3, CompletionKind::RemoteDir));
        assert_eq!(completion_context("list "), (5, CompletionKind::RemoteDir));
        assert_eq!(
            completion_context("rename a d/x"),
            (9, CompletionKind::RemotePath)
        );
        assert_eq!(
            completion_context("store ./sr"),
            (6, CompletionKind::LocalPath)
        );
        assert_eq!(
            completion_context("connect lo"),
            (8, CompletionKind::Nothing)
        );
        assert_eq!(complete_command("re"), ["RETRIEVE ", "RENAME "]);
        assert_eq!(complete_command("H"), ["HASH ", "HELP "]);
        assert_eq!(complete_command("xyz"), Vec::<String>::new());
    }

    #[test]
    fn remote_paths_complete_in_any_directory() {
        assert_eq!(split_remote("a/b/fi"), ("a/b/", "fi"));
        assert_eq!(split_remote("/x"), ("/", "x"));
        assert_eq!(split_remote("fi"), ("", "fi"));
        let entries = vec![
            ListingEntry::file(Name::new("a b.txt").unwrap(), 1, 0),
            ListingEntry::directory(Name::new("a dir").unwrap(), 0),
            ListingEntry::file(Name::new("b").unwrap(), 1, 0),
        ];
        assert_eq!(
            complete_remote("sub/", "a ", &entries, &CompletionKind::RemotePath),
            ["sub/a b.txt", "sub/a dir/"]
        );
        assert_eq!(
            complete_remote("", "a", &entries, &CompletionKind::RemoteDir),
            ["a dir/"]
        );
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
