//! The console: type the original commands, see the protocol's replies.

use crate::components::{attr, attrs, connect_form, effect, field, on, rows, Row, RowKey};
use crate::model::{use_model, ConnState, LineKind, LogLine, Model};
use crate::session::{use_session, Session};
use crate::transfers::{use_transfers, Transfers};
use ferry_proto::Command;
use leptos::ev;
use leptos::prelude::*;

/// Shown for `HELP` and for lines the console cannot read.
/// Paths are from the home (the root, or the account's home), never from
/// the folder shown: the protocol has no current directory.
const USAGE: &str = "Commands (paths from the home, e.g. docs/a.txt): CONNECT <host> <port> · LIST [<dir>] · \
     RETRIEVE <path> · STORE (opens the file picker) · READ <offset> <length> <path> · STAT <path> · \
     HASH <path> · MKDIR <path> · RMDIR <path> · RENAME <from> TAB <to> · DELETE <path> · \
     USER <account> · PASS <password> · NOOP · HELP · QUIT · CLEAR";

/// What a typed console line asks for.
#[derive(Debug, PartialEq)]
enum Input_ {
    /// `CONNECT <host> <port>`: open a connection.
    Connect(Option<String>),
    /// `STORE`: choose files to upload.
    Store,
    /// `CLEAR`: empty the console.
    Clear,
    /// A protocol command, parsed by ferry-proto.
    Protocol(Command),
}

/// Reads a console line. The console's own words (CONNECT, STORE without a
/// size, CLEAR) are handled here; everything else is a protocol command line
/// and goes through ferry-proto's parser.
fn read_line(line: &str) -> Result<Input_, String> {
    let mut words = line.split_whitespace();
    let verb = words.next().unwrap_or_default();
    if verb.eq_ignore_ascii_case("CONNECT") {
        let host = words.next().unwrap_or_default();
        let port = words.next().unwrap_or_default();
        if words.next().is_some() {
            return Err("usage: CONNECT <host> <port>".into());
        }
        return connect_form::target(host, port).map(Input_::Connect);
    }
    if verb.eq_ignore_ascii_case("STORE") || verb.eq_ignore_ascii_case("STOR") {
        return Ok(Input_::Store);
    }
    if verb.eq_ignore_ascii_case("CLEAR") {
        return Ok(Input_::Clear);
    }
    Command::parse(line.trim().as_bytes())
        .map(Input_::Protocol)
        .map_err(|e| format!("{e}. {USAGE}"))
}

/// The console panel: the protocol log over a command line.
#[component]
pub fn Console() -> impl IntoView {
    view! {
        <section {..attrs(&[("class", "panel console"), ("aria-labelledby", "console-title")])}>
            <h2 id="console-title">"Console"</h2>
            <ConsoleLog />
            <ConsoleLine />
        </section>
    }
}

/// The lines sent and received, newest kept in view.
#[component]
fn ConsoleLog() -> impl IntoView {
    let model = use_model();
    // The box by its id, not a NodeRef<Div>: the page has no other, and each
    // element type's NodeRef is code of its own. Effects run once the view
    // is mounted, so it is there.
    effect(move |_| {
        model.log();
        let log_box = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("console-log"));
        if let Some(el) = log_box {
            el.set_scroll_top(el.scroll_height());
        }
    });
    let render = |l: LogLine| {
        let key = RowKey::Id(l.id);
        let (class, prefix) = match l.kind {
            LineKind::Sent => ("sent", "> "),
            LineKind::Received => ("received", "< "),
            LineKind::Data => ("data", "  "),
            LineKind::Info => ("info", "# "),
            LineKind::Error => ("error", "! "),
        };
        Row::new(key, move || {
            view! {
                <div {..attr("class", format!("line {class}"))}>
                    <span {..attrs(&[("class", "prefix"), ("aria-hidden", "true")])}>{prefix}</span>
                    {l.text}
                </div>
            }
            .into_any()
        })
    };
    view! {
        <div
            {..attrs(&[
                ("id", "console-log"),
                ("class", "console-log"),
                ("role", "log"),
                ("aria-label", "Protocol log"),
            ])}
        >
            {rows(move || model.log().into_iter().map(render).collect())}
        </div>
    }
}

