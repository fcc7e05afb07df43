//! The object store's commands on OpenDAL's memory service: the same
//! rules as on disk (what exists, what is refused, what an upload leaves),
//! and kept uploads that a second server on the same store continues.

use super::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh memory store of its own name (two opened with the same name
/// share it, as two servers on one bucket do).
fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "memory://unit-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

async fn open(url: &str, window: Duration) -> Arc<ObjectStore> {
    Arc::new(
        ObjectStore::open(StoreSpec::parse(url).unwrap(), window)
            .await
            .unwrap(),
    )
}

fn path(text: &str) -> Path {
    Path::new(text).unwrap()
}

fn key(text: &str, size: u64) -> UploadKey {
    UploadKey {
        owner: crate::ANONYMOUS_OWNER.to_owned(),
        path: path(text),
        size,
    }
}

async fn put(store: &Arc<ObjectStore>, at: &str, data: &[u8]) {
    let mut upload = store
        .begin_upload(key(at, data.len() as u64), Begin::Afresh)
        .await
        .unwrap();
    upload.write(data).await.unwrap();
    upload.commit(&path(at)).await.unwrap();
}

async fn get(store: &Arc<ObjectStore>, at: &str) -> Vec<u8> {
    let file = store.open_file(&path(at)).await.unwrap();
    let mut stream = file.stream(0, file.len).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

fn names(entries: &[ListingEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| format!("{}{}", entry.name, if entry.is_dir() { "/" } else { "" }))
        .collect()
}

fn unavailable(result: Result<(), ServerError>) -> &'static str {
    match result {
        Err(ServerError::Unavailable(why)) => why,
        other => panic!("expected 550, got {other:?}"),
    }
}

#[tokio::test]
async fn files_and_directories_follow_the_contract() {
    let store = open(&unique(), Duration::from_secs(60)).await;
    put(&store, "a.txt", b"hello").await;
    store.mkdir(&path("a")).await.unwrap();
    put(&store, "a0", b"").await;
    assert_eq!(
        names(&store.list(None).await.unwrap()),
        ["a.txt", "a/", "a0"]
    );
    assert_eq!(get(&store, "a.txt").await, b"hello");
    let status = store.stat(&path("a.txt")).await.unwrap();
    assert_eq!(status.kind, EntryKind::File { size: 5 });
    assert_eq!(
        store.stat(&path("a")).await.unwrap().kind,
        EntryKind::Directory
    );
    assert!(matches!(
        store.stat(&path("nope")).await,
        Err(ServerError::NoSuchFile)
    ));
    // An empty directory exists by its marker, and lists nothing.
    assert!(store.list(Some(&path("a"))).await.unwrap().is_empty());
    assert_eq!(unavailable(store.mkdir(&path("a")).await), "Already exists");
    assert_eq!(
        unavailable(store.mkdir(&path("a.txt")).await),
        "Already exists"
    );
    assert_eq!(
        unavailable(store.mkdir(&path("x/y")).await),
        "No such directory"
    );
    assert_eq!(
        unavailable(store.list(Some(&path("a.txt"))).await.map(drop)),
        "No such directory"
    );
    // STORE: the parent must exist, no directory in the way.
    assert_eq!(
        unavailable(store.check_store(&path("x/y")).await),
        "No such directory"
    );
    assert!(matches!(
        store.check_store(&path("a")).await,
        Err(ServerError::NotAFile)
    ));
    put(&store, "a/inner", b"in").await;
    assert_eq!(
        names(&store.list(Some(&path("a"))).await.unwrap()),
        ["inner"]
    );
    assert_eq!(
        unavailable(store.rmdir(&path("a")).await),
        "Directory not empty"
    );
    assert_eq!(
        unavailable(store.delete(&path("a")).await),
        "Is a directory"
    );
    assert!(matches!(
        store.open_file(&path("a")).await,
        Err(ServerError::Unavailable(_))
    ));
    store.delete(&path("a/inner")).await.unwrap();
    assert!(matches!(
        store.delete(&path("a/inner")).await,
        Err(ServerError::NoSuchFile)
    ));
    store.rmdir(&path("a")).await.unwrap();
    assert_eq!(
        unavailable(store.rmdir(&path("a")).await),
        "No such directory"
    );
    assert_eq!(names(&store.list(None).await.unwrap()), ["a.txt", "a0"]);
    // An RMDIR of a file is no directory.
    assert_eq!(
        unavailable(store.rmdir(&path("a0")).await),
        "No such directory"
    );
}

#[tokio::test]
async fn rename_moves_a_file_and_refuses_a_directory() {
    let store = open(&unique(), Duration::from_secs(60)).await;
    put(&store, "one", b"first").await;
    put(&store, "two", b"second").await;
    store.mkdir(&path("d")).await.unwrap();
    store.rename(&path("one"), &path("d/moved")).await.unwrap();
    assert!(matches!(
        store.stat(&path("one")).await,
        Err(ServerError::NoSuchFile)
    ));
    assert_eq!(get(&store, "d/moved").await, b"first");
    // Onto an existing file: it is replaced.
    store.rename(&path("two"), &path("d/moved")).await.unwrap();
    assert_eq!(get(&store, "d/moved").await, b"second");
    put(&store, "three", b"3").await;
    assert_eq!(
        unavailable(store.rename(&path("three"), &path("d")).await),
        "Target is a directory"
    );
    assert_eq!(
        unavailable(store.rename(&path("three"), &path("zz/x")).await),
        "No such directory"
    );
    assert!(matches!(
        store.rename(&path("gone"), &path("x")).await,
        Err(ServerError::NoSuchFile)
    ));
    assert_eq!(
        unavailable(store.rename(&path("d"), &path("d/e")).await),
        "Cannot move a directory into itself"
    );
    assert_eq!(
        get(&store, "three").await,
        b"3",
        "a refused rename changes nothing"
    );
}

#[tokio::test]
async fn the_staging_area_is_out_of_reach_and_out_of_sight() {
    let store = open(&unique(), Duration::from_secs(60)).await;
    // A cut-off upload puts objects under the staging area.
    let mut upload = store
        .begin_upload(key("big", 10), Begin::Afresh)
        .await
        .unwrap();
    upload.write(b"12345").await.unwrap();
    upload.cut(true).await;
    assert_eq!(store.kept_len(&key("big", 10)).await.unwrap(), 5);
    assert!(
        names(&store.list(None).await.unwrap()).is_empty(),
        "LIST of the top shows nothing"
    );
    for reserved in [TEMP_DIR.to_owned(), format!("{TEMP_DIR}/kept")] {
        let reserved = path(&reserved);
        assert!(matches!(
            store.stat(&reserved).await,
            Err(ServerError::NoSuchFile)
        ));
        assert!(matches!(
            store.list(Some(&reserved)).await,
            Err(ServerError::NoSuchFile)
        ));
        assert!(store.mkdir(&reserved).await.is_err());
        assert!(store.rmdir(&reserved).await.is_err());
        assert!(store.delete(&reserved).await.is_err());
        assert!(store.check_store(&reserved).await.is_err());
    }
    assert_eq!(
        store.usage(None).await.unwrap(),
        0,
        "kept bytes are not files"
    );
    assert_eq!(store.kept_bytes(crate::ANONYMOUS_OWNER).await.unwrap(), 5);
    assert_eq!(
        store
            .kept_bytes_at(crate::ANONYMOUS_OWNER, &path("big"))
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        store
            .kept_bytes_at(crate::ANONYMOUS_OWNER, &path("other"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.kept_bytes("alice").await.unwrap(), 0);
}

#[tokio::test]
async fn an_upload_is_invisible_until_committed_and_an_abort_leaves_nothing() {
    let store = open(&unique(), Duration::ZERO).await;
    put(&store, "f", b"old").await;
    let data: Vec<u8> = (0..(3 * kept::PART_LEN + 17))
        .map(|i| (i % 251) as u8)
        .collect();
    let mut upload = store
        .begin_upload(key("f", data.len() as u64), Begin::Afresh)
        .await
        .unwrap();
    upload.write(&data[..kept::PART_LEN * 2]).await.unwrap();
    assert_eq!(
        get(&store, "f").await,
        b"old",
        "the old file until the commit"
    );
    upload.cut(true).await;
    assert_eq!(
        get(&store, "f").await,
        b"old",
        "a cut-off upload leaves the old file"
    );
    assert_eq!(
        store.kept_len(&key("f", data.len() as u64)).await.unwrap(),
        0,
        "window 0: nothing kept"
    );
    let op = store.op().await.unwrap();
    let all = op.list_with("/").recursive(true).await.unwrap();
    let keys: Vec<&str> = all.iter().map(|entry| entry.path()).collect();
    assert_eq!(keys, ["f"], "no part, segment or manifest left");
    let mut upload = store
        .begin_upload(key("f", data.len() as u64), Begin::Afresh)
        .await
        .unwrap();
    for chunk in data.chunks(100_000) {
        upload.write(chunk).await.unwrap();
    }
    upload.commit(&path("f")).await.unwrap();
    assert_eq!(get(&store, "f").await, data);
    assert_eq!(store.usage(None).await.unwrap(), data.len() as u64);
}

#[tokio::test]
async fn a_second_server_continues_what_the_first_kept() {
    let url = unique();
    let first = open(&url, Duration::from_secs(60)).await;
    let second = open(&url, Duration::from_secs(60)).await;
    let data: Vec<u8> = (0..(2 * kept::PART_LEN + 12_345))
        .map(|i| (i * 7 % 256) as u8)
        .collect();
    let size = data.len() as u64;
    let cut_at = kept::PART_LEN + 1000;
    let mut upload = first
        .begin_upload(key("f", size), Begin::Afresh)
        .await
        .unwrap();
    upload.write(&data[..cut_at]).await.unwrap();
    upload.cut(true).await;
    // Every byte that arrived is kept: the tail part is written at the cut.
    assert_eq!(
        second.kept_len(&key("f", size)).await.unwrap(),
        cut_at as u64
    );
    assert!(matches!(
        second.stat(&path("f")).await,
        Err(ServerError::NoSuchFile)
    ));
    // The same upload in progress on one server: 450 there.
    let mut resumed = second
        .begin_upload(key("f", size), Begin::Continuing)
        .await
        .unwrap();
    assert!(matches!(
        second.begin_upload(key("f", size), Begin::Continuing).await,
        Err(ServerError::UploadInProgress)
    ));
    assert_eq!(resumed.offset(), cut_at as u64);
    resumed.write(&data[cut_at..]).await.unwrap();
    resumed.commit(&path("f")).await.unwrap();
    assert_eq!(
        get(&first, "f").await,
        data,
        "byte for byte, through the first server"
    );
    assert_eq!(
        first.kept_bytes(crate::ANONYMOUS_OWNER).await.unwrap(),
        0,
        "the parts are gone"
    );
}

#[tokio::test]
async fn what_discards_a_kept_upload() {
    let store = open(&unique(), Duration::from_secs(60)).await;
    let keep = |at: &'static str, size: u64| {
        let store = Arc::clone(&store);
        async move {
            let mut upload = store
                .begin_upload(key(at, size), Begin::Afresh)
                .await
                .unwrap();
            upload.write(b"abc").await.unwrap();
            upload.cut(true).await;
            assert_eq!(store.kept_len(&key(at, size)).await.unwrap(), 3);
        }
    };
    // A RESUME of the path with another size.
    keep("f", 10).await;
    let other = store
        .begin_upload(key("f", 20), Begin::Continuing)
        .await
        .unwrap();
    assert_eq!(other.offset(), 0);
    other.cut(true).await;
    assert_eq!(store.kept_len(&key("f", 10)).await.unwrap(), 0);
    // A STORE of the path.
    keep("f", 10).await;
    put(&store, "f", b"whole").await;
    assert_eq!(store.kept_len(&key("f", 10)).await.unwrap(), 0);
    // A DELETE of the path.
    keep("f", 10).await;
    store.delete(&path("f")).await.unwrap();
    assert_eq!(store.kept_len(&key("f", 10)).await.unwrap(), 0);
    // An RMDIR of a directory it sits in (a kept upload never makes it non-empty).
    store.mkdir(&path("d")).await.unwrap();
    keep("d/g", 10).await;
    store.rmdir(&path("d")).await.unwrap();
    assert_eq!(store.kept_len(&key("d/g", 10)).await.unwrap(), 0);
    // A RENAME onto it.
    keep("h", 10).await;
    put(&store, "src", b"s").await;
    store.rename(&path("src"), &path("h")).await.unwrap();
    assert_eq!(store.kept_len(&key("h", 10)).await.unwrap(), 0);
    // A path discarded while its upload is in progress keeps nothing when cut.
    let mut upload = store
        .begin_upload(key("j", 10), Begin::Afresh)
        .await
        .unwrap();
    upload.write(b"abc").await.unwrap();
    put(&store, "j2", b"x").await;
    store.rename(&path("j2"), &path("j")).await.unwrap();
    upload.cut(true).await;
    assert_eq!(store.kept_len(&key("j", 10)).await.unwrap(), 0);
    assert_eq!(store.kept_bytes(crate::ANONYMOUS_OWNER).await.unwrap(), 0);
}

#[tokio::test]
async fn the_window_ends_and_the_sweep_removes_it() {
    let store = open(&unique(), Duration::from_secs(1)).await;
    let mut upload = store
        .begin_upload(key("f", 10), Begin::Afresh)
        .await
        .unwrap();
    upload.write(b"abc").await.unwrap();
    upload.cut(true).await;
    assert_eq!(store.kept_len(&key("f", 10)).await.unwrap(), 3);
    let later = SystemTime::now() + Duration::from_secs(5);
    assert_eq!(store.sweep(later).await, 1);
    assert_eq!(store.kept_bytes(crate::ANONYMOUS_OWNER).await.unwrap(), 0);
}

#[tokio::test]
async fn homes_and_usage() {
    let store = open(&unique(), Duration::from_secs(60)).await;
    store.make_home(&path("users/alice")).await.unwrap();
    store.make_home(&path("users/alice")).await.unwrap();
    assert_eq!(
        store.stat(&path("users/alice")).await.unwrap().kind,
        EntryKind::Directory
    );
    put(&store, "users/alice/a", &[1; 10]).await;
    store.mkdir(&path("users/alice/sub")).await.unwrap();
    put(&store, "users/alice/sub/b", &[2; 32]).await;
    put(&store, "users/bob", &[3; 1000]).await;
    assert_eq!(store.usage(Some(&path("users/alice"))).await.unwrap(), 42);
    assert_eq!(store.usage(None).await.unwrap(), 1042);
    assert_eq!(
        store.replaced_size(&path("users/alice/a")).await.unwrap(),
        10
    );
    assert_eq!(
        store.replaced_size(&path("users/alice/sub")).await.unwrap(),
        0
    );
    assert!(
        store.make_home(&path("users/bob/home")).await.is_err(),
        "a file in the way"
    );
}

#[tokio::test]
async fn a_directory_rename_moves_everything_and_finishes_when_repeated() {
    let store = open(&unique(), Duration::from_secs(60)).await;
    store.mkdir(&path("d")).await.unwrap();
    store.mkdir(&path("d/sub")).await.unwrap();
    store.mkdir(&path("d/empty")).await.unwrap();
    put(&store, "d/a", b"A").await;
    put(&store, "d/sub/b", b"B").await;
    put(&store, "file", b"F").await;
    store.mkdir(&path("other")).await.unwrap();
    assert_eq!(
        unavailable(store.rename(&path("d"), &path("other")).await),
        "Target is a directory"
    );
    assert_eq!(
        unavailable(store.rename(&path("d"), &path("file")).await),
        "Cannot replace a file with a directory"
    );
    assert_eq!(
        unavailable(store.rename(&path("d"), &path("nope/e")).await),
        "No such directory"
    );
    store.rename(&path("d"), &path("other/e")).await.unwrap();
    assert!(matches!(
        store.stat(&path("d")).await,
        Err(ServerError::NoSuchFile)
    ));
    assert_eq!(
        names(&store.list(Some(&path("other/e"))).await.unwrap()),
        ["a", "empty/", "sub/"]
    );
    assert_eq!(get(&store, "other/e/sub/b").await, b"B");
    assert!(store
        .list(Some(&path("other/e/empty")))
        .await
        .unwrap()
        .is_empty());
    // Interrupted halfway (its journal written, one object moved): the
    // same RENAME again finishes it, onto the target it began.
    let op = store.op().await.unwrap();
    let journal = format!(
        "{TEMP_DIR}/renames/{}",
        hex::encode(Sha256::digest("other/e"))
    );
    op.write(&journal, "other/e\tmoved").await.unwrap();
    store.mkdir(&path("moved")).await.unwrap();
    store
        .rename(&path("other/e/a"), &path("moved/a"))
        .await
        .unwrap();
    let refused = unavailable(store.rename(&path("other/e"), &path("elsewhere")).await);
    assert!(refused.contains("must be finished first"), "{refused}");
    store
        .rename(&path("other/e"), &path("moved"))
        .await
        .unwrap();
    assert_eq!(
        names(&store.list(Some(&path("moved"))).await.unwrap()),
        ["a", "empty/", "sub/"]
    );
    assert_eq!(
        names(&store.list(Some(&path("other"))).await.unwrap()),
        Vec::<String>::new()
    );
    assert!(op.read(&journal).await.is_err(), "the journal is gone");
}
