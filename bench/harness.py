"""What every benchmark shares: the result line, loopback servers and a load driver.

The load driver lives in ``bench/_load.py`` and is re-exported here.

Benchmarks report a ratio against a baseline measured in the same run, because these
machines are noisy and absolute times mislead. Everything here talks to 127.0.0.1 only,
and every loop and wait is bounded in time.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from bench._load import LOOPBACK, PROJECT_ROOT, Load, load_driver, measure_rps, parse_wrk

__all__ = [
    "LOOPBACK",
    "PROJECT_ROOT",
    "BenchResult",
    "GunicornServer",
    "Load",
    "clean_env",
    "free_port",
    "http_get",
    "load_driver",
    "measure_rps",
    "median",
    "note",
    "parse_wrk",
    "pids_cpu_seconds",
]

GUNICORN_CONF = Path(__file__).resolve().parent / "_gunicorn_conf.py"

#: Environment variables that would make a server differ from what the benchmark chose.
_INHERITED_SETTINGS = (
    "GUNICORN_CMD_ARGS",
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "STORAGE_URL",
    "REDIS_URL",
    "S3_ENDPOINT_URL",
    "SECRET_KEY",
    "INSTANCE_PATH",
    "APP_ENV",
    "LOG_LEVEL",
    "FLASK_DEBUG",
    "JOBS_EAGER",
)


@dataclass(frozen=True)
class BenchResult:
    """One benchmark's outcome: a figure for people, a ratio against a baseline for the verdict."""

    name: str
    #: The headline number (e.g. the app's requests per second); informative only.
    figure: float
    unit: str
    #: The measured quantity divided by the same run's baseline; this decides PASS or MISS.
    ratio: float
    target: float
    higher_is_better: bool = True
    #: What ``target`` applies to: the ratio (the default), or the figure itself, in its unit
    #: (an absolute target such as a p95 in ms; the ratio is then reported for information).
    target_applies_to: Literal["ratio", "figure"] = "ratio"

    def __post_init__(self) -> None:
        for field, value in (("name", self.name), ("unit", self.unit)):
            if not value or any(ch.isspace() for ch in value):
                raise ValueError(f"BenchResult.{field} must be one word, got {value!r}")
        if self.target_applies_to not in ("ratio", "figure"):
            raise ValueError(
                f"BenchResult.target_applies_to must be ratio or figure, "
                f"got {self.target_applies_to!r}"
            )

    @property
    def passed(self) -> bool:
        """True when the ratio (or the figure, for an absolute target) meets the target in the
        better direction (NaN never passes)."""
        value = self.figure if self.target_applies_to == "figure" else self.ratio
        if math.isnan(value):
            return False
        if self.higher_is_better:
            return value >= self.target
        return value <= self.target

    def line(self) -> str:
        """The one line a benchmark reports: ``BENCH name figure unit ratio=r target=t PASS``."""
        verdict = "PASS" if self.passed else "MISS"
        return (
            f"BENCH {self.name} {self.figure:.1f} {self.unit} "
            f"ratio={self.ratio:.3f} target={self.target:g} {verdict}"
        )


def note(message: str) -> None:
    """Write a progress line to stderr, so stdout carries only BENCH lines."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence (the mean of the middle two for an even count)."""
    if not values:
        raise ValueError("median of no values")
    return statistics.median(values)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def clean_env(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without app or gunicorn settings, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_SETTINGS}
    env.update(overrides or {})
    return env