/// Does what a console line asks.
fn run(text: &str, model: Model, session: Session, transfers: Transfers) {
    match read_line(text) {
        Ok(Input_::Connect(target)) => {
            model.log_line(LineKind::Sent, text);
            session.connect(target);
        }
        Ok(Input_::Store) if model.state_untracked() != ConnState::Connected => {
            model.log_line(LineKind::Sent, text);
            model.error("Not connected: connect to a server first.");
        }
        Ok(Input_::Store) => {
            model.log_line(LineKind::Info, "STORE: choose the files to upload…");
            // Must happen inside the key handler: browsers open pickers only on user input.
            match field("#file-input") {
                Some(input) => input.click(),
                None => model.error("The file picker is not available."),
            }
        }
        Ok(Input_::Clear) => model.clear_log(),
        Ok(Input_::Protocol(Command::Quit)) => {
            transfers.cancel_all();
            session.disconnect();
        }
        Ok(Input_::Protocol(Command::Retrieve(path))) if model.is_connected_untracked() => {
            model.log_line(
                LineKind::Info,
                format!("RETRIEVE {path}: a download of its own (see Transfers)."),
            );
            transfers.download(path);
        }
        Ok(Input_::Protocol(Command::Help)) => {
            model.log_line(LineKind::Info, USAGE);
            session.command(Command::Help);
        }
        Ok(Input_::Protocol(command)) => session.command(command),
        Err(e) => {
            model.log_line(LineKind::Sent, text);
            model.log_line(LineKind::Error, e);
        }
    }
}

/// The command line, with history on the arrow keys.
#[component]
fn ConsoleLine() -> impl IntoView {
    let (model, session, transfers) = (use_model(), use_session(), use_transfers());
    let line = RwSignal::new(String::new());
    // The lines typed, oldest first, and where the arrow keys are among them:
    // the key handler's own state (it alone reads and writes them), not
    // StoredValues, whose code is compiled per value type.
    let mut history: Vec<String> = Vec::new();
    let mut cursor = 0usize;
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let step: isize = match ev.key().as_str() {
            "Enter" => {
                ev.prevent_default();
                let text = line.get_untracked().trim().to_string();
                line.set(String::new());
                if text.is_empty() {
                    return;
                }
                if history.last() != Some(&text) {
                    history.push(text.clone());
                }
                cursor = history.len();
                run(&text, model, session, transfers);
                return;
            }
            "ArrowUp" => -1,
            "ArrowDown" => 1,
            _ => return,
        };
        ev.prevent_default();
        let at = (cursor as isize + step).clamp(0, history.len() as isize) as usize;
        cursor = at;
        line.set(history.get(at).cloned().unwrap_or_default());
    };
    view! {
        <div class="console-input">
            <label for="console-line" class="prompt">"ferry>"</label>
            <input
                {..attrs(&[
                    ("id", "console-line"),
                    ("type", "text"),
                    ("autocomplete", "off"),
                    ("spellcheck", "false"),
                    ("placeholder", "LIST, RETRIEVE <path>, MKDIR <path>, STAT <path> … (HELP for all)"),
                ])}
                {..on(ev::input, move |ev| line.set(event_target_value(&ev)))}
                prop:value=move || line.get()
                {..on(ev::keydown, on_key)}
            />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_proto::Path;

    #[test]
    fn console_lines() {
        assert_eq!(
            read_line("connect localhost 8888"),
            Ok(Input_::Connect(Some("localhost:8888".into())))
        );
        assert_eq!(read_line("CONNECT"), Ok(Input_::Connect(None)));
        assert_eq!(read_line("store"), Ok(Input_::Store));
        assert_eq!(read_line("STORE notes.txt"), Ok(Input_::Store));
        assert_eq!(read_line("list"), Ok(Input_::Protocol(Command::List(None))));
        assert_eq!(
            read_line("RETRIEVE a file.txt"),
            Ok(Input_::Protocol(Command::Retrieve(
                Path::new("a file.txt").unwrap()
            )))
        );
        assert!(read_line("RETRIEVE ../x").is_err());
        assert!(read_line("FROB").is_err());
        assert!(read_line("CONNECT a b c").is_err());
    }
}
