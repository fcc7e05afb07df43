//! Fixtures of the tests that cut a transfer off and pick it up on another
//! server: the servers must hold the same file (the same bytes and the same
//! modification time, since a kept part is stamped with it and continued
//! only on a file that has not changed), and the test must wait until bytes
//! are moving before it kills the server.

use ferry_testkit::TestServer;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// The modification time the tests give every copy of a file, so a part
/// stamped from one server is known as the same file on another.
pub fn an_old_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000)
}

/// Writes `content` into `server`'s root as `name`, last changed at [`an_old_time`].
pub fn put_old_file(server: &TestServer, name: &str, content: &[u8]) {
    server.put_file(name, content);
    let file = std::fs::File::options()
        .write(true)
        .open(server.path(name))
        .unwrap();
    file.set_modified(an_old_time()).unwrap();
}

/// Whether `path` holds at least one byte.
pub fn has_bytes(path: &Path) -> bool {
    std::fs::metadata(path).map_or(0, |m| m.len()) > 0
}

/// Waits until `ready` says yes, failing with `what` after 20 seconds.
pub fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < Duration::from_secs(20), "{what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}
