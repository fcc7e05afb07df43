//! Folders to upload: found by the folder picker (`webkitdirectory`: each
//! file knows its `webkitRelativePath`) or in a drop (`webkitGetAsEntry`,
//! directories read recursively), then recreated on the server with MKDIR,
//! parents first, before the files are queued.

use super::link::{self, Socket, Stop};
use crate::browser::js_error_text;
use crate::endpoint::Endpoint;
use crate::order;
use ferry_proto::{EntryKind, Mkdir, Path, RefusalKind, Stat};
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DataTransfer, File, FileList, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry,
};

/// Directories (relative, parents before children) and files (relative path, file).
pub type Tree = (Vec<String>, Vec<(String, File)>);

/// Most entries taken from one drop, so a huge tree cannot stall the page.
const MAX_ENTRIES: usize = 100_000;

/// The tree of files chosen with a folder picker.
pub fn picked(list: &FileList) -> Tree {
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for file in (0..list.length()).filter_map(|i| list.get(i)) {
        let relative = Reflect::get(&file, &"webkitRelativePath".into())
            .ok()
            .and_then(|v| v.as_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| file.name());
        add_parents(&mut dirs, &relative);
        files.push((relative, file));
    }
    (ordered(dirs), files)
}

/// The tree of a drop: plain files and whole folders. `None` when the drop
/// holds no folder (the caller then uploads its files as they are).
pub async fn dropped(data: &DataTransfer) -> Result<Option<Tree>, String> {
    let items = data.items();
    let entries: Vec<FileSystemEntry> = (0..items.length())
        .filter_map(|i| items.get(i))
        .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
        .collect();
    if !entries.iter().any(FileSystemEntry::is_directory) {
        return Ok(None);
    }
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    // Depth first with an explicit stack: (entry, its relative path).
    let mut stack: Vec<(FileSystemEntry, String)> =
        entries.into_iter().map(|e| (e.clone(), e.name())).collect();
    while let Some((entry, relative)) = stack.pop() {
        if dirs.len() + files.len() >= MAX_ENTRIES {
            return Err(format!(
                "more than {MAX_ENTRIES} files and folders in one drop"
            ));
        }
        if entry.is_directory() {
            dirs.push(relative.clone());
            let dir: FileSystemDirectoryEntry = entry.unchecked_into();
            for child in read_all(&dir).await? {
                let path = format!("{relative}/{}", child.name());
                stack.push((child, path));
            }
        } else if entry.is_file() {
            let file = file_of(entry.unchecked_ref()).await?;
            files.push((relative, file));
        }
    }
    order::sort_by(&mut files, |a, b| a.0.cmp(&b.0));
    Ok(Some((ordered(dirs), files)))
}

/// Every entry of a directory (`readEntries` gives them in batches until an empty one).
async fn read_all(dir: &FileSystemDirectoryEntry) -> Result<Vec<FileSystemEntry>, String> {
    let reader = dir.create_reader();
    let mut all = Vec::new();
    loop {
        let batch = callback_promise(|ok, err| {
            // Fails only without a success callback, which is always given.
            let _ = reader.read_entries_with_callback_and_callback(ok, err);
        })
        .await?;
        let batch: Array = batch.unchecked_into();
        if batch.length() == 0 {
            return Ok(all);
        }
        all.extend(batch.iter().map(JsCast::unchecked_into::<FileSystemEntry>));
        if all.len() > MAX_ENTRIES {
            return Err(format!(
                "more than {MAX_ENTRIES} entries in “{}”",
                dir.name()
            ));
        }
    }
}

async fn file_of(entry: &FileSystemFileEntry) -> Result<File, String> {
    let file = callback_promise(|ok, err| entry.file_with_callback_and_callback(ok, err)).await?;
    file.dyn_into::<File>()
        .map_err(|_| "the browser gave no file for an entry".to_string())
}

/// Turns a pair of success/error callbacks into a future.
async fn callback_promise(call: impl FnOnce(&Function, &Function)) -> Result<JsValue, String> {
    let mut call = Some(call);
    let promise = Promise::new(&mut |resolve, reject| {
        if let Some(call) = call.take() {
            call(&resolve, &reject);
        }
    });
    JsFuture::from(promise).await.map_err(|e| js_error_text(&e))
}

fn add_parents(dirs: &mut Vec<String>, relative: &str) {
    let mut at = 0;
    while let Some(slash) = relative[at..].find('/') {
        dirs.push(relative[..at + slash].to_string());
        at += slash + 1;
    }
}

/// Directories once each, every parent before its children.
fn ordered(mut dirs: Vec<String>) -> Vec<String> {
    order::sort_by(&mut dirs, String::cmp);
    dirs.dedup();
    order::sort_by(&mut dirs, |a, b| {
        a.matches('/').count().cmp(&b.matches('/').count())
    });
    dirs
}

/// Creates `dirs` under `into` on one connection; an existing directory is
/// fine, an existing file in the way is not.
pub async fn make_dirs(
    endpoint: &Endpoint,
    dirs: &[String],
    into: Option<&Path>,
) -> Result<(), String> {
    if dirs.is_empty() {
        return Ok(());
    }
    let socket = Socket::default();
    let mut conn = link::open(endpoint, &socket)
        .await
        .map_err(|stop| link::words(&stop, "the folder"))?;
    for dir in dirs {
        let path = super::under(into, dir)?;
        match link::run(&mut conn, &Mkdir(path.clone()), link::no_data).await {
            Ok(()) => {}
            Err(Stop::Refused(refusal)) if refusal.kind() == RefusalKind::CannotCreateDirectory => {
                match link::run(&mut conn, &Stat(path.clone()), link::no_data).await {
                    Ok(status) if matches!(status.kind, EntryKind::Directory) => {}
                    _ => return Err(link::words(&Stop::Refused(refusal), path.as_str())),
                }
            }
            Err(stop) => return Err(link::words(&stop, path.as_str())),
        }
    }
    conn.close(ferry_proto::close::NORMAL, "folders created");
    Ok(())
}
