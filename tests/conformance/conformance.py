#!/usr/bin/env python3
"""Conformance test of ferry-server, written from docs/PROTOCOL.md alone.

It treats the server as a black box (the built binary, real sockets on
127.0.0.1, a temp root) and checks the exact reply codes the contract names.
Standard library only.

Usage: conformance.py PATH/TO/ferry-server

On an object store instead of a directory: set FERRY_CONFORMANCE_STORE to a
store URL (e.g. swift://127.0.0.1:8080/ferry/conformance) and the store's
credentials in FERRY_STORE_USER and FERRY_STORE_KEY (the server reads them
from the environment). Each server then serves a prefix of its own under
that URL instead of --root, seeded through the protocol with two sample
files as a new root is; the cases that set up fixtures on the disk itself
(symbolic links, a home looked at on the disk) skip what needs the disk.
"""

import hashlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SERVER = None  # set from argv
STORE = os.environ.get("FERRY_CONFORMANCE_STORE", "").rstrip("/")
ON_DISK_ONLY = unittest.skipIf(STORE, "fixtures on the disk; the server is on an object store")
REPLY = re.compile(rb"^([1-5][0-9][0-9]) (.*)\r\n$")
# A file row (size) or, since version 2, a directory row ("-", name ending in "/").
LISTING_ROW = re.compile(rb"^(\d+|-)\t(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\t([^\t\n]+)\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args):
    """ferry-server ARGS on a free loopback port, once it accepts: (process, port)."""
    port = free_port()
    proc = subprocess.Popen(
        [SERVER, *args, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
                # QUIT and wait for the close, so the probe's session has
                # ended and no longer counts against --max-connections.
                probe.sendall(b"QUIT\r\n")
                while probe.recv(65536):
                    pass
            return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ferry-server did not start")
            time.sleep(0.05)


def new_store_prefix():
    """--store with a prefix no other server of this run has, holding the two
    sample files a new root gets (STOREd by a server of its own)."""
    new_store_prefix.count += 1
    where = ["--store", f"{STORE}/run{os.getpid()}-{new_store_prefix.count}"]
    proc, port = spawn(where)
    try:
        for name in ["serverTestFile.txt", "welcome.txt"]:
            c = Client(port)
            c.reply()
            assert c.store(name, b"a sample file\n")[0] == 226, "seeding the store"
            c.close()
    finally:
        proc.kill()
        proc.wait()
    return where


new_store_prefix.count = 0


class Server:
    """A ferry-server child process on a free loopback port, serving `root`
    (or, with FERRY_CONFORMANCE_STORE, a new prefix in the store)."""

    def __init__(self, root, *flags):
        where = new_store_prefix() if STORE else ["--root", root]
        self.proc, self.port = spawn([*where, *flags])

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Client:
    """A raw protocol client: lines and byte counts, nothing more."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def reply(self):
        line = self.line()
        m = REPLY.match(line)
        assert m, f"malformed reply line {line!r}"
        return int(m.group(1)), m.group(2).decode()

    def exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.reply()

    def closed(self):
        """True when the server closed the connection (EOF, nothing pending)."""
        if self.buf:
            return False
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def data_command(self, text):
        code, rest = self.cmd(text)
        if code != 150:
            return code, rest, None
        n = int(rest.split(" ")[0])
        data = self.exact(n)
        code, rest = self.reply()
        return code, rest, data

    def store(self, name, data):
        code, rest = self.cmd(f"STORE {len(data)} {name}")
        if code != 150:
            return code, rest
        self.send(data)
        return self.reply()

    def close(self):
        self.sock.close()


class ServerCase(unittest.TestCase):
    flags = ()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.outside = os.path.join(self.tmp.name, "outside.txt")
        with open(self.outside, "wb") as f:
            f.write(b"secret")
        self.root = os.path.join(self.tmp.name, "root")
        self.server = Server(self.root, *self.flags)
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.server.stop()
        with open(self.outside, "rb") as f:
            self.assertEqual(f.read(), b"secret", "a file outside the root changed")
        self.tmp.cleanup()

    def connect(self, greet=True):
        c = Client(self.server.port)
        self.clients.append(c)
        if greet:
            code, _ = c.reply()
            self.assertEqual(code, 220)
        return c


class Commands(ServerCase):
    def test_sample_files_and_listing_format(self):
        c = self.connect()
        code, rest, body = c.data_command("LIST")
        self.assertEqual(code, 226)
        rows = body.splitlines(keepends=True)
        self.assertGreaterEqual(len(rows), 2, "first run creates two sample files")
        self.assertTrue(rest.startswith(f"{len(rows)} "), rest)
        names = []
        for row in rows:
            m = LISTING_ROW.match(row)
            self.assertIsNotNone(m, row)
            names.append(m.group(3))
        self.assertEqual(names, sorted(names))

    def test_round_trip_hash_delete(self):
        c = self.connect()
        data = bytes(range(256)) * 40
        for name in ["plain.bin", "with space ü 名.bin"]:
            self.assertEqual(c.store(name, data)[0], 226)
            code, _, got = c.data_command(f"RETRIEVE {name}")
            self.assertEqual((code, got), (226, data))
            code, _, got = c.data_command(f"retr {name}")
            self.assertEqual((code, got), (226, data))
            code, rest = c.cmd(f"HASH {name}")
            self.assertEqual((code, rest), (213, "SHA-256 " + hashlib.sha256(data).hexdigest()))
            _, _, body = c.data_command("LIST")
            self.assertIn(f"{len(data)}\t".encode(), body)
            self.assertIn(("\t" + name + "\n").encode(), body)
            self.assertEqual(c.cmd(f"DELETE {name}")[0], 250)
            self.assertEqual(c.cmd(f"DELE {name}")[0], 550)
            self.assertEqual(c.data_command(f"RETRIEVE {name}")[0], 550)
            self.assertEqual(c.cmd(f"HASH {name}")[0], 550)

    def test_exact_store_replies_and_empty_file(self):
        c = self.connect()
        code, rest = c.cmd("STORE 3 three")
        self.assertEqual((code, rest), (150, "Ready for 3 bytes"))
        c.send(b"abc")
        self.assertEqual(c.reply(), (226, "Stored 3 bytes"))
        self.assertEqual(c.store("empty", b""), (226, "Stored 0 bytes"))
        code, rest, data = c.data_command("RETRIEVE empty")
        self.assertEqual((code, rest, data), (226, "Transfer complete", b""))
        self.assertEqual(c.store("three", b"xy")[0], 226, "STORE replaces")
        self.assertEqual(c.data_command("RETRIEVE three")[2], b"xy")

    def test_simple_commands_and_errors(self):
        c = self.connect()
        self.assertEqual(c.cmd("NOOP"), (200, "OK"))
        self.assertEqual(c.cmd("noop")[0], 200)
        code, rest = c.cmd("HELP")
        self.assertEqual(code, 214)
        verbs = ("LIST RETRIEVE READ STAT STORE RESUME DELETE MKDIR RMDIR RENAME HASH "
                 "USER PASS NOOP HELP QUIT").split()
        self.assertEqual(sorted(rest.split(" ")), sorted(verbs), "the 16 verbs, no aliases")
        self.assertEqual(c.cmd("FROB"), (502, "Unknown command"))
        self.assertEqual(c.cmd("RETRIEVE")[0], 501)
        self.assertEqual(c.cmd("DELETE")[0], 501)
        self.assertEqual(c.cmd("HASH")[0], 501)
        self.assertEqual(c.cmd("STORE")[0], 501)
        self.assertEqual(c.cmd("STORE x name")[0], 501)
        self.assertEqual(c.cmd("STORE -5 name")[0], 501)
        self.assertEqual(c.cmd("STORE 5")[0], 501)
        for bad in ["../x", "/etc/passwd", "..\\x", "..", ".", "a\tb", "x" * 256]:
            self.assertEqual(c.cmd(f"RETRIEVE {bad}")[0], 553, bad)
            self.assertEqual(c.cmd(f"STORE 1 {bad}")[0], 553, bad)
            self.assertEqual(c.cmd(f"DELETE {bad}")[0], 553, bad)
            self.assertEqual(c.cmd(f"HASH {bad}")[0], 553, bad)
        c.send(b"RETRIEVE a\x00b\r\n")
        self.assertEqual(c.reply()[0], 553)
        self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_long_line_and_bare_lf(self):
        c = self.connect()
        c.send(b"NOOP " + b"x" * 9000 + b"\r\n")
        self.assertEqual(c.reply(), (500, "Line too long"))
        c.send(b"NOOP\n")
        self.assertEqual(c.reply()[0], 200)
        c.send(b"STORE 2 lf\n")
        self.assertEqual(c.reply()[0], 150)
        c.send(b"ok")
        self.assertEqual(c.reply()[0], 226)
        exact = b"NOOP " + b"x" * (8192 - 7) + b"\r\n"
        self.assertEqual(len(exact), 8192)
        c.send(exact)
        self.assertNotEqual(c.reply()[0], 500, "an 8192-byte line is not too long")
        self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_quit(self):
        c = self.connect()
        self.assertEqual(c.cmd("QUIT"), (221, "Goodbye"))
        self.assertTrue(c.closed())

    @ON_DISK_ONLY
    def test_links_are_invisible_and_directories_listed(self):
        c = self.connect()
        os.symlink(self.outside, os.path.join(self.root, "link"))
        os.mkdir(os.path.join(self.root, "dir"))
        _, _, body = c.data_command("LIST")
        self.assertNotIn(b"\tlink\n", body)
        self.assertNotIn(b"\tlink/\n", body)
        self.assertIn(b"-\t", body)
        self.assertIn(b"\tdir/\n", body)
        self.assertEqual(c.data_command("RETRIEVE link")[0], 550)
        self.assertEqual(c.cmd("HASH link")[0], 550)
        self.assertEqual(c.cmd("DELETE link")[0], 550)
        self.assertEqual(c.data_command("RETRIEVE dir")[0], 550)
        self.assertEqual(c.store("link", b"new")[0], 550, "version 2: a link is never replaced")
        self.assertEqual(c.data_command("RETRIEVE link/x")[0], 550)
        with open(self.outside, "rb") as f:
            self.assertEqual(f.read(), b"secret")

    def test_cut_off_store_leaves_nothing(self):
        c = self.connect()
        self.assertEqual(c.store("keep", b"old content")[0], 226)
        c.cmd("STORE 1000 keep")
        c.send(b"partial")
        c.close()
        self.clients.remove(c)
        time.sleep(0.3)
        d = self.connect()
        self.assertEqual(d.data_command("RETRIEVE keep")[2], b"old content")
        c2 = self.connect()
        c2.cmd("STORE 1000 fresh")
        c2.send(b"partial")
        c2.close()
        self.clients.remove(c2)
        time.sleep(0.3)
        _, _, body = d.data_command("LIST")
        self.assertNotIn(b"fresh", body)
        self.assertEqual(d.data_command("RETRIEVE fresh")[0], 550)


class Directories(ServerCase):
    """Version 2: paths, directories, STAT, READ, RENAME."""

    def test_a_missing_path_with_a_slash_is_550(self):
        c = self.connect()
        self.assertEqual(c.data_command("RETRIEVE a/b")[0], 550)
        self.assertEqual(c.cmd("HASH a/b")[0], 550)
        self.assertEqual(c.cmd("DELETE a/b")[0], 550)
        self.assertEqual(c.cmd("STORE 1 a/b")[0], 550, "parent missing")
        self.assertEqual(c.cmd("STAT a/b")[0], 550)
        self.assertEqual(c.data_command("LIST a")[0], 550)
        for bad in ["a//b", "a/", "/a", "a/../b", "a/./b"]:
            self.assertEqual(c.cmd(f"STAT {bad}")[0], 553, bad)
        self.assertEqual(c.cmd("NOOP")[0], 200)

    def test_nested_tree(self):
        c = self.connect()
        self.assertEqual(c.cmd("MKDIR d"), (257, "Created"))
        self.assertEqual(c.cmd("MKDIR d")[0], 550)
        self.assertEqual(c.store("d/f.txt", b"0123456789")[0], 226)
        self.assertEqual(c.data_command("RETRIEVE d/f.txt")[2], b"0123456789")
        self.assertEqual(c.data_command("READ 3 4 d/f.txt")[1:], ("Transfer complete", b"3456"))
        self.assertEqual(c.data_command("READ 10 4 d/f.txt")[2], b"")
        self.assertEqual(c.cmd("READ 11 4 d/f.txt")[0], 501)
        code, rest = c.cmd("STAT d/f.txt")
        self.assertEqual(code, 213)
        self.assertTrue(re.match(r"^file 10 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", rest), rest)
        code, rest = c.cmd("STAT d")
        self.assertTrue(rest.startswith("dir - "), rest)
        self.assertEqual(c.cmd("RMDIR d")[0], 550, "not empty")
        self.assertEqual(c.cmd("RENAME d/f.txt")[0], 501, "no TAB")
        self.assertEqual(c.cmd("RENAME d/f.txt\tg.txt"), (250, "Renamed"))
        self.assertEqual(c.cmd("RENAME d\td/inner")[0], 550, "into itself")
        self.assertEqual(c.cmd("DELETE d")[0], 550, "a directory")
        self.assertEqual(c.cmd("RMDIR d"), (250, "Removed"))
        self.assertEqual(c.data_command("RETRIEVE g.txt")[2], b"0123456789")

    def test_listing_order_with_directories(self):
        c = self.connect()
        for name in ["a.txt", "a0"]:
            self.assertEqual(c.store(name, b"x")[0], 226)
        self.assertEqual(c.cmd("MKDIR a")[0], 257)
        _, rest, body = c.data_command("LIST")
        names = [LISTING_ROW.match(row).group(3) for row in body.splitlines(keepends=True)]
        ours = [n for n in names if n.startswith(b"a")]
        self.assertEqual(ours, [b"a.txt", b"a/", b"a0"])

    def test_login_verbs_without_accounts(self):
        c = self.connect()
        self.assertEqual(c.cmd("PASS x")[0], 230)
        self.assertEqual(c.cmd("USER someone")[0], 230)


class ReadOnly(ServerCase):
    flags = ("--read-only",)

    def test_store_and_delete_refused(self):
        c = self.connect()
        code, _ = c.cmd("STORE 1 x")
        self.assertEqual(code, 550)
        c.send(b"NOOP\r\n")  # nothing was sent as data: the next line is a command
        self.assertEqual(c.reply()[0], 200)
        _, _, body = c.data_command("LIST")
        name = LISTING_ROW.match(body).group(3).decode()
        self.assertEqual(c.cmd(f"DELETE {name}")[0], 550)
        self.assertEqual(c.data_command(f"RETRIEVE {name}")[0], 226)


class Limits(ServerCase):
    flags = ("--max-file-size", "10", "--max-connections", "2", "--idle-timeout", "1")

    def test_size_limit(self):
        c = self.connect()
        self.assertEqual(c.cmd("STORE 11 big")[0], 552)
        self.assertEqual(c.store("fits", b"0123456789")[0], 226)

    def test_connection_limit(self):
        self.connect()
        self.connect()
        third = self.connect(greet=False)
        self.assertEqual(third.reply(), (421, "Too many connections"))
        self.assertTrue(third.closed())

    def test_idle_timeout(self):
        c = self.connect()
        started = time.monotonic()
        self.assertEqual(c.reply(), (421, "Idle timeout"))
        self.assertLess(time.monotonic() - started, 5)
        self.assertTrue(c.closed())


class Resume(ServerCase):
    """§3.3: kept partial uploads and RESUME."""

    DATA = bytes((i * 7 + i // 251) % 256 for i in range(100000))

    def cut_off(self, name, size, sent):
        c = self.connect()
        code, _ = c.cmd(f"STORE {size} {name}")
        self.assertEqual(code, 150)
        c.send(self.DATA[:sent])
        c.close()
        self.clients.remove(c)

    def resume(self, c, name, size):
        """RESUME, retried while the cut-off connection's upload is still
        ending on the server (450); returns the r of `150 <r> bytes`."""
        deadline = time.monotonic() + 10
        while True:
            code, rest = c.cmd(f"RESUME {size} {name}")
            if code != 450 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(code, 150, rest)
        n, unit = rest.split(" ")
        self.assertEqual(unit, "bytes")
        return int(n)

    def test_resume_sends_only_the_rest(self):
        self.cut_off("r", 100000, 40000)
        c = self.connect()
        time.sleep(0.3)
        _, _, body = c.data_command("LIST")
        self.assertNotIn(b"\tr\n", body, "a kept upload is never listed")
        self.assertEqual(c.data_command("RETRIEVE r")[0], 550)
        self.assertEqual(self.resume(c, "r", 100000), 60000)
        c.send(self.DATA[40000:])
        self.assertEqual(c.reply(), (226, "Stored 100000 bytes"))
        self.assertEqual(c.cmd("NOOP")[0], 200, "exactly r bytes were wanted")
        self.assertEqual(c.data_command("RETRIEVE r")[2], self.DATA)
        self.assertEqual(self.resume(c, "r", 3), 3, "nothing kept after completion")
        c.send(b"abc")
        self.assertEqual(c.reply()[0], 226)

    def test_another_size_and_a_delete_discard(self):
        self.cut_off("s", 1000, 400)
        c = self.connect()
        self.assertEqual(self.resume(c, "s", 500), 500)
        c.send(self.DATA[:500])
        self.assertEqual(c.reply()[0], 226)
        self.assertEqual(self.resume(c, "s", 1000), 1000, "another size discarded it")
        c.send(self.DATA[:1000])
        self.assertEqual(c.reply()[0], 226)
        self.cut_off("s", 2000, 700)
        time.sleep(0.3)
        self.assertEqual(c.cmd("DELETE s")[0], 250)
        self.assertEqual(self.resume(c, "s", 2000), 2000, "DELETE discarded it")

    def test_the_same_upload_twice_at_once_is_450(self):
        first = self.connect()
        second = self.connect()
        self.assertEqual(first.cmd("STORE 10 q")[0], 150)
        self.assertEqual(second.cmd("STORE 10 q")[0], 450)
        self.assertEqual(second.cmd("RESUME 10 q")[0], 450)
        first.send(b"0123456789")
        self.assertEqual(first.reply()[0], 226)
        self.assertEqual(second.store("q", b"abcdefghij")[0], 226)


class ResumeWindowZero(Resume):
    flags = ("--resume-window", "0")

    def test_resume_sends_only_the_rest(self):
        self.cut_off("r", 100000, 40000)
        c = self.connect()
        self.assertEqual(self.resume(c, "r", 100000), 100000, "window 0 keeps nothing")

    test_another_size_and_a_delete_discard = None


class ResumeWindowEnds(ServerCase):
    flags = ("--resume-window", "1")

    def test_the_window_ends(self):
        c = self.connect()
        self.assertEqual(c.cmd("STORE 1000 w")[0], 150)
        c.send(b"x" * 400)
        c.close()
        self.clients.remove(c)
        time.sleep(2.5)
        d = self.connect()
        self.assertEqual(d.cmd("RESUME 1000 w"), (150, "1000 bytes"))


class Accounts(ServerCase):
    """§3.5 through the binary's own flags and account tool."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.outside = os.path.join(self.tmp.name, "outside.txt")
        with open(self.outside, "wb") as f:
            f.write(b"secret")
        self.root = os.path.join(self.tmp.name, "root")
        accounts = os.path.join(self.tmp.name, "accounts.toml")
        for name, password, extra in [
            ("alice", "wonderland", ["--home", "users/alice", "--quota", "10"]),
            ("reader", "pw", ["--read-only"]),
        ]:
            subprocess.run(
                [SERVER, "accounts", "add", name, "--accounts", accounts, *extra,
                 "--password-stdin"],
                input=password.encode() + b"\n", check=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        self.server = Server(
            self.root, "--accounts", accounts, "--anonymous", "off",
            "--login-delay", "0", "--login-limit", "3", "--login-window", "2",
        )
        self.clients = []

    def login(self, c, name, password):
        self.assertEqual(c.cmd(f"USER {name}"), (331, "Password required"))
        return c.cmd(f"PASS {password}")

    def test_logged_out_sessions_get_530(self):
        c = self.connect()
        self.assertEqual(c.cmd("LIST"), (530, "Not logged in"))
        self.assertEqual(c.cmd("STORE x ../a")[0], 530, "530 before 501 and 553")
        self.assertEqual(c.cmd("FOO")[0], 502)
        self.assertEqual(c.cmd("NOOP")[0], 200)
        self.assertEqual(c.cmd("PASS wonderland")[0], 503)

    def test_home_read_only_and_quota(self):
        c = self.connect()
        self.assertEqual(self.login(c, "alice", "wonderland"), (230, "Logged in"))
        if not STORE:
            self.assertTrue(os.path.isdir(os.path.join(self.root, "users", "alice")))
        code, _, body = c.data_command("LIST")
        self.assertEqual((code, body), (226, b""), "the new home is empty")
        self.assertEqual(c.data_command("RETRIEVE ../outside.txt")[0], 553)
        self.assertEqual(c.cmd("STORE 11 big")[0], 552, "over the quota")
        self.assertEqual(c.cmd("NOOP")[0], 200, "no data was expected")
        self.assertEqual(c.store("ten", b"0123456789")[0], 226, "an exact fit")
        self.assertEqual(c.store("ten", b"9876543210")[0], 226, "replacing counts the difference")
        self.assertEqual(c.store("one", b"1")[0], 552)
        if not STORE:
            with open(os.path.join(self.root, "users", "alice", "ten"), "rb") as f:
                self.assertEqual(f.read(), b"9876543210")
        r = self.connect()
        self.assertEqual(self.login(r, "reader", "pw")[0], 230)
        self.assertEqual(r.cmd("MKDIR d"), (550, "Read-only"))
        self.assertEqual(r.data_command("RETRIEVE users/alice/ten")[2], b"9876543210")

    def test_failures_lock_the_address_out_for_the_window(self):
        c = self.connect()
        self.assertEqual(self.login(c, "alice", "guess"), (530, "Login incorrect"))
        started = time.monotonic()  # the failure was counted before its reply
        self.assertEqual(self.login(c, "nobody", "guess"), (530, "Login incorrect"))
        self.assertEqual(self.login(c, "alice", "guess"), (421, "Too many failed logins"))
        self.assertTrue(c.closed())
        locked = self.connect(greet=False)
        self.assertEqual(locked.reply(), (421, "Too many failed logins"))
        self.assertTrue(locked.closed())
        time.sleep(max(0.0, 2.3 - (time.monotonic() - started)))
        c = self.connect()
        self.assertEqual(self.login(c, "alice", "wonderland")[0], 230)


if __name__ == "__main__":
    SERVER = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
