"""Runs Autobahn's fuzzingclient cases (PyPI kosoku) against a WebSocket URL
and prints one line per event for tests/autobahn.rs to read.

Usage: python autobahn_kosoku.py URL CONCURRENCY [+CASE | -CASE]...
(+ includes a case id or glob, - excludes one.)

Output, space-separated tokens, payloads in hex:
  case ID BEHAVIOR BEHAVIOR_CLOSE PASSED(0|1) DURATION_MS CLOSED_BY_KOSOKU(0|1|-)
  expected ID VERDICT EVENT...
  received ID EVENT...
where EVENT is text:HEX or binary:HEX (a message), ping:HEX, pong:HEX, or
other:KIND. A text payload is its UTF-8 bytes on the wire; kosoku hands a
binary payload over as a str of code points 0-255, one per byte.
"""

import asyncio
import sys

try:
    import kosoku
except ImportError as error:
    sys.exit(f"kosoku is not installed in {sys.executable} ({error}): run scripts/setup.sh --tests")


def payload_bytes(payload, binary):
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload)
    return payload.encode("latin-1" if binary else "utf-8")


def event(e):
    kind = e[0]
    if kind == "message":
        binary = bool(e[2])
        data = payload_bytes(e[1], binary)
        return ("binary:" if binary else "text:") + data.hex()
    if kind in ("ping", "pong"):
        return f"{kind}:" + payload_bytes(e[1], False).hex()
    return f"other:{kind}"


def events(seq):
    return " ".join(event(e) for e in seq)


async def main():
    url, concurrency = sys.argv[1], int(sys.argv[2])
    include = [a[1:] for a in sys.argv[3:] if a.startswith("+")]
    exclude = [a[1:] for a in sys.argv[3:] if a.startswith("-")]
    try:
        results = await kosoku.run_fuzzingclient(
            url, include or None, exclude or None, concurrency=concurrency
        )
    except kosoku.FailureError as failure:
        results = failure.results
    for r in results:
        closed = r.expected_close.get("closedByMe") if r.expected_close else None
        closed = "-" if closed is None else str(int(bool(closed)))
        print(
            f"case {r.case_id} {r.behavior.value.replace(' ', '_')} "
            f"{r.behavior_close.value.replace(' ', '_')} {int(r.passed)} {r.duration} {closed}"
        )
        for verdict, seq in (r.expected or {}).items():
            print(f"expected {r.case_id} {verdict.replace(' ', '_')} {events(seq)}".rstrip())
        print(f"received {r.case_id} {events(r.received or [])}".rstrip())


asyncio.run(main())
