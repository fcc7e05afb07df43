use super::*;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const WINDOW: Duration = Duration::from_secs(86_400);

fn path(text: &str) -> Path {
    Path::new(text).unwrap()
}

fn names(storage: &Storage, dir: Option<&str>) -> Vec<String> {
    let dir = dir.map(path);
    let mut names: Vec<_> = storage
        .list(dir.as_ref())
        .unwrap()
        .into_iter()
        .map(|e| e.name.into_string())
        .collect();
    names.sort();
    names
}

fn is_unavailable(result: Result<impl std::fmt::Debug, ServerError>) -> bool {
    matches!(
        result,
        Err(ServerError::NoSuchFile | ServerError::NotAFile | ServerError::Unavailable(_))
    )
}

#[test]
fn missing_root_is_created_with_sample_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a/b");
    let storage = Storage::open(&root, WINDOW).unwrap();
    assert_eq!(
        names(&storage, None),
        vec!["serverTestFile.txt", "welcome.txt"]
    );
}

#[test]
fn existing_root_gets_no_sample_files() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), WINDOW).unwrap();
    assert!(storage.list(None).unwrap().is_empty());
}

#[test]
fn upload_is_invisible_until_committed_and_a_cut_without_a_window_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let storage = Arc::new(Storage::open(dir.path(), Duration::ZERO).unwrap());
    let mut upload = storage
        .begin_upload(key("sub/x", 5), Begin::Afresh)
        .unwrap();
    let mut file = upload.take_file().unwrap();
    file.write_all(b"hello").unwrap();
    assert_eq!(names(&storage, None), vec!["sub"]);
    assert_eq!(storage.temp_entries().len(), 1);
    upload.commit(file, &path("sub/x")).unwrap();
    assert_eq!(storage.temp_entries().len(), 0);
    assert_eq!(std::fs::read(dir.path().join("sub/x")).unwrap(), b"hello");

    let mut upload = storage.begin_upload(key("y", 5), Begin::Afresh).unwrap();
    let mut file = upload.take_file().unwrap();
    file.write_all(b"he").unwrap();
    assert_eq!(storage.temp_entries().len(), 1);
    upload.cut(Some(file), true);
    assert_eq!(storage.temp_entries().len(), 0);
    assert!(storage.kept_entries().is_empty());
    drop(storage.begin_upload(key("y", 5), Begin::Afresh).unwrap());
    assert_eq!(storage.temp_entries().len(), 0);
}

fn key(text: &str, size: u64) -> UploadKey {
    UploadKey {
        owner: ANONYMOUS_OWNER.to_owned(),
        path: path(text),
        size,
    }
}

/// Cuts an upload of `content.len()` bytes of `name` after `sent` bytes.
fn cut_after(storage: &Arc<Storage>, name: &str, content: &[u8], sent: usize) {
    let mut upload = storage
        .begin_upload(key(name, content.len() as u64), Begin::Continuing)
        .unwrap();
    let offset = upload.offset() as usize;
    let mut file = upload.take_file().unwrap();
    file.write_all(&content[offset..sent]).unwrap();
    upload.cut(Some(file), true);
}

#[test]
fn kept_uploads_survive_a_restart_cut_back_to_their_record() {
    let dir = tempfile::tempdir().unwrap();
    let content: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    {
        let storage = Arc::new(Storage::open(dir.path(), WINDOW).unwrap());
        cut_after(&storage, "a", &content, 300);
        cut_after(&storage, "b", &content, 400);
        cut_after(&storage, "c", &content, 500);
        assert_eq!(storage.kept_bytes(ANONYMOUS_OWNER), 1200);
        assert_eq!(storage.kept_bytes("alice"), 0);
        assert_eq!(
            storage.kept_entries().len(),
            6,
            "{:?}",
            storage.kept_entries()
        );
    }
    // As if a resume of "a" had appended bytes and a crash came before a
    // new record; "b" lost bytes (a disk that lied); "c"'s record is torn.
    let kept = dir.path().join(TEMP_DIR).join(KEPT_DIR);
    let data_of = |path: &str| -> std::path::PathBuf {
        for entry in std::fs::read_dir(&kept).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if let Some(id) = name.strip_suffix(".record") {
                let text = std::fs::read_to_string(kept.join(&name)).unwrap();
                if text.contains(&format!("path = \"{path}\"")) {
                    return kept.join(format!("{id}.data"));
                }
            }
        }
        panic!("no record for {path}");
    };
    let a = data_of("a");
    let mut file = std::fs::OpenOptions::new().append(true).open(&a).unwrap();
    file.write_all(b"appended after the record").unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(data_of("b"))
        .unwrap()
        .set_len(399)
        .unwrap();
    let c = data_of("c");
    let c_record = c.with_extension("record");
    std::fs::write(&c_record, b"owner = \"-\"\npath = ").unwrap();
    std::fs::write(kept.join("stray.data"), b"no record").unwrap();
    std::fs::write(dir.path().join(TEMP_DIR).join("upload-1-1"), b"x").unwrap();

    let storage = Arc::new(Storage::open(dir.path(), WINDOW).unwrap());
    assert_eq!(storage.temp_entries(), Vec::<String>::new());
    assert_eq!(
        storage.kept_entries().len(),
        2,
        "{:?}",
        storage.kept_entries()
    );
    assert_eq!(std::fs::read(&a).unwrap(), &content[..300]);
    assert_eq!(storage.kept_len(&key("a", 1000)), 300);
    assert_eq!(storage.kept_len(&key("b", 1000)), 0);
    assert_eq!(storage.kept_len(&key("c", 1000)), 0);
    assert_eq!(storage.kept_bytes(ANONYMOUS_OWNER), 300);
    // Continued, it ends up byte for byte the file.
    std::fs::write(dir.path().join("a"), b"old").unwrap();
    let mut upload = storage
        .begin_upload(key("a", 1000), Begin::Continuing)
        .unwrap();
    assert_eq!(upload.offset(), 300);
    let mut file = upload.take_file().unwrap();
    file.write_all(&content[300..]).unwrap();
    upload.commit(file, &path("a")).unwrap();
    assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), content);
    assert!(storage.kept_entries().is_empty());
    assert_eq!(storage.kept_bytes(ANONYMOUS_OWNER), 0);

    // A zero window at start keeps nothing of what was kept before.
    cut_after(&storage, "d", &content, 10);
    drop(storage);
    let storage = Storage::open(dir.path(), Duration::ZERO).unwrap();
    assert!(storage.kept_entries().is_empty());
}

