"""Opens N connections to a ferry-server, holds them all open at once, then
has each do LIST and NOOP; prints the server's RSS with all of them open.

Usage (after `cargo build --release -p ferry-server`; raise `ulimit -n` first):

    ulimit -n 20000; python3 server/scripts/many_connections.py 5000

Environment: FERRY_SERVER as for measure_retrieve.py.
"""
import asyncio, sys, subprocess, re, os, time, tempfile
N = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
BINARY = os.environ.get("FERRY_SERVER") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", "target"), "release", "ferry-server")
WORK = tempfile.mkdtemp(prefix="ferry-many-")
async def one(port, opened, release):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    assert (await r.readline()).startswith(b"220")
    opened.append(1)
    await release.wait()
    w.write(b"LIST\r\nNOOP\r\n")
    line = await r.readline(); assert line.startswith(b"150"), line
    n = int(line.split()[1]); await r.readexactly(n)
    assert (await r.readline()).startswith(b"226")
    assert (await r.readline()).startswith(b"200")
    w.close()
async def main():
    log = open(WORK + "/server.log", "w")
    proc = subprocess.Popen([BINARY, "--root", WORK + "/root", "--listen", "127.0.0.1:0"],
                            stderr=log, text=True)
    port = None
    while port is None:
        await asyncio.sleep(0.05)
        m = re.search(r"addr=127\.0\.0\.1:(\d+)", open(WORK + "/server.log").read())
        if m: port = int(m.group(1))
    opened = []; release = asyncio.Event()
    start = time.perf_counter()
    tasks = [asyncio.create_task(one(port, opened, release)) for _ in range(N)]
    while len(opened) < N:
        await asyncio.sleep(0.05)
        if all(t.done() for t in tasks): break
    rss = [l for l in open(f"/proc/{proc.pid}/status") if l.startswith("VmRSS")][0].split()[1]
    print(f"{len(opened)} connections open at once after {time.perf_counter()-start:.2f}s; server RSS {int(rss)/1024:.1f} MiB")
    release.set()
    await asyncio.gather(*tasks)
    print(f"all {N} did LIST+NOOP in {time.perf_counter()-start:.2f}s")
    proc.terminate(); proc.wait()
asyncio.run(main())
