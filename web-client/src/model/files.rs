//! The file manager's view state: who we are on the server, a delete that
//! waits for confirmation, a preview, and paths as the page writes them.

use ferry_proto::{Name, Path, ProtoError};

/// Who the session is on the server and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Not known yet (connecting, or the check is running).
    Unknown,
    /// The server answered `530`: the login form is shown.
    LoginRequired,
    /// Anonymous (a server without accounts, or one that allows anonymous access).
    Anonymous {
        /// Whether changes are refused (`--read-only`, or read-only anonymous access).
        read_only: bool,
    },
    /// Logged in as `account`.
    LoggedIn {
        /// The account name.
        account: String,
        /// Whether the account (or the server) is read-only.
        read_only: bool,
    },
}

impl Access {
    /// Whether changes may be tried (unknown counts as yes: the server decides).
    pub fn can_write(&self) -> bool {
        !matches!(
            self,
            Access::Anonymous { read_only: true }
                | Access::LoggedIn {
                    read_only: true,
                    ..
                }
        )
    }

    /// Whether the session is known to be read-only.
    pub fn is_read_only(&self) -> bool {
        !self.can_write()
    }

    /// The account logged in as, if any.
    pub fn account(&self) -> Option<&str> {
        match self {
            Access::LoggedIn { account, .. } => Some(account),
            _ => None,
        }
    }
}

/// An entry of the folder shown, by its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its path from the home.
    pub path: Path,
    /// Whether it is a folder.
    pub is_dir: bool,
}

/// The "Move to…" dialog: the folder it shows and its subfolders
/// (`None` while they are being listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveBrowse {
    /// The folder shown (`None`: the home).
    pub dir: Option<Path>,
    /// Its subfolders' names.
    pub folders: Option<Vec<String>>,
}

/// What a confirmed delete will remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePlan {
    /// The entries chosen.
    pub entries: Vec<Entry>,
    /// Files inside the chosen folders (counted by listing them).
    pub files_inside: u64,
    /// Folders inside the chosen folders.
    pub folders_inside: u64,
}

impl DeletePlan {
    /// The question the confirmation asks.
    pub fn question(&self) -> String {
        let what = match self.entries.as_slice() {
            [one] => format!("“{}”", one.path.last_name()),
            many => format!("{} items", many.len()),
        };
        let inside = self.files_inside + self.folders_inside;
        if inside == 0 {
            format!("Delete {what}?")
        } else {
            format!(
                "Delete {what} and everything in it: {} and {}?",
                plural(self.files_inside, "file"),
                plural(self.folders_inside, "folder")
            )
        }
    }
}

/// `3 files`, `1 folder`.
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A file being looked at.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// Its path.
    pub path: Path,
    /// Its size, from the listing.
    pub size: u64,
    /// What is shown.
    pub body: PreviewBody,
}

/// What a preview shows.
#[derive(Debug, Clone, PartialEq)]
pub enum PreviewBody {
    /// Being read.
    Loading,
    /// The start of a text file; `truncated` when there is more.
    Text {
        /// The text (invalid UTF-8 shown as U+FFFD).
        text: String,
        /// Whether only the first part was read.
        truncated: bool,
    },
    /// An image, at a `blob:` URL this page owns until the preview closes.
    Image(String),
    /// Not shown, and why.
    Unavailable(String),
}

impl Preview {
    /// Gives back what the preview holds (the image's object URL).
    pub fn release(&self) {
        if let PreviewBody::Image(url) = &self.body {
            let _ = web_sys::Url::revoke_object_url(url);
        }
    }
}

/// `dir/name`, or `name` in the home.
pub fn child(dir: &Option<Path>, name: &Name) -> Result<Path, ProtoError> {
    match dir {
        Some(dir) => dir.join(name),
        None => Ok(Path::from(name.clone())),
    }
}

/// A folder in words: `the home folder` or `“a/b”`.
pub fn dir_text(dir: &Option<Path>) -> String {
    match dir {
        Some(dir) => format!("“{dir}”"),
        None => "the home folder".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, is_dir: bool) -> Entry {
        Entry {
            path: Path::new(path).unwrap(),
            is_dir,
        }
    }

    #[test]
    fn questions() {
        let plan = |entries, files_inside, folders_inside| DeletePlan {
            entries,
            files_inside,
            folders_inside,
        };
        assert_eq!(
            plan(vec![entry("a/b.txt", false)], 0, 0).question(),
            "Delete “b.txt”?"
        );
        assert_eq!(
            plan(vec![entry("d", true)], 3, 1).question(),
            "Delete “d” and everything in it: 3 files and 1 folder?"
        );
        assert_eq!(
            plan(vec![entry("a", false), entry("b", true)], 0, 0).question(),
            "Delete 2 items?"
        );
    }

    #[test]
    fn children() {
        let name = Name::new("x y").unwrap();
        assert_eq!(child(&None, &name).unwrap().as_str(), "x y");
        let dir = Some(Path::new("a/b").unwrap());
        assert_eq!(child(&dir, &name).unwrap().as_str(), "a/b/x y");
        assert!(Access::Anonymous { read_only: true }.is_read_only());
        assert!(Access::Unknown.can_write());
    }
}
