"""Pytest plugin: an S3 API server (moto) on loopback and a fresh bucket per test.

Enable with ``pytest_plugins = ["tests.s3_server"]`` (or ``-p tests.s3_server``).
``s3_server`` yields the endpoint URL, ``s3_client`` a boto3 client for it (fake
credentials), and ``s3_storage`` an ``S3Storage`` on a new, empty bucket that is emptied
and removed after the test.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app.config import Config
from app.storage.s3 import S3Storage

S3_REGION = "eu-west-2"
FAKE_ACCESS_KEY = "testing-access-key"
FAKE_SECRET_KEY = "testing-secret-key"
_START_TIMEOUT = 15


def s3_config(endpoint: str, bucket: str, prefix: str = "") -> Config:
    """Return a Config pointing at the test S3 server (fake credentials)."""
    return Config(
        app_env="test",
        storage_url=f"s3://{bucket}/{prefix}".rstrip("/"),
        s3_endpoint_url=endpoint,
        s3_region=S3_REGION,
        s3_access_key_id=FAKE_ACCESS_KEY,
        s3_secret_access_key=FAKE_SECRET_KEY,
    )


def _wait_for_port(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=_START_TIMEOUT):
        pass


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Start moto's S3 server on 127.0.0.1 (free port) for the session; yield its URL."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:
        pytest.fail(f"moto[server] is not installed, cannot start the S3 test server: {error}")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # start() waits forever if the server thread dies before binding, so bound it here.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(_START_TIMEOUT)
    if starter.is_alive():
        pytest.fail(f"moto S3 server did not start within {_START_TIMEOUT}s on 127.0.0.1")
    try:
        host, port = server.get_host_and_port()
        _wait_for_port(host, port)
    except (AssertionError, OSError) as error:
        pytest.fail(f"moto S3 server is not reachable on 127.0.0.1: {error}")
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _empty_and_remove(storage: S3Storage) -> None:
    client: Any = storage.client
    # List from the start each round: paging on while deleting would skip entries.
    while True:
        page = client.list_object_versions(Bucket=storage.bucket)
        doomed = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if not doomed:
            break
        client.delete_objects(Bucket=storage.bucket, Delete={"Objects": doomed, "Quiet": True})
    client.delete_bucket(Bucket=storage.bucket)


@pytest.fixture(scope="session")
def s3_client(s3_server: str) -> Any:
    """One boto3 S3 client for the test server, built the way the app builds it."""
    return S3Storage.from_config(s3_config(s3_server, "unused-bucket")).client


@pytest.fixture
def s3_storage(s3_client: Any) -> Iterator[S3Storage]:
    """Yield an S3Storage on a new bucket of its own, removed again after the test."""
    storage = S3Storage(f"test-{uuid.uuid4().hex[:20]}", "", s3_client, region=S3_REGION)
    storage.ensure_bucket()
    yield storage
    _empty_and_remove(storage)
