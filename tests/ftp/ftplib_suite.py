#!/usr/bin/env python3
"""Python's ftplib against ferry-server's FTP door (docs/PROTOCOL.md §6).

Standard library only. server/tests/ftp_clients.rs starts the door with the
accounts below and runs this script; it can also be run by hand:

    python3 tests/ftp/ftplib_suite.py --port 2121 --root /srv/ferry [--ca ca.pem]

The server root must be the door's --root, with these accounts
(--login-delay 0, anonymous off):

    alice  / alice-pw   home alice/   read-write
    reader / reader-pw  home (root)   read-only
    tight  / tight-pw   home tight/   read-write, quota 65536 bytes

and --max-file-size 1MiB. The suite plants its own files on disk (a secret
beside the homes, a symbolic link inside one) and checks what the commands
did on disk too, byte for byte. Every case runs; the exit status is 1 if
any failed.
"""

import argparse
import ftplib
import io
import os
import socket
import ssl
import sys
import time
import traceback

ARGS = None
CASES = []
MAX_FILE_SIZE = 1024 * 1024
QUOTA = 65536


def case(function):
    CASES.append(function)
    return function


def noise(length, seed):
    """Deterministic incompressible-looking bytes (xorshift64)."""
    state = (seed * 0x9E3779B97F4A7C15 + 1) & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while len(out) < length:
        state ^= (state << 13) & 0xFFFFFFFFFFFFFFFF
        state ^= state >> 7
        state ^= (state << 17) & 0xFFFFFFFFFFFFFFFF
        out += state.to_bytes(8, "little")
    return bytes(out[:length])


def disk(*parts):
    return os.path.join(ARGS.root, *parts)


def read_disk(*parts):
    with open(disk(*parts), "rb") as f:
        return f.read()


def connect():
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", ARGS.port, timeout=15)
    return ftp


def login(user, password):
    ftp = connect()
    ftp.login(user, password)
    return ftp


def alice():
    return login("alice", "alice-pw")


def expect_code(code, function, *args):
    """Runs function(*args), which must fail with an FTP reply of `code`."""
    try:
        result = function(*args)
    except ftplib.all_errors as error:
        text = str(error)
        if not text.startswith(str(code)):
            raise AssertionError(f"expected {code}, got {text!r}")
        return text
    raise AssertionError(f"expected {code}, got success: {result!r}")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def store(ftp, name, data):
    ftp.storbinary(f"STOR {name}", io.BytesIO(data))


def retrieve(ftp, name, rest=None):
    chunks = []
    ftp.retrbinary(f"RETR {name}", chunks.append, rest=rest)
    return b"".join(chunks)


def stor_refused(ftp, name, data):
    """A STOR the server refuses, before or during the data: returns the
    final reply's text, which must be an error."""
    try:
        conn = ftp.transfercmd(f"STOR {name}")
    except ftplib.all_errors as error:
        return str(error)
    try:
        conn.sendall(data)
    except OSError:
        pass  # the server stopped reading: its reply says why
    finally:
        conn.close()
    try:
        reply = ftp.voidresp()
    except ftplib.all_errors as error:
        return str(error)
    raise AssertionError(f"STOR {name} of {len(data)} bytes succeeded: {reply!r}")


def mlsd_entries(ftp, path=""):
    """MLSD as {name: facts}, without the cdir/pdir rows."""
    entries = {}
    # No OPTS MLST: the server's default facts (type, size, modify).
    for name, facts in ftp.mlsd(path):
        if facts.get("type") in ("cdir", "pdir"):
            continue
        entries[name] = facts
    return entries


def reset_alice_home():
    home = disk("alice")
    for dirpath, dirnames, filenames in os.walk(home, topdown=False):
        for name in filenames:
            os.unlink(os.path.join(dirpath, name))
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                os.unlink(path)
            else:
                os.rmdir(path)


# --- Login -------------------------------------------------------------------


@case
def greeting_and_features_before_login():
    ftp = connect()
    check(ftp.getwelcome().startswith("220"), f"greeting {ftp.getwelcome()!r}")
    features = ftp.sendcmd("FEAT")
    for feature in ("SIZE", "MDTM", "MLST", "REST STREAM", "UTF8", "EPSV"):
        check(feature in features, f"FEAT lacks {feature}: {features!r}")
    check(ftp.sendcmd("SYST").startswith("215"), "SYST")
    ftp.close()


