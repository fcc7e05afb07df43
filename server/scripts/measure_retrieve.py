"""RETRIEVE of a large file vs. a plain TCP loopback copy of the same file, and
the server's peak RSS while serving it.

Usage (from the repository root, after `cargo build --release -p ferry-server`):

    head -c 1G /dev/urandom > /tmp/ferry-perf/big.bin   # once; the directory is the served root
    python3 server/scripts/measure_retrieve.py [RUNS] [ROOT]

Environment: FERRY_SERVER = path of the ferry-server binary (default
target/release/ferry-server, or $CARGO_TARGET_DIR/release/ferry-server).
Both transfers are received by the same Python loop (recv_into a 1 MiB
buffer); the plain copy is sent by another process with read() + send().
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
with open(sys.argv[1], "rb") as f:
    buf = bytearray(1 << 20)
    while True:
        n = f.readinto(buf)
        if not n: break
        conn.sendall(memoryview(buf)[:n])
conn.close()
"""

def plain_tcp():
    """A plain TCP copy of the file over loopback: read() + send() in another process."""
    sender = subprocess.Popen([sys.executable, "-c", SENDER, f"{ROOT}/big.bin"], stdout=subprocess.PIPE, text=True)
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
results = {"plain": [], "ferry": []}
cpu_before = cpu_seconds(proc.pid)
for _ in range(RUNS):
    results["plain"].append(plain_tcp())
    results["ferry"].append(ferry(port, peak))
stop = True; w.join()
server_cpu = cpu_seconds(proc.pid) - cpu_before
proc.terminate(); proc.wait()
gib = SIZE / (1 << 30)
bp = statistics.median(results["plain"]); bf = statistics.median(results["ferry"])
print(f"plain TCP copy : median {bp:.3f}s  {gib/bp:.2f} GiB/s  runs {['%.3f'%x for x in results['plain']]}")
print(f"ferry RETRIEVE : median {bf:.3f}s  {gib/bf:.2f} GiB/s  runs {['%.3f'%x for x in results['ferry']]}")
print(f"ratio ferry/plain throughput (medians): {bp/bf:.2f}; best runs: {min(results['plain'])/min(results['ferry']):.2f}")
print(f"server peak RSS: {peak[0]/1024:.1f} MiB; server CPU per RETRIEVE: {server_cpu/RUNS:.3f}s")
