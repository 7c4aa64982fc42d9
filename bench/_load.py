"""Load drivers: drive GETs at a loopback server from a second process, report req/s.

``wrk`` when installed, else ``bench/_loadgen.py`` (``http.client`` threads). Use it
through ``bench.harness``, which re-exports ``measure_rps``, ``Load`` and ``load_driver``.
Both drivers can rotate among sets of request headers (one set per request, in turn), so
one measurement can spread over several users' bearer tokens.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
WRK_RECONNECT_SCRIPT = Path(__file__).resolve().parent / "_wrk_reconnect.lua"


@dataclass(frozen=True)
class Load:
    """What one measurement saw: successful requests per second over the measured window."""

    rps: float
    requests: int
    errors: int
    seconds: float
    driver: str
    #: Every request answered during the run, warm-up included (to share out server CPU time).
    sent: int


def load_driver() -> str:
    """The driver measurements use: ``BENCH_DRIVER`` (wrk or python), else wrk if installed."""
    chosen = os.environ.get("BENCH_DRIVER", "").strip().lower()
    if chosen in {"wrk", "python"}:
        if chosen == "wrk" and not shutil.which("wrk"):
            raise RuntimeError("BENCH_DRIVER=wrk but wrk is not installed")
        return chosen
    if chosen:
        raise RuntimeError(f"BENCH_DRIVER must be wrk or python, not {chosen!r}")
    return "wrk" if shutil.which("wrk") else "python"


def format_header_set(headers: Mapping[str, str]) -> str:
    """One set of request headers as the drivers take it: ``Name: value`` lines.

    Raises ValueError for a name or value that would not survive the trip (line breaks,
    a name with a colon or whitespace), rather than send a different request.
    """
    lines = []
    for name, value in headers.items():
        if not name or any(ch.isspace() or ch == ":" for ch in name):
            raise ValueError(f"not a header name: {name!r}")
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name} has a line break in its value")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def measure_rps(
    port: int,
    path: str,
    *,
    seconds: float = 5.0,
    warmup: float = 1.0,
    connections: int = 4,
    reconnect_every: int = 100,
    max_requests: int = 2_000_000,
    header_sets: Sequence[Mapping[str, str]] = (),
    driver: str | None = None,
) -> Load:
    """Drive GET ``path`` on 127.0.0.1:port from a second process; requests per second.

    The load runs for ``warmup`` unmeasured seconds, then ``seconds`` measured ones, over
    ``connections`` keep-alive connections; every ``reconnect_every`` requests per driver
    thread (0: never), one of them is closed and a new one opened. Reconnecting matters
    with several gunicorn workers: they accept connections first come, first served, so
    a few long-lived ones often all land on one worker and the figure would measure that
    split, not the app.
    With ``header_sets``, each request adds the headers of the next set in turn (per driver
    thread); without, requests carry no extra headers.
    Raises RuntimeError if more than 1% of the measured requests fail or none succeed,
    since such a figure would mean nothing.
    """
    driver = driver or load_driver()
    encoded = [format_header_set(headers) for headers in header_sets]
    if driver == "wrk":
        load = _measure_wrk(
            port,
            path,
            seconds=seconds,
            warmup=warmup,
            connections=connections,
            reconnect_every=reconnect_every,
            header_sets=encoded,
        )
    else:
        load = _measure_python(
            port,
            path,
            seconds=seconds,
            warmup=warmup,
            threads=connections,
            reconnect_every=reconnect_every,
            max_requests=max_requests,
            header_sets=encoded,
        )
    if load.requests == 0 or load.errors > 0.01 * (load.requests + load.errors):
        raise RuntimeError(
            f"load on :{port}{path} failed: {load.requests} ok, {load.errors} errors"
        )
    return load


def _run_driver(command: list[str], timeout: float) -> str:
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{command[0]} exited with {completed.returncode}: {completed.stderr.strip()[-500:]}"
        )
    return completed.stdout


def _measure_python(
    port: int,
    path: str,
    *,
    seconds: float,
    warmup: float,
    threads: int,
    reconnect_every: int,
    max_requests: int,
    header_sets: Sequence[str] = (),
) -> Load:
    command = [
        sys.executable,
        "-m",
        "bench._loadgen",
        "--port",
        str(port),
        "--path",
        path,
        "--seconds",
        str(seconds),
        "--warmup",
        str(warmup),
        "--threads",
        str(threads),
        "--reconnect-every",
        str(reconnect_every),
        "--max-requests",
        str(max_requests),
        # One option each, in the --opt=value form, as a value may start with "-".
        *(f"--header-set={headers}" for headers in header_sets),
    ]
    result = json.loads(_run_driver(command, timeout=warmup + seconds + 60))
    return Load(
        rps=float(result["rps"]),
        requests=int(result["requests"]),
        errors=int(result["errors"]),
        seconds=float(result["seconds"]),
        driver="python",
        sent=int(result["sent"]),
    )


_WRK_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)\b", re.MULTILINE)
_WRK_RPS = re.compile(r"^Requests/sec:\s*([\d.]+)", re.MULTILINE)
_WRK_SOCKET_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def _wrk_seconds(value: float) -> str:
    # wrk takes whole units; a run shorter than a second is not a measurement.
    return f"{max(1, round(value))}s"


def wrk_script_args(reconnect_every: int, header_sets: Sequence[str] = ()) -> list[str]:
    """What follows wrk's URL: ``--``, then the arguments wrk hands to the script's init().

    For ``_wrk_reconnect.lua``: how often to reconnect, then one header set per argument.
    Empty when the script is not needed (no reconnecting, no headers).
    """
    if reconnect_every <= 0 and not header_sets:
        return []
    return ["--", str(max(0, reconnect_every)), *header_sets]


def _measure_wrk(
    port: int,
    path: str,
    *,
    seconds: float,
    warmup: float,
    connections: int,
    reconnect_every: int,
    header_sets: Sequence[str] = (),
) -> Load:
    url = f"http://{LOOPBACK}:{port}{path}"
    threads = str(min(2, connections))
    base = ["wrk", "--threads", threads, "--connections", str(connections)]
    script_args = wrk_script_args(reconnect_every, header_sets)
    script_options = ["--script", str(WRK_RECONNECT_SCRIPT)] if script_args else []

    def wrk(duration: float) -> str:
        command = [*base, *script_options, "--duration", _wrk_seconds(duration), url, *script_args]
        return _run_driver(command, timeout=duration + 30)

    warmup_sent = parse_wrk(wrk(warmup)).sent if warmup > 0 else 0
    load = parse_wrk(wrk(seconds))
    return dataclasses.replace(load, sent=load.sent + warmup_sent)


def parse_wrk(output: str) -> Load:
    """Read requests, errors and requests per second from wrk's report."""
    total = _WRK_TOTAL.search(output)
    rps = _WRK_RPS.search(output)
    if total is None or rps is None:
        raise RuntimeError(f"could not read wrk's report:\n{output}")
    errors = 0
    socket_errors = _WRK_SOCKET_ERRORS.search(output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    non_2xx = _WRK_NON_2XX.search(output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[total.group(3)]
    requests = int(total.group(1))
    non_ok = int(non_2xx.group(1)) if non_2xx else 0
    return Load(
        rps=float(rps.group(1)),
        requests=requests - non_ok,
        errors=errors,
        seconds=float(total.group(2)) * scale,
        driver="wrk",
        sent=requests,
    )