@case
def commands_before_login_get_530():
    ftp = connect()
    for command in ("PWD", "CWD alice", "SIZE x", "MDTM x", "DELE x", "MKD x", "RMD x", "RNFR x"):
        expect_code(530, ftp.sendcmd, command)
    expect_code(530, ftp.nlst)
    ftp.close()


@case
def wrong_password_unknown_user_and_anonymous_get_530():
    for user, password in (("alice", "wrong"), ("nobody", "alice-pw"), ("anonymous", "a@b"), ("ftp", "x")):
        ftp = connect()
        expect_code(530, ftp.login, user, password)
        # Still not logged in.
        expect_code(530, ftp.sendcmd, "PWD")
        ftp.close()


@case
def login_shows_the_home_as_root():
    ftp = alice()
    check(ftp.pwd() == "/", f"PWD {ftp.pwd()!r}")
    check(ftp.sendcmd("NOOP").startswith("200"), "NOOP")
    check(ftp.sendcmd("TYPE I").startswith("200"), "TYPE I")
    ftp.quit()


# --- Files ---------------------------------------------------------------------


@case
def stor_then_size_retr_and_disk_are_byte_exact():
    reset_alice_home()
    data = noise(300_000, 1)
    ftp = alice()
    store(ftp, "noise.bin", data)
    check(read_disk("alice", "noise.bin") == data, "the file on disk differs")
    check(ftp.size("noise.bin") == len(data), f"SIZE {ftp.size('noise.bin')}")
    got = retrieve(ftp, "noise.bin")
    check(got == data, f"RETR gave {len(got)} bytes, not the {len(data)} stored")
    # An empty file too.
    store(ftp, "empty", b"")
    check(ftp.size("empty") == 0 and retrieve(ftp, "empty") == b"", "empty file")
    ftp.quit()


@case
def stor_replaces_an_existing_file():
    reset_alice_home()
    ftp = alice()
    store(ftp, "f", b"old old old old")
    store(ftp, "f", b"new")
    check(read_disk("alice", "f") == b"new", "replaced file")
    check(retrieve(ftp, "f") == b"new", "RETR after replace")
    ftp.quit()


@case
def rest_then_retr_sends_the_rest():
    reset_alice_home()
    data = noise(100_000, 2)
    with open(disk("alice", "r.bin"), "wb") as f:
        f.write(data)
    ftp = alice()
    for offset in (0, 1, 65_536, 99_999, 100_000):
        got = retrieve(ftp, "r.bin", rest=offset)
        check(got == data[offset:], f"REST {offset}: {len(got)} bytes")
    ftp.quit()


@case
def mdtm_is_the_modification_time_in_utc():
    reset_alice_home()
    with open(disk("alice", "dated"), "wb") as f:
        f.write(b"x")
    stamp = 1_700_000_000  # 2023-11-14 22:13:20 UTC
    os.utime(disk("alice", "dated"), (stamp, stamp))
    ftp = alice()
    reply = ftp.sendcmd("MDTM dated")
    check(reply.startswith("213 20231114221320"), f"MDTM {reply!r}")
    expect_code(550, ftp.sendcmd, "MDTM missing")
    ftp.quit()


@case
def mlsd_lists_files_and_directories_with_facts():
    reset_alice_home()
    os.mkdir(disk("alice", "sub"))
    with open(disk("alice", "a.txt"), "wb") as f:
        f.write(b"12345")
    with open(disk("alice", "sub", "inner"), "wb") as f:
        f.write(b"1")
    stamp = 1_600_000_000  # 2020-09-13 12:26:40 UTC
    os.utime(disk("alice", "a.txt"), (stamp, stamp))
    ftp = alice()
    entries = mlsd_entries(ftp)
    check(set(entries) == {"a.txt", "sub"}, f"MLSD {entries!r}")
    check(entries["a.txt"]["type"] == "file", f"{entries['a.txt']!r}")
    check(entries["a.txt"]["size"] == "5", f"{entries['a.txt']!r}")
    check(entries["a.txt"]["modify"].startswith("20200913122640"), f"{entries['a.txt']!r}")
    check(entries["sub"]["type"] == "dir", f"{entries['sub']!r}")
    inner = mlsd_entries(ftp, "sub")
    check(set(inner) == {"inner"} and inner["inner"]["size"] == "1", f"MLSD sub {inner!r}")
    reply = ftp.sendcmd("MLST a.txt")
    check(reply.startswith("250") and "size=5" in reply.lower(), f"MLST {reply!r}")
    check(sorted(ftp.nlst()) == ["a.txt", "sub"], f"NLST {ftp.nlst()!r}")
    lines = []
    ftp.retrlines("LIST", lines.append)
    check(len(lines) == 2, f"LIST {lines!r}")
    check(any(l.startswith("d") and l.endswith(" sub") for l in lines), f"LIST {lines!r}")
    check(any(l.startswith("-") and l.endswith(" a.txt") and " 5 " in l for l in lines), f"LIST {lines!r}")
    ftp.quit()