#[test]
fn the_sweep_removes_what_has_expired_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(Storage::open(dir.path(), Duration::from_secs(60)).unwrap());
    let content = [7u8; 100];
    for i in 0..(SWEEP_BATCH + 3) {
        cut_after(&storage, &format!("f{i}"), &content, 10);
    }
    assert_eq!(storage.sweep(SystemTime::now()), 0);
    let later = SystemTime::now() + Duration::from_secs(61);
    assert_eq!(storage.sweep(later), SWEEP_BATCH, "a bounded batch");
    assert_eq!(storage.sweep(later), 3);
    assert!(storage.kept_entries().is_empty());
}

#[test]
fn one_upload_of_a_key_at_a_time_and_a_refusal_discards_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(Storage::open(dir.path(), WINDOW).unwrap());
    let content = [1u8; 100];
    cut_after(&storage, "f", &content, 40);
    let first = storage
        .begin_upload(key("f", 100), Begin::Continuing)
        .unwrap();
    assert_eq!(first.offset(), 40);
    assert!(matches!(
        storage.begin_upload(key("f", 100), Begin::Afresh),
        Err(ServerError::UploadInProgress)
    ));
    assert_eq!(storage.kept_bytes(ANONYMOUS_OWNER), 40, "still held");
    // Another owner's upload of the same path and size is another upload.
    let mut other = key("f", 100);
    other.owner = "alice".to_owned();
    drop(storage.begin_upload(other, Begin::Continuing).unwrap());
    drop(first);
}

#[test]
fn fifo_link_and_directory_are_not_files() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), WINDOW).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        dir.path().join("fifo"),
        FileType::Fifo,
        Mode::RUSR | Mode::WUSR,
        0,
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/f"), b"f").unwrap();
    symlink("sub", dir.path().join("link")).unwrap();
    for entry in ["fifo", "sub", "link", "link/f", TEMP_DIR, ".ferry-tmp/x"] {
        assert!(is_unavailable(storage.open_file(&path(entry))), "{entry}");
        assert!(is_unavailable(storage.delete(&path(entry))), "{entry}");
    }
    assert_eq!(names(&storage, None), vec!["sub"]);
    assert!(is_unavailable(storage.check_store(&path(TEMP_DIR))));
    assert!(is_unavailable(storage.check_store(&path("fifo"))));
    assert!(is_unavailable(storage.check_store(&path("link"))));
    assert!(is_unavailable(storage.list(Some(&path("link")))));
    assert!(is_unavailable(storage.list(Some(&path(TEMP_DIR)))));
}

#[test]
fn the_by_hand_walk_refuses_links_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("a/b/f"), b"deep").unwrap();
    symlink("a", dir.path().join("link")).unwrap();
    symlink("f", dir.path().join("a/b/last")).unwrap();
    let root = rustix::fs::open(
        dir.path(),
        OFlags::RDONLY | OFlags::DIRECTORY,
        Mode::empty(),
    )
    .unwrap();
    let beneath = Beneath::new(root).without_openat2();
    let read = OFlags::RDONLY;
    assert!(beneath.open(Some(&path("a/b/f")), read).is_ok());
    // A link in the middle: ENOTDIR by hand (O_DIRECTORY | O_NOFOLLOW),
    // ELOOP from openat2; both are 550 to the client.
    let middle = beneath.open(Some(&path("link/b/f")), read).unwrap_err();
    assert!(matches!(middle, Errno::NOTDIR | Errno::LOOP), "{middle:?}");
    assert_eq!(
        beneath.open(Some(&path("a/b/last")), read).unwrap_err(),
        Errno::LOOP
    );
    let probe = beneath.open(Some(&path("a/b/last")), OFlags::PATH).unwrap();
    let stat = rustix::fs::fstat(&probe).unwrap();
    assert_eq!(FileType::from_raw_mode(stat.st_mode), FileType::Symlink);
}

