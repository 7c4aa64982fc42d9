"""The destruction sweep over 1,000,000 scheduled items of which 10,000 are due, against the
bare S3 batch delete of 10,000 keys on the same S3 API server, in the same run.

An S3 API server (moto, in a process of its own) listens on loopback. A scratch PostgreSQL
database (migrated, row-level security on, the app as ``cjji_app``) gets HMCPSI and HMI Prisons
with their founding rules, a joint inspection, 10,000 clean evidence files whose claims fell
due yesterday, and 990,000 claims due next year; the 10,000 objects are put in the bucket.
The sweep is the real one (``retention.sweep.sweep_tenant``: claim, delete every version,
record, certificate, audit) run once for HMCPSI. The baseline puts another 10,000 objects
and deletes them with ``delete_objects`` in batches of 1,000, as a bare boto3 client would.
Ratio = sweep seconds ÷ baseline seconds (lower is better; target 3: the sweep's database
work, two transactions over 10,000 rows and a certificate, may cost twice the deletes).
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench._retention import app_for, far_publication, insert_files, insert_schedules, scratch, seed
from bench.harness import BenchResult, note
from bench.rls import _connect
from bench.upload_throughput import KEY_ID, SECRET, s3_client, start_moto

NAME = "retention_sweep"
TARGET = 3.0
DUE = 10_000
TOTAL = 1_000_000
BUCKET = "bench-retention"
BATCH = 1000


def _put_all(client, keys: list[str]) -> None:  # type: ignore[no-untyped-def]
    def put(key: str) -> None:
        client.put_object(Bucket=BUCKET, Key=key, Body=b"%PDF-1.4 notes\n")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, keys))


def _bare_delete(client, keys: list[str]) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for start in range(0, len(keys), BATCH):
        response = client.delete_objects(
            Bucket=BUCKET,
            Delete={"Objects": [{"Key": k} for k in keys[start : start + BATCH]], "Quiet": True},
        )
        assert not response.get("Errors")
    return time.perf_counter() - started


def _count(client, prefix: str) -> int:  # type: ignore[no-untyped-def]
    paginator = client.get_paginator("list_objects_v2")
    return sum(page.get("KeyCount", 0) for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix))


def run() -> BenchResult:
    from app.db import get_database
    from app.storage import get_storage
    from retention.sweep import sweep_tenant

    moto, endpoint = start_moto()
    try:
        client = s3_client(endpoint, BUCKET, pool=16)
        with scratch(NAME) as database, tempfile.TemporaryDirectory(prefix=NAME) as instance:
            app = app_for(
                database,
                Path(instance),
                storage_url=f"s3://{BUCKET}",
                s3_endpoint_url=endpoint,
                s3_access_key_id=KEY_ID,
                s3_secret_access_key=SECRET,
            )
            publication = far_publication()
            world = seed(app, database, publication)
            files = insert_files(world, DUE)
            note(f"{NAME}: inserting {TOTAL:,} schedules ({DUE:,} due)")
            insert_schedules(world, due_file_ids=files, future=TOTAL - DUE, publication=publication)
            prefix = f"evidence/{world.lead}/{world.workspace}/{world.item}/"
            note(f"{NAME}: putting {2 * DUE:,} objects")
            _put_all(client, [prefix + str(f) for f in files])
            baseline_keys = [f"baseline/{n}" for n in range(DUE)]
            _put_all(client, baseline_keys)

            with app.app_context():
                storage = get_storage()
                started = time.perf_counter()
                result = sweep_tenant(get_database(app).transaction, world.lead, storage)
                sweep_seconds = time.perf_counter() - started
            baseline = _bare_delete(client, baseline_keys)

            left = _count(client, prefix)
            with _connect(database) as conn:
                destroyed = conn.execute(
                    "SELECT count(*) FROM retention_schedules WHERE state = 'destroyed'"
                ).fetchone()[0]
                certificates = conn.execute(
                    "SELECT count(*), sum(items) FROM retention_certificates"
                ).fetchone()
            if result.ended != DUE or destroyed != DUE or left or certificates != (1, DUE):
                raise AssertionError(
                    f"sweep ended {result.ended}, {destroyed} destroyed rows, {left} objects "
                    f"left, certificates {certificates}"
                )
            note(
                f"{NAME}: sweep {sweep_seconds:.2f} s for {DUE:,} of {TOTAL:,}; bare S3 batch "
                f"delete {baseline:.2f} s; one certificate of {certificates[1]:,} items"
            )
            get_database(app).engine.dispose()
    finally:
        moto.kill()
        moto.wait(timeout=10)
    return BenchResult(
        name=NAME,
        figure=sweep_seconds,
        unit="s",
        ratio=sweep_seconds / baseline,
        target=TARGET,
        higher_is_better=False,
    )