@case
def rnfr_rnto_renames_and_replaces():
    reset_alice_home()
    ftp = alice()
    store(ftp, "one", b"first")
    store(ftp, "two", b"second")
    ftp.rename("one", "uno")
    check(not os.path.exists(disk("alice", "one")), "the old name stays")
    check(read_disk("alice", "uno") == b"first", "renamed content")
    # Onto an existing file: replaces it.
    ftp.rename("uno", "two")
    check(read_disk("alice", "two") == b"first", "rename onto a file should replace it")
    check(sorted(ftp.nlst()) == ["two"], f"NLST {ftp.nlst()!r}")
    ftp.mkd("d")
    ftp.rename("two", "d/two")
    check(read_disk("alice", "d", "two") == b"first", "rename into a directory")
    expect_code(550, ftp.rename, "missing", "x")
    ftp.quit()


@case
def dele_mkd_rmd_and_their_refusals():
    reset_alice_home()
    ftp = alice()
    reply = ftp.sendcmd("MKD newdir")
    check(reply.startswith("257"), f"MKD {reply!r}")
    check(os.path.isdir(disk("alice", "newdir")), "MKD on disk")
    expect_code(550, ftp.mkd, "newdir")
    expect_code(550, ftp.mkd, "no/such/parent")
    store(ftp, "newdir/f", b"f")
    expect_code(550, ftp.rmd, "newdir")
    expect_code(550, ftp.delete, "newdir")
    ftp.delete("newdir/f")
    check(not os.path.exists(disk("alice", "newdir", "f")), "DELE on disk")
    expect_code(550, ftp.delete, "newdir/f")
    ftp.rmd("newdir")
    check(not os.path.exists(disk("alice", "newdir")), "RMD on disk")
    expect_code(550, ftp.rmd, "newdir")
    expect_code(550, ftp.size, "missing")
    ftp.mkd("adir")
    expect_code(550, ftp.size, "adir")
    expect_code(550, retrieve, ftp, "adir")
    expect_code(550, store, ftp, "no/such/dir/f", b"x")
    ftp.quit()


@case
def working_directory_cwd_cdup_and_absolute_paths():
    reset_alice_home()
    os.makedirs(disk("alice", "a", "b"))
    with open(disk("alice", "a", "b", "deep"), "wb") as f:
        f.write(b"deep bytes")
    ftp = alice()
    ftp.cwd("a/b")
    check(ftp.pwd() == "/a/b", f"PWD {ftp.pwd()!r}")
    check(retrieve(ftp, "deep") == b"deep bytes", "RETR relative to the working directory")
    check(retrieve(ftp, "/a/b/deep") == b"deep bytes", "RETR of an absolute path")
    check(retrieve(ftp, "../b/deep") == b"deep bytes", "RETR through ..")
    ftp.sendcmd("CDUP")
    check(ftp.pwd() == "/a", f"PWD after CDUP {ftp.pwd()!r}")
    ftp.cwd("/")
    check(ftp.pwd() == "/", f"PWD {ftp.pwd()!r}")
    expect_code(550, ftp.cwd, "missing")
    store(ftp, "plain", b"p")
    expect_code(550, ftp.cwd, "plain")
    check(ftp.pwd() == "/", "a refused CWD moved the working directory")
    ftp.quit()


# --- Confinement -----------------------------------------------------------------


def plant_secret_and_link():
    """A secret beside alice's home and links to it inside the home."""
    with open(disk("secret.txt"), "wb") as f:
        f.write(b"SECRET")
    os.makedirs(disk("outside"), exist_ok=True)
    with open(disk("outside", "hidden"), "wb") as f:
        f.write(b"HIDDEN")
    os.symlink(disk("secret.txt"), disk("alice", "link"))
    os.symlink(disk("outside"), disk("alice", "linkdir"))


