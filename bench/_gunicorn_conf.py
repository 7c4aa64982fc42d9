"""Gunicorn config shared by every server the benchmarks start.

It only adds a hook: once a worker has loaded the WSGI app it writes its pid into the
folder named by ``BENCH_READY_DIR``, so the harness can wait for every worker (not just
the first) before it measures anything.
"""

from __future__ import annotations

import os
from pathlib import Path


def post_worker_init(worker) -> None:  # type: ignore[no-untyped-def]
    """Mark this worker as ready to serve; a no-op outside the harness."""
    ready_dir = os.environ.get("BENCH_READY_DIR")
    if ready_dir:
        Path(ready_dir, f"worker-{worker.pid}").touch()
