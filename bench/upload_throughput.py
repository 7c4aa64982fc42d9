"""Throughput of the app's streamed upload path against boto3's own ``upload_file`` of the
same file to the same S3 endpoint, in the same run.

An S3 API server (moto, in a process of its own) listens on loopback. The app runs under
gunicorn with ``STORAGE_URL=s3://...`` pointing at it; jobs go to a Redis queue nobody
works, so no scan competes. Each round uploads the same 256 MiB file once through the app
(``PUT .../evidence/<item>/files``: hashed on the way, multipart to S3 by the app) and once
with ``boto3.client.upload_file``; rounds alternate and each side's median is taken.
Ratio = app MiB/s ÷ boto3 MiB/s; target 0.8, higher is better.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config as BotoConfig

from bench.harness import (
    LOOPBACK,
    PROJECT_ROOT,
    BenchResult,
    GunicornServer,
    free_port,
    median,
    note,
)
from bench.upload_memory import CHUNK, app_env, flush_bench_redis, generated, prepare, stream_upload

NAME = "upload_throughput"
TARGET = 0.8
SIZE = 256 * 1024**2
ROUNDS = 5
BUCKET = "bench-evidence"
KEY_ID, SECRET = "bench-access-key", "bench-secret-key"  # noqa: S105 - moto accepts anything


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return process, f"http://{LOOPBACK}:{port}"
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the moto S3 server did not start within 30 s")


def s3_client(endpoint: str, bucket: str, pool: int = 10):  # type: ignore[no-untyped-def]
    """A bare boto3 client for the moto server (the baselines' side), with ``bucket`` made."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-2",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            max_pool_connections=pool,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    return client


def from_file(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def run() -> BenchResult:
    moto, endpoint = start_moto()
    try:
        client = s3_client(endpoint, BUCKET)
        with tempfile.TemporaryDirectory(prefix="bench-upload-throughput-") as instance:
            source = Path(instance, "evidence.pdf")
            with source.open("wb") as handle:
                for chunk in generated(SIZE):
                    handle.write(chunk)
            env = app_env(
                instance,
                STORAGE_URL=f"s3://{BUCKET}",
                S3_ENDPOINT_URL=endpoint,
                S3_REGION="eu-west-2",
                S3_ACCESS_KEY_ID=KEY_ID,
                S3_SECRET_ACCESS_KEY=SECRET,
            )
            seeded = prepare(env)
            speeds: dict[str, list[float]] = {"app": [], "boto3": []}
            with GunicornServer("app.wsgi:app", env=env, workers=1, threads=4) as server:
                warm = 32 * CHUNK
                stream_upload(server.port, seeded, generated(warm), warm, "warm-up.pdf")
                client.upload_file(str(source), BUCKET, "boto3/warm-up")
                for round_number in range(1, ROUNDS + 1):
                    seconds = stream_upload(
                        server.port, seeded, from_file(source), SIZE, f"round-{round_number}.pdf"
                    )
                    speeds["app"].append(SIZE / seconds / 1024**2)
                    started = time.perf_counter()
                    client.upload_file(str(source), BUCKET, f"boto3/round-{round_number}")
                    speeds["boto3"].append(SIZE / (time.perf_counter() - started) / 1024**2)
                    note(
                        f"{NAME}: round {round_number} app {speeds['app'][-1]:.0f} MiB/s, "
                        f"boto3 upload_file {speeds['boto3'][-1]:.0f} MiB/s"
                    )
        flush_bench_redis()
    finally:
        moto.kill()
        moto.wait(timeout=10)
    app_speed, boto_speed = median(speeds["app"]), median(speeds["boto3"])
    note(f"{NAME}: median app {app_speed:.0f} MiB/s, boto3 {boto_speed:.0f} MiB/s")
    return BenchResult(
        name=NAME,
        figure=app_speed,
        unit="MiB/s",
        ratio=app_speed / boto_speed,
        target=TARGET,
        higher_is_better=True,
    )