@case
def traversal_stays_inside_the_home():
    reset_alice_home()
    plant_secret_and_link()
    ftp = alice()
    for path in ("..", "../..", "../../..", "/..", "/../.."):
        try:
            ftp.cwd(path)
        except ftplib.error_perm:
            pass
        check(ftp.pwd() == "/", f"CWD {path} left PWD at {ftp.pwd()!r}")
        check(ftp.nlst() == [], f"CWD {path} then NLST shows {ftp.nlst()!r}")
    for path in ("../secret.txt", "../../secret.txt", "/../secret.txt", "../../etc/passwd",
                 "../../../../../../etc/passwd", "/etc/passwd", "../outside/hidden"):
        text = expect_code(550, retrieve, ftp, path)
        check("SECRET" not in text and "root:" not in text, text)
        expect_code(550, ftp.size, path)
    # Writes through .. land in the home, never beside it.
    store(ftp, "../escaped", b"e")
    check(not os.path.exists(disk("escaped")), "STOR ../escaped wrote beside the home")
    check(read_disk("alice", "escaped") == b"e", "STOR ../escaped is the home's escaped")
    check(read_disk("secret.txt") == b"SECRET", "the secret changed")
    ftp.quit()


@case
def links_in_the_home_are_never_followed_nor_listed():
    reset_alice_home()
    plant_secret_and_link()
    ftp = alice()
    check(ftp.nlst() == [], f"NLST lists links: {ftp.nlst()!r}")
    check(mlsd_entries(ftp) == {}, f"MLSD lists links: {mlsd_entries(ftp)!r}")
    expect_code(550, retrieve, ftp, "link")
    expect_code(550, ftp.size, "link")
    expect_code(550, ftp.cwd, "linkdir")
    expect_code(550, retrieve, ftp, "linkdir/hidden")
    expect_code(550, ftp.sendcmd, "MLST link")
    expect_code(550, store, ftp, "link", b"overwrite")
    expect_code(550, store, ftp, "linkdir/new", b"new")
    expect_code(550, ftp.delete, "link")
    expect_code(550, ftp.rename, "link", "other")
    check(read_disk("secret.txt") == b"SECRET", "the link's target changed")
    check(os.path.islink(disk("alice", "link")), "the link itself was replaced or removed")
    check(not os.path.exists(disk("outside", "new")), "a file was written through a link")
    ftp.quit()


@case
def invalid_names_get_553():
    reset_alice_home()
    ftp = alice()
    for name in ("back\\slash", "tab\tname", "ctl\x01"):
        text = stor_refused(ftp, name, b"x")
        check(text.startswith("553"), f"STOR {name!r}: {text!r}")
    expect_code(553, ftp.mkd, "new\\dir")
    check(os.listdir(disk("alice")) == [], f"refused names left {os.listdir(disk('alice'))!r}")
    ftp.quit()


@case
def the_staging_area_is_unreachable():
    ftp = login("reader", "reader-pw")
    names = ftp.nlst()
    check(not any(name.startswith(".ferry") for name in names), f"NLST shows staging: {names!r}")
    expect_code(550, ftp.cwd, ".ferry-tmp")
    expect_code(550, ftp.nlst, ".ferry-tmp")
    ftp.quit()


# --- Permissions, limits and quota -------------------------------------------------


@case
def read_only_account_reads_but_changes_nothing():
    reset_alice_home()
    with open(disk("alice", "kept"), "wb") as f:
        f.write(b"keep me")
    ftp = login("reader", "reader-pw")
    check(retrieve(ftp, "alice/kept") == b"keep me", "read-only RETR")
    check(stor_refused(ftp, "alice/kept", b"changed").startswith("550"), "read-only STOR")
    check(stor_refused(ftp, "new", b"new").startswith("550"), "read-only STOR of a new file")
    expect_code(550, ftp.delete, "alice/kept")
    expect_code(550, ftp.mkd, "newdir")
    expect_code(550, ftp.rmd, "alice")
    expect_code(550, ftp.rename, "alice/kept", "alice/moved")
    check(read_disk("alice", "kept") == b"keep me", "read-only account changed a file")
    check(not os.path.exists(disk("new")) and not os.path.exists(disk("newdir")), "read-only created")
    ftp.quit()


