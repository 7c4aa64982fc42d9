"""What the full app costs per request: ``GET /healthz`` through ``app.wsgi:app`` vs bare Flask.

Both run under the same gunicorn settings on loopback and are driven from a second
process. Measurements alternate (bare, full, bare, full, ...) and each side's median is
taken, so a noisy moment hurts both. Ratio = full req/s / bare req/s; higher is better.
"""

from __future__ import annotations

import secrets
import tempfile

from bench.harness import (
    BenchResult,
    GunicornServer,
    clean_env,
    load_driver,
    measure_rps,
    median,
    note,
)

NAME = "app_overhead"
TARGET = 0.5
PATH = "/healthz"
EXPECTED = {"status": "ok"}
ROUNDS = 3
SECONDS = 5.0
WARMUP = 1.0
CONNECTIONS = 4
SERVER_SETTINGS = {"workers": 2, "worker_class": "gthread", "threads": 4}


def full_app_env(instance_path: str) -> dict[str, str]:
    """The embedded defaults (SQLite, folder storage, in-process jobs) under ``instance_path``."""
    return clean_env(
        {
            "INSTANCE_PATH": instance_path,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "APP_ENV": "development",
            # Request logs at INFO would measure the log handler, not the app.
            "LOG_LEVEL": "WARNING",
        }
    )


def run() -> BenchResult:
    """Measure both apps ``ROUNDS`` times each, interleaved; servers are gone on return."""
    driver = load_driver()
    note(f"{NAME}: driver {driver}, {ROUNDS} rounds of {WARMUP:g}s warm-up + {SECONDS:g}s")
    samples: dict[str, list[float]] = {"bare": [], "full": []}
    #: Server CPU microseconds per request: steadier than req/s when neighbours steal CPU.
    cpu_us: dict[str, list[float]] = {"bare": [], "full": []}
    with tempfile.TemporaryDirectory(prefix="bench-app-overhead-") as instance:
        bare = GunicornServer(
            "bench._bare_app:app",
            env=clean_env(),
            path=PATH,
            expect_json=EXPECTED,
            **SERVER_SETTINGS,
        )
        full = GunicornServer(
            "app.wsgi:app",
            env=full_app_env(instance),
            path=PATH,
            expect_json=EXPECTED,
            **SERVER_SETTINGS,
        )
        with bare, full:
            for round_number in range(1, ROUNDS + 1):
                for label, server in (("bare", bare), ("full", full)):
                    cpu_before = server.cpu_seconds()
                    load = measure_rps(
                        server.port,
                        PATH,
                        seconds=SECONDS,
                        warmup=WARMUP,
                        connections=CONNECTIONS,
                        driver=driver,
                    )
                    cpu_after = server.cpu_seconds()
                    samples[label].append(load.rps)
                    cpu_note = ""
                    if cpu_before is not None and cpu_after is not None:
                        cpu_us[label].append((cpu_after - cpu_before) / load.sent * 1e6)
                        cpu_note = f", {cpu_us[label][-1]:.0f} us CPU/request"
                    note(
                        f"{NAME}: round {round_number} {label} {load.rps:.0f} req/s "
                        f"({load.requests} ok, {load.errors} errors{cpu_note})"
                    )
    bare_rps = median(samples["bare"])
    full_rps = median(samples["full"])
    note(f"{NAME}: median bare {bare_rps:.0f} req/s, full {full_rps:.0f} req/s")
    if cpu_us["bare"] and cpu_us["full"]:
        bare_cpu, full_cpu = median(cpu_us["bare"]), median(cpu_us["full"])
        note(
            f"{NAME}: median server CPU/request bare {bare_cpu:.0f} us, full {full_cpu:.0f} us "
            f"(bare/full {bare_cpu / full_cpu:.3f}, for comparison with the ratio)"
        )
    return BenchResult(
        name=NAME,
        figure=full_rps,
        unit="req/s",
        ratio=full_rps / bare_rps,
        target=TARGET,
        higher_is_better=True,
    )
