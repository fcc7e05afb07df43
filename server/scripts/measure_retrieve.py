"""RETRIEVE of a large file vs. a plain TCP loopback copy of the same file, and
the server's peak RSS while serving it.

Usage (from the repository root, after `cargo build --release -p ferry-server`):

    head -c 1G /dev/urandom > /tmp/ferry-perf/big.bin   # once; the directory is the served root
    python3 server/scripts/measure_retrieve.py [RUNS] [ROOT]

Environment: FERRY_SERVER = path of the ferry-server binary (default
target/release/ferry-server, or $CARGO_TARGET_DIR/release/ferry-server).
Every transfer is received by the same Python loop (recv_into a 1 MiB
buffer). The references are sent by another process: the file with read() +
send() (a plain TCP copy of the file, like `nc < file`), and a 1 MiB memory
block sent again and again (the loopback limit: its bytes are hot in the CPU
cache, which no file server reading a 1 GiB file can match). The rounds
alternate, and ratios are taken within each round, because other load on the
machine moves all figures together.
"""
import socket, subprocess, sys, threading, time, os, re, statistics

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROOT = sys.argv[2] if len(sys.argv) > 2 else "/tmp/ferry-perf"
BINARY = os.environ.get("FERRY_SERVER") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", "target"), "release", "ferry-server")

SIZE = os.path.getsize(f"{ROOT}/big.bin")

def recv_exact(sock, n, buf):
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[: min(len(buf), n - got)])
        if k == 0:
            raise EOFError
        got += k
    return got

def readline(sock):
    line = b""
    while not line.endswith(b"\n"):
        c = sock.recv(1)
        if not c:
            raise EOFError
        line += c
    return line

SENDER = """
import socket, sys
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
buf = bytearray(1 << 20)
if sys.argv[2] == "file":
    with open(sys.argv[1], "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n: break
            conn.sendall(memoryview(buf)[:n])
else:
    left = int(sys.argv[2])
    while left:
        n = min(left, len(buf))
        conn.sendall(memoryview(buf)[:n])
        left -= n
conn.close()
"""

def plain_tcp(source):
    """A plain TCP copy over loopback from another process: the file with
    read() + send() ("file"), or a memory block sent again and again ("memory")."""
    arg = "file" if source == "file" else str(SIZE)
    sender = subprocess.Popen([sys.executable, "-c", SENDER, f"{ROOT}/big.bin", arg], stdout=subprocess.PIPE, text=True)
    port = int(sender.stdout.readline())
    c = socket.create_connection(("127.0.0.1", port))
    buf = bytearray(1 << 20)
    start = time.perf_counter()
    recv_exact(c, SIZE, buf)
    el = time.perf_counter() - start
    c.close(); sender.wait()
    return el

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def ferry(port, peak):
    c = socket.create_connection(("127.0.0.1", port))
    assert readline(c).startswith(b"220")
    buf = bytearray(1 << 20)
    start = time.perf_counter()
    c.sendall(b"RETRIEVE big.bin\r\n")
    line = readline(c)
    n = int(line.split()[1])
    assert n == SIZE, line
    recv_exact(c, n, buf)
    assert readline(c).startswith(b"226")
    el = time.perf_counter() - start
    c.close()
    return el

proc = subprocess.Popen([BINARY, "--root", ROOT, "--listen", "127.0.0.1:0"],
                        stderr=subprocess.PIPE, text=True, env={**os.environ, "RUST_LOG": "warn,ferry_server=info"})
port = None
while port is None:
    line = proc.stderr.readline()
    m = re.search(r"addr=127\.0\.0\.1:(\d+)", line)
    if m: port = int(m.group(1))
peak = [0]
stop = False
def watch():
    while not stop:
        with open(f"/proc/{proc.pid}/status") as f:
            for l in f:
                if l.startswith("VmRSS:"):
                    peak[0] = max(peak[0], int(l.split()[1]))
        time.sleep(0.01)
w = threading.Thread(target=watch); w.start()
# warm the page cache
with open(f"{ROOT}/big.bin", "rb") as f:
    while f.read(1 << 24): pass
results = {"memory": [], "file": [], "ferry": []}
cpu_before = cpu_seconds(proc.pid)
for _ in range(RUNS):
    results["memory"].append(plain_tcp("memory"))
    results["file"].append(plain_tcp("file"))
    results["ferry"].append(ferry(port, peak))
stop = True; w.join()
server_cpu = cpu_seconds(proc.pid) - cpu_before
proc.terminate(); proc.wait()
gib = SIZE / (1 << 30)
for key, label in [("memory", "plain TCP from memory"), ("file", "plain TCP read+write of the file"), ("ferry", "ferry RETRIEVE")]:
    runs = results[key]
    print(f"{label:34}: median {statistics.median(runs):.3f}s ({gib/statistics.median(runs):.2f} GiB/s), best {min(runs):.3f}s")
for key in ["memory", "file"]:
    pairs = [p / f for p, f in zip(results[key], results["ferry"])]
    print(f"ferry throughput / {key:6} throughput, same round: median {statistics.median(pairs):.2f} "
          f"(rounds: {' '.join('%.2f' % x for x in pairs)})")
print(f"server peak RSS: {peak[0]/1024:.1f} MiB; server CPU per RETRIEVE: {server_cpu/RUNS:.3f}s")
