"""The fallback load driver (when ``wrk`` is absent), run as its own process.

``python -m bench._loadgen --port P --path /healthz --seconds 5 --warmup 1 --threads 4``
keeps one keep-alive ``http.client`` connection per thread to 127.0.0.1 (replaced every
``--reconnect-every`` requests, so the server's workers share them fairly) and prints one
JSON object: ``{"requests": ok, "errors": n, "seconds": window, "rps": ok / window,
"sent": every request answered, warm-up included}``. Only responses that complete inside
the measured window (after the warm-up) count towards ``requests`` and ``rps``.
Each ``--header-set "Name: value[\\nName: value...]"`` (repeatable) is one set of request
headers; requests take the sets in turn, each thread starting at a different one.
The run is bounded in time (warm-up + seconds) and in count (``--max-requests``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"


@dataclass
class _Tally:
    ok: int = 0
    errors: int = 0
    sent: int = 0


def parse_header_set(text: str) -> dict[str, str]:
    """The headers of one ``--header-set``: ``Name: value`` lines (see _load.format_header_set)."""
    headers = {}
    for line in text.split("\n"):
        name, sep, value = line.partition(": ")
        if not sep or not name:
            raise ValueError(f"not a header line: {line!r}")
        headers[name] = value
    return headers


def _drive(
    port: int,
    path: str,
    window: tuple[float, float],
    cap: int,
    reconnect_every: int,
    tally: _Tally,
    header_sets: tuple[dict[str, str], ...] = (),
    first: int = 0,
) -> None:
    """Send GETs on one connection until the window closes or ``cap`` requests are sent.

    The connection is closed after every ``reconnect_every`` requests (0: never), and
    http.client opens a new one for the next request. Request n sends
    ``header_sets[(first + n) % len(header_sets)]`` (none without sets).
    """
    start, end = window
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        for number in range(1, cap + 1):
            if time.perf_counter() >= end:
                break
            if reconnect_every and number % reconnect_every == 0:
                conn.close()
            try:
                headers = header_sets[(first + number) % len(header_sets)] if header_sets else {}
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                good = response.status == 200
            except (OSError, http.client.HTTPException):
                # The server dropped the connection: count it, reconnect on the next request.
                conn.close()
                good = False
            done = time.perf_counter()
            tally.sent += 1
            if start <= done < end:
                if good:
                    tally.ok += 1
                else:
                    tally.errors += 1
    finally:
        conn.close()


def drive(
    port: int,
    path: str,
    *,
    seconds: float,
    warmup: float,
    threads: int,
    reconnect_every: int,
    max_requests: int,
    header_sets: tuple[dict[str, str], ...] = (),
) -> dict[str, float]:
    """Load ``127.0.0.1:port`` for ``warmup + seconds``; return counts over the measured part."""
    now = time.perf_counter()
    window = (now + warmup, now + warmup + seconds)
    tallies = [_Tally() for _ in range(threads)]
    cap = max(1, max_requests // threads)
    workers = [
        threading.Thread(
            target=_drive,
            args=(port, path, window, cap, reconnect_every, tally, header_sets, index),
            daemon=True,
        )
        for index, tally in enumerate(tallies)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        # The per-request timeout bounds each join; the window bounds the loop.
        worker.join(timeout=warmup + seconds + 30)
    ok = sum(t.ok for t in tallies)
    errors = sum(t.errors for t in tallies)
    sent = sum(t.sent for t in tallies)
    return {"requests": ok, "errors": errors, "seconds": seconds, "rps": ok / seconds, "sent": sent}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._loadgen")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--reconnect-every", type=int, default=100)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--header-set", action="append", default=[], dest="header_sets")
    args = parser.parse_args()
    result = drive(
        args.port,
        args.path,
        seconds=args.seconds,
        warmup=args.warmup,
        threads=args.threads,
        reconnect_every=args.reconnect_every,
        max_requests=args.max_requests,
        header_sets=tuple(parse_header_set(text) for text in args.header_sets),
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
