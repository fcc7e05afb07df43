//! File-type icons as inline SVG (no request leaves the page's origin),
//! chosen by the entry's kind and its name's extension.

use leptos::prelude::*;
use leptos::tachys::html::InertElement;

/// What an icon shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Folder,
    Image,
    Text,
    Code,
    Archive,
    Audio,
    Video,
    Pdf,
    Other,
}

impl Kind {
    /// The kind of an entry named `name`.
    pub fn of(name: &str, is_dir: bool) -> Kind {
        if is_dir {
            return Kind::Folder;
        }
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "png" | "jpg" | "jpeg" | "gif" | "webp" | "svg" | "bmp" | "ico" | "avif" => Kind::Image,
            "txt" | "md" | "csv" | "log" | "ini" | "cfg" | "conf" => Kind::Text,
            "rs" | "js" | "ts" | "py" | "c" | "h" | "cpp" | "go" | "java" | "sh" | "json"
            | "toml" | "yaml" | "yml" | "html" | "css" | "xml" => Kind::Code,
            "zip" | "tar" | "gz" | "tgz" | "xz" | "bz2" | "7z" | "zst" | "rar" => Kind::Archive,
            "mp3" | "wav" | "flac" | "ogg" | "m4a" | "opus" => Kind::Audio,
            "mp4" | "mkv" | "webm" | "mov" | "avi" => Kind::Video,
            "pdf" => Kind::Pdf,
            _ => Kind::Other,
        }
    }

    fn class(self) -> &'static str {
        match self {
            Kind::Folder => "icon folder",
            Kind::Image => "icon image",
            Kind::Text => "icon text",
            Kind::Code => "icon code",
            Kind::Archive => "icon archive",
            Kind::Audio => "icon audio",
            Kind::Video => "icon video",
            Kind::Pdf => "icon pdf",
            Kind::Other => "icon other",
        }
    }

    /// The SVG path drawn inside the page outline (the folder has its own outline).
    fn mark(self) -> &'static str {
        match self {
            Kind::Folder => "",
            Kind::Image => "M8 17l3-4 2 2.5 2-2.5 3 4z M10 10.5a1.5 1.5 0 1 0 0.01 0",
            Kind::Text => "M8 11h8 M8 14h8 M8 17h5",
            Kind::Code => "M10 12l-2.5 2.5L10 17 M14 12l2.5 2.5L14 17",
            Kind::Archive => "M12 8v2 M12 11v2 M12 14v2 M11 17h2v2h-2z",
            Kind::Audio => "M10 17.5a1.5 1.5 0 1 1 0-.01V11l5-1.5v6.5",
            Kind::Video => "M10 11v6l5-3z",
            Kind::Pdf => "M8 16h8 M8 13h8 M8 10h4",
            Kind::Other => "",
        }
    }
}

/// An entry's icon.
#[component]
pub fn FileIcon(kind: Kind) -> impl IntoView {
    let outline = if kind == Kind::Folder {
        "M3 6.5A1.5 1.5 0 0 1 4.5 5h4.6l2 2h8.4A1.5 1.5 0 0 1 21 8.5v10a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 18.5z"
    } else {
        "M6 3h8l5 5v12.5a.5.5 0 0 1-.5.5h-12a.5.5 0 0 1-.5-.5V3.5A.5.5 0 0 1 6 3z M14 3v5h5"
    };
    // The same element `view!` would build, from its HTML: one template
    // clone instead of three elements built one attribute at a time, in
    // every row.
    InertElement::new(format!(
        "<svg class=\"{}\" viewBox=\"0 0 24 24\" width=\"20\" height=\"20\" aria-hidden=\"true\" \
         focusable=\"false\"><path class=\"outline\" d=\"{outline}\"></path><path class=\"mark\" \
         d=\"{}\"></path></svg>",
        kind.class(),
        kind.mark()
    ))
}

/// A small action icon for toolbar and row buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Download,
    Rename,
    Delete,
    Move,
    NewFolder,
    Up,
}

/// An action's icon.
#[component]
pub fn ActionIcon(action: Action) -> impl IntoView {
    let d = match action {
        Action::Download => "M12 4v11 M7 10.5l5 5 5-5 M5 19h14",
        Action::Rename => "M4 20h4L19 9l-4-4L4 16z M13 7l4 4",
        Action::Delete => "M5 7h14 M10 7V4h4v3 M7 7l1 13h8l1-13",
        Action::Move => "M4 12h12 M12 7l5 5-5 5 M20 5v14",
        Action::NewFolder => "M3 7.5A1.5 1.5 0 0 1 4.5 6h4.6l2 2h8.4A1.5 1.5 0 0 1 21 9.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 18.5z M12 11v6 M9 14h6",
        Action::Up => "M12 19V6 M7 11l5-5 5 5",
    };
    // As the file icons: the element from its HTML.
    InertElement::new(format!(
        "<svg class=\"action-icon\" viewBox=\"0 0 24 24\" width=\"18\" height=\"18\" \
         aria-hidden=\"true\" focusable=\"false\"><path d=\"{d}\"></path></svg>"
    ))
}