#[test]
fn directories_are_made_removed_and_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), WINDOW).unwrap();
    storage.mkdir(&path("d")).unwrap();
    storage.mkdir(&path("d/e")).unwrap();
    assert!(is_unavailable(storage.mkdir(&path("d"))));
    assert!(is_unavailable(storage.mkdir(&path("missing/e"))));
    assert!(is_unavailable(storage.rmdir(&path("d"))), "not empty");
    assert!(is_unavailable(storage.rename(&path("d"), &path("d/e/f"))));
    storage.rename(&path("d/e"), &path("e")).unwrap();
    storage.rmdir(&path("d")).unwrap();
    assert_eq!(names(&storage, None), vec!["e"]);
    let status = storage.stat(&path("e")).unwrap();
    assert_eq!(status.kind, EntryKind::Directory);
}

#[test]
fn openat2_does_the_resolving_where_the_kernel_has_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a")).unwrap();
    let flags = OFlags::RDONLY | OFlags::DIRECTORY;
    let root = rustix::fs::open(dir.path(), flags, Mode::empty()).unwrap();
    let resolve = rustix::fs::ResolveFlags::BENEATH | rustix::fs::ResolveFlags::NO_SYMLINKS;
    let probe = rustix::fs::openat2(&root, "a", flags, Mode::empty(), resolve);
    if matches!(probe, Err(Errno::NOSYS)) {
        eprintln!("no openat2 in this kernel: the by-hand walk is in use");
        return;
    }
    let beneath = Beneath::new(root);
    assert!(beneath.open(Some(&path("a")), flags).is_ok());
    assert!(beneath.uses_openat2());
    std::os::unix::fs::symlink("/", dir.path().join("a/up")).unwrap();
    let last = beneath.open(Some(&path("a/up")), flags).unwrap_err();
    assert!(matches!(last, Errno::NOTDIR | Errno::LOOP), "{last:?}");
    // Through a link: ELOOP is RESOLVE_NO_SYMLINKS's answer (the by-hand
    // walk's O_DIRECTORY | O_NOFOLLOW says ENOTDIR).
    let through = beneath.open(Some(&path("a/up/etc")), flags).unwrap_err();
    assert_eq!(through, Errno::LOOP);
    assert!(beneath.uses_openat2());
}

/// Both resolutions, the kernel's and the by-hand walk, while `d` is
/// exchanged with a link to the outside as fast as possible: every open of
/// `d/f` either fails or is the file inside.
#[test]
fn neither_resolution_escapes_a_directory_swapped_for_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
    std::fs::create_dir_all(root.join("d")).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(root.join("d/f"), b"inside").unwrap();
    std::fs::write(outside.join("f"), b"outside").unwrap();
    symlink(&outside, root.join("spare")).unwrap();
    let inside = std::fs::metadata(root.join("d/f")).unwrap();
    let inside = std::os::unix::fs::MetadataExt::ino(&inside);
    let flags = OFlags::RDONLY | OFlags::DIRECTORY;
    for by_hand in [false, true] {
        let fd = rustix::fs::open(&root, flags, Mode::empty()).unwrap();
        let beneath = match by_hand {
            false => Beneath::new(fd),
            true => Beneath::new(fd).without_openat2(),
        };
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let swapper = {
            let stop = Arc::clone(&stop);
            let (d, spare) = (root.join("d"), root.join("spare"));
            std::thread::spawn(move || {
                let mut swaps = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    rustix::fs::renameat_with(
                        rustix::fs::CWD,
                        &d,
                        rustix::fs::CWD,
                        &spare,
                        RenameFlags::EXCHANGE,
                    )
                    .unwrap();
                    swaps += 1;
                }
                if std::fs::symlink_metadata(&d).unwrap().is_symlink() {
                    let (cwd, exchange) = (rustix::fs::CWD, RenameFlags::EXCHANGE);
                    rustix::fs::renameat_with(cwd, &d, cwd, &spare, exchange).unwrap();
                }
                swaps
            })
        };
        let mut opened = 0;
        for _ in 0..20_000 {
            if let Ok(fd) = beneath.open(Some(&path("d/f")), OFlags::RDONLY) {
                assert_eq!(rustix::fs::fstat(&fd).unwrap().st_ino, inside, "escaped");
                opened += 1;
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(swapper.join().unwrap() > 0);
        assert!(opened > 0, "some opens found the directory in place");
    }
}
