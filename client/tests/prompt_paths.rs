//! The prompt's version 2 commands against a real ferry-server: a remote
//! working directory (CD, PWD, `..` resolved by the client), LIST of a
//! directory, MKDIR, RMDIR, RENAME with quoted names, STAT, and RETRIEVE and
//! STORE picking up after the server died in the middle of them.

mod cut_off;
mod ferry_binary;

use cut_off::{has_bytes, put_old_file, wait_until};
use ferry_binary::*;
use ferry_testkit::data::{all_bytes, noise};
use ferry_testkit::TestServer;
use std::io::Write;

#[test]
fn the_prompt_keeps_a_remote_working_directory() {
    let server = TestServer::start_on_thread();
    std::fs::create_dir_all(server.path("music/old")).unwrap();
    server.put_file("music/song one.mp3", &all_bytes(2));
    server.put_file("top.txt", b"top");
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("mine.txt"), b"uploaded").unwrap();
    let script = format!(
        "connect {target}\n\
         pwd\n\
         cd ..\n\
         pwd\n\
         cd music\n\
         list\n\
         list old\n\
         retrieve song one.mp3\n\
         store mine.txt\n\
         stat mine.txt\n\
         mkdir new dir\n\
         rename \"mine.txt\" \"new dir/renamed file.txt\"\n\
         cd new dir\n\
         pwd\n\
         list ..\n\
         hash renamed file.txt\n\
         retrieve ../../top.txt\n\
         cd /music/old\n\
         pwd\n\
         cd /top.txt\n\
         cd nowhere\n\
         cd /music\n\
         rmdir old\n\
         delete new dir/renamed file.txt\n\
         rmdir new dir\n\
         list\n\
         quit\n",
        target = server.target()
    );
    let output = ferry_in(cwd.path(), &[], script.as_bytes());
    let (out, err) = (stdout(&output), stderr(&output));
    for expected in [
        "/\nNow in /\n/\nNow in /music\n",
        "  old/\n",
        "  song one.mp3\n1 file and 1 directory, 517 B in total\n",
        "No files in /music/old.\n",
        "Saved \"music/song one.mp3\" to song one.mp3 (517 B)\n",
        "Stored mine.txt as \"music/mine.txt\" (8 B)\n",
        "music/mine.txt: file, 8 bytes (8 B), modified 20",
        "Created the directory \"music/new dir\"\n",
        "Renamed \"music/mine.txt\" to \"music/new dir/renamed file.txt\"\n",
        "Now in /music/new dir\n/music/new dir\n",
        "  new dir/\n",
        "  music/new dir/renamed file.txt\n",
        "Saved \"top.txt\" to top.txt (3 B)\n",
        "Now in /music/old\n/music/old\n",
        "Removed the directory \"music/old\"\n",
        "Deleted \"music/new dir/renamed file.txt\"\n",
        "Removed the directory \"music/new dir\"\n",
        "  song one.mp3\n1 file, 517 B in total\nGoodbye.\n",
    ] {
        assert!(
            out.contains(expected),
            "{expected:?} missing from\n{out}\n{err}"
        );
    }
    assert!(
        err.contains("Error: \"top.txt\" is a file on the server, not a directory"),
        "{err}"
    );
    assert!(
        err.contains("Error: no such file or directory \"music/old/nowhere\" on the server"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(cwd.path().join("song one.mp3")).unwrap(),
        all_bytes(2)
    );
    assert_eq!(std::fs::read(cwd.path().join("top.txt")).unwrap(), b"top");
    assert!(!server.path("music/old").exists() && !server.path("music/new dir").exists());
}

#[test]
fn the_prompt_continues_a_download_and_resumes_an_upload_after_a_cut() {
    let download = noise(96 * 1024 * 1024, 5);
    let upload = noise(96 * 1024 * 1024, 6);
    let first = TestServer::start_on_thread();
    put_old_file(&first, "big.bin", &download);
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("up.bin"), &upload).unwrap();
    let mut child = spawn_ferry(cwd.path(), &[]);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "connect {}\nretrieve big.bin", first.target()).unwrap();
    wait_until("the download never began", || {
        has_bytes(&cwd.path().join(".big.bin.part"))
    });
    drop(first); // the server dies in the middle of the download

    let second = TestServer::start_on_thread();
    put_old_file(&second, "big.bin", &download);
    writeln!(stdin, "connect {}\nstore up.bin", second.target()).unwrap();
    let staging = second.root.join(".ferry-tmp");
    wait_until("the upload never began", || {
        second
            .temp_entries()
            .iter()
            .any(|name| has_bytes(&staging.join(name)))
    });
    drop(second); // and this one in the middle of the upload

    let third = TestServer::start_on_thread();
    put_old_file(&third, "big.bin", &download);
    writeln!(
        stdin,
        "connect {}\nretrieve big.bin\nstore up.bin\nquit",
        third.target()
    )
    .unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(
        err.contains("Error: the download of \"big.bin\" was cut off at "),
        "{err}"
    );
    assert!(
        err.contains("(CONNECT again and RETRIEVE it to continue.)"),
        "{err}"
    );
    assert!(
        err.contains("(CONNECT again and STORE it again to resume the upload.)"),
        "{err}"
    );
    assert!(out.contains("Continuing the cut-off download ("), "{out}");
    assert!(
        out.contains("Saved \"big.bin\" to big.bin (96.0 MiB, continued after "),
        "{out}"
    );
    assert!(
        out.contains("Resuming the upload of up.bin that was cut off.\n"),
        "{out}"
    );
    assert!(
        out.contains("Stored up.bin as \"up.bin\" (96.0 MiB"),
        "{out}"
    );
    assert!(std::fs::read(cwd.path().join("big.bin")).unwrap() == download);
    assert!(third.file("up.bin").unwrap() == upload);
    let mut left = dir_entries(cwd.path());
    left.retain(|name| name != ".ferry_history");
    assert_eq!(left, ["big.bin", "up.bin"], "no part left");
}
