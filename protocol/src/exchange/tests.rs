use super::*;
use crate::{EntryKind, Path, Reply, Status, Verb};

fn done(verb: Verb, code: u16, text: &str, body: &[u8]) -> Done {
    Done {
        verb,
        reply: Reply::new(code, text),
        body: body.to_vec(),
    }
}

fn path(text: &str) -> Path {
    Path::new(text).unwrap()
}

#[test]
fn each_success_is_typed_and_checked() {
    let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let hash = Hash(path("d/f"));
    let ok = done(Verb::Hash, 213, &format!("SHA-256 {hex}"), b"");
    assert_eq!(hash.success(ok), Ok(hex.to_owned()));
    assert!(hash.success(done(Verb::Hash, 250, "Deleted", b"")).is_err());
    assert!(hash
        .success(done(Verb::Hash, 213, "SHA-256 xyz", b""))
        .is_err());
    let listed = List(Some(path("d"))).success(done(
        Verb::List,
        226,
        "2 entries",
        b"5\t2026-11-24T16:13:25Z\ta.txt\n-\t2026-11-24T16:13:25Z\tsub/\n",
    ));
    let listed = listed.unwrap();
    assert_eq!(listed[0].name.as_str(), "a.txt");
    assert!(listed[1].is_dir());
    assert_eq!(List(None).command(), Command::List(None));
    assert!(Delete(path("f"))
        .success(done(Verb::Delete, 226, "x", b""))
        .is_err());
    assert_eq!(
        Help.success(done(Verb::Help, 214, "LIST QUIT", b"")),
        Ok("LIST QUIT".into())
    );
}

#[test]
fn directory_operations_have_their_own_codes() {
    let mkdir = Mkdir(path("a/b"));
    assert_eq!(
        mkdir.success(done(Verb::Mkdir, 257, "Created", b"")),
        Ok(())
    );
    assert!(mkdir.success(done(Verb::Mkdir, 250, "x", b"")).is_err());
    let rmdir = Rmdir(path("a/b"));
    assert_eq!(
        rmdir.success(done(Verb::Rmdir, 250, "Removed", b"")),
        Ok(())
    );
    assert!(rmdir.success(done(Verb::Rmdir, 257, "x", b"")).is_err());
    let rename = Rename {
        from: path("a"),
        to: path("b/c"),
    };
    assert_eq!(rename.command().to_string(), "RENAME a\tb/c");
    assert_eq!(
        rename.success(done(Verb::Rename, 250, "Renamed", b"")),
        Ok(())
    );
    let stat = Stat(path("a"));
    assert_eq!(
        stat.success(done(Verb::Stat, 213, "dir - 2026-11-24T16:13:25Z", b"")),
        Ok(Status {
            kind: EntryKind::Directory,
            modified: 1_795_536_805
        })
    );
    assert_eq!(
        stat.success(done(Verb::Stat, 213, "file 7 1970-01-01T00:00:00Z", b"")),
        Ok(Status {
            kind: EntryKind::File { size: 7 },
            modified: 0
        })
    );
    assert!(stat
        .success(done(Verb::Stat, 213, "SHA-256 abc", b""))
        .is_err());
}

#[test]
fn login_steps() {
    let user = User("alice".into());
    assert_eq!(
        user.success(done(Verb::User, 331, "Password required", b"")),
        Ok(Login::PasswordRequired)
    );
    assert_eq!(
        user.success(done(Verb::User, 230, "No login required", b"")),
        Ok(Login::LoggedIn)
    );
    let pass = Pass(crate::Password::new("pw"));
    assert_eq!(
        pass.success(done(Verb::Pass, 230, "Logged in", b"")),
        Ok(())
    );
    assert!(pass.success(done(Verb::Pass, 331, "x", b"")).is_err());
}