def http_get(
    port: int, path: str, *, timeout: float = 5.0, headers: Mapping[str, str] | None = None
) -> tuple[int, bytes]:
    """One GET to 127.0.0.1:port on a fresh connection; returns (status, body)."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _die_with_parent() -> None:
    """In the child, before exec: have Linux send SIGTERM to it if the harness dies.

    Covers the one exit that skips ``stop()`` (the harness killed with SIGKILL); gunicorn's
    workers then notice their master is gone and exit too.
    """
    pr_set_pdeathsig = 1
    # Without prctl (not glibc/Linux), stop() remains the way servers end.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


class GunicornServer:
    """A gunicorn process serving ``app_spec`` on 127.0.0.1, started and stopped by us.

    Use it as a context manager: on entry every worker has loaded the app and ``path``
    answers 200 (with ``expect_json`` as its body, if given); on exit the server and its
    workers are gone, whatever happened in between.
    """

    def __init__(
        self,
        app_spec: str,
        *,
        env: Mapping[str, str],
        path: str = "/healthz",
        expect_json: object | None = None,
        workers: int = 2,
        worker_class: str = "gthread",
        threads: int = 4,
        start_timeout: float = 60.0,
    ) -> None:
        self.app_spec = app_spec
        self.env = dict(env)
        self.path = path
        self.expect_json = expect_json
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.start_timeout = start_timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr_path: Path | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def command(self) -> list[str]:
        """The gunicorn command line; identical settings for every app but the app itself."""
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(GUNICORN_CONF),
            "--bind",
            f"{LOOPBACK}:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            "--chdir",
            str(PROJECT_ROOT),
            "--log-level",
            "warning",
            self.app_spec,
        ]

    def start(self) -> GunicornServer:
        """Start gunicorn and return once every worker is up and ``path`` answers as expected.

        Raises RuntimeError (with the tail of gunicorn's stderr) if the server exits or is
        not ready within ``start_timeout`` seconds; the process is stopped in that case.
        """
        self._scratch = tempfile.TemporaryDirectory(prefix="bench-gunicorn-")
        ready_dir = Path(self._scratch.name, "ready")
        ready_dir.mkdir()
        self._stderr_path = Path(self._scratch.name, "stderr.log")
        self.port = free_port()
        env = dict(self.env, BENCH_READY_DIR=str(ready_dir))
        with self._stderr_path.open("wb") as stderr:
            self._process = subprocess.Popen(
                self.command(),
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # its own process group, so stop() can reach workers
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        try:
            self._wait_ready(ready_dir)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, ready_dir: Path) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        problem = "not started"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn {self.app_spec} exited with {self._process.returncode}:\n"
                    + self.stderr_tail()
                )
            booted = len(list(ready_dir.iterdir()))
            if booted >= self.workers:
                try:
                    status, body = http_get(self.port, self.path, timeout=2.0)
                except OSError as exc:
                    problem = f"{self.path}: {exc}"
                else:
                    problem = self._check_answer(status, body)
                    if not problem:
                        return
            else:
                problem = f"{booted} of {self.workers} workers booted"
            time.sleep(0.1)
        raise RuntimeError(
            f"gunicorn {self.app_spec} not ready after {self.start_timeout:.0f}s ({problem}):\n"
            + self.stderr_tail()
        )

    def _check_answer(self, status: int, body: bytes) -> str:
        """An empty string if the answer is what we expect, else what is wrong with it."""
        if status != 200:
            return f"{self.path} answered {status}"
        if self.expect_json is None:
            return ""
        try:
            payload = json.loads(body)
        except ValueError:
            return f"{self.path} answered non-JSON {body[:80]!r}"
        if payload != self.expect_json:
            raise RuntimeError(
                f"{self.app_spec} {self.path} answered {payload!r}, expected {self.expect_json!r}"
            )
        return ""

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) used so far by the master and its live workers.

        None where ``/proc`` cannot tell (not Linux, or the server is not running).
        """
        if self._process is None:
            return None
        return _tree_cpu_seconds(self._process.pid)

    def stderr_tail(self, lines: int = 30) -> str:
        """The last lines gunicorn (and the app) wrote, for error messages."""
        if self._stderr_path is None:
            return "(no output)"
        try:
            text = self._stderr_path.read_text(errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and its workers; returns once they are gone. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # SIGINT is gunicorn's quick shutdown: idle keep-alive connections do not delay it.
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                # The master is not reaped yet, so its group id still names only our processes.
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout)
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _tree_cpu_seconds(root_pid: int) -> float | None:
    """User + system CPU seconds of ``root_pid`` and its direct children, read from /proc."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    found = False
    try:
        entries = [entry for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name (field 2) may hold spaces; the rest follows its closing paren.
        fields = stat[stat.rfind(")") + 2 :].split()
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            found = found or pid == root_pid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total if found else None


def pids_cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` (e.g. database backends).

    Processes that are gone, or whose ``/proc`` entry cannot be read, count as zero.
    """
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for pid in pids:
        try:
            stat = Path("/proc", str(pid), "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total