@case
def over_the_size_limit_is_552_and_nothing_is_kept():
    reset_alice_home()
    ftp = alice()
    store(ftp, "big", b"old")
    text = stor_refused(ftp, "big", noise(MAX_FILE_SIZE + 1, 3))
    check(text.startswith("552"), f"STOR over the size limit: {text!r}")
    check(read_disk("alice", "big") == b"old", "the old file was not kept intact")
    text = stor_refused(ftp, "fresh", noise(MAX_FILE_SIZE + 1, 4))
    check(text.startswith("552"), f"STOR over the size limit: {text!r}")
    check(not os.path.exists(disk("alice", "fresh")), "a refused upload was kept")
    # Exactly the limit is fine.
    data = noise(MAX_FILE_SIZE, 5)
    store(ftp, "limit", data)
    check(read_disk("alice", "limit") == data, "an upload of exactly the limit")
    ftp.quit()


@case
def over_the_quota_is_552_and_nothing_is_kept():
    ftp = login("tight", "tight-pw")
    for name in ftp.nlst():
        ftp.delete(name)
    first = noise(QUOTA - 1000, 6)
    store(ftp, "first", first)
    text = stor_refused(ftp, "second", noise(2000, 7))
    check(text.startswith("552"), f"STOR over the quota: {text!r}")
    check(sorted(ftp.nlst()) == ["first"], f"NLST after a refused upload {ftp.nlst()!r}")
    check(not os.path.exists(disk("tight", "second")), "an upload over the quota was kept")
    # Replacing within the quota works.
    store(ftp, "first", b"small")
    store(ftp, "second", noise(2000, 7))
    check(read_disk("tight", "second") == noise(2000, 7), "an upload within the quota")
    ftp.quit()


@case
def a_stor_cut_off_by_a_reset_keeps_the_old_file():
    reset_alice_home()
    ftp = alice()
    store(ftp, "victim", b"original")
    conn = ftp.transfercmd("STOR victim")
    conn.sendall(noise(200_000, 8))
    # RST instead of FIN: SO_LINGER with a zero timeout.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()
    try:
        ftp.voidresp()
    except ftplib.all_errors:
        pass
    ftp.close()
    time.sleep(0.5)
    check(read_disk("alice", "victim") == b"original", "a reset STOR replaced the file")
    ftp = alice()
    check(sorted(ftp.nlst()) == ["victim"], f"NLST {ftp.nlst()!r}")
    check(retrieve(ftp, "victim") == b"original", "RETR after a reset STOR")
    ftp.quit()


# --- FTPS --------------------------------------------------------------------------


@case
def ftps_with_the_test_ca():
    if not ARGS.ca:
        return
    reset_alice_home()
    context = ssl.create_default_context(cafile=ARGS.ca)
    ftp = ftplib.FTP_TLS(context=context)
    ftp.connect("127.0.0.1", ARGS.port, timeout=15)
    ftp.auth()
    ftp.login("alice", "alice-pw")
    ftp.prot_p()
    data = noise(500_000, 9)
    store(ftp, "secure.bin", data)
    check(read_disk("alice", "secure.bin") == data, "FTPS STOR on disk")
    check(retrieve(ftp, "secure.bin") == data, "FTPS RETR")
    check(sorted(ftp.nlst()) == ["secure.bin"], f"FTPS NLST {ftp.nlst()!r}")
    ftp.quit()
    # A client that does not trust the CA refuses the door.
    ftp = ftplib.FTP_TLS(context=ssl.create_default_context())
    ftp.connect("127.0.0.1", ARGS.port, timeout=15)
    try:
        ftp.auth()
    except ssl.SSLCertVerificationError:
        pass
    else:
        raise AssertionError("an untrusted certificate was accepted")
    finally:
        ftp.close()


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--ca", help="CA file: also run the FTPS case")
    parser.add_argument("--only", help="run only the cases whose name contains this")
    ARGS = parser.parse_args()
    failed = []
    ran = 0
    for function in CASES:
        if ARGS.only and ARGS.only not in function.__name__:
            continue
        ran += 1
        try:
            function()
        except Exception:  # every case runs and reports
            failed.append(function.__name__)
            print(f"FAIL {function.__name__}")
            traceback.print_exc(file=sys.stdout)
        else:
            print(f"ok   {function.__name__}")
    print(f"{ran - len(failed)} of {ran} passed")
    return 1 if failed or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
