"""Object tags carry the item's retention class, and follow it when it changes: on the S3 API
server and on the folder backend."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from app.db import set_context
from app.storage import Storage
from shared_workspace.evidence import api as evidence_api
from shared_workspace.evidence import jobs
from shared_workspace.evidence.models import EvidenceFile
from shared_workspace.evidence.tagging import put_tags
from tests.shared_workspace.evidence.conftest import PDF, World, new_item, upload


def _tags(store: Storage, key: str) -> dict[str, str]:
    return store.head(key).tags


def _queue(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, tuple[Any, ...]]]:
    queued: list[tuple[Any, tuple[Any, ...]]] = []
    monkeypatch.setattr(evidence_api, "enqueue", lambda func, *args: queued.append((func, args)))
    return queued


def _patch(world: World, item: int, **changes: Any):  # type: ignore[no-untyped-def]
    response = world.lead.call(
        "PATCH", f"/api/v1/workspaces/{world.workspace}/evidence/{item}", changes
    )
    assert response.status_code == 200, response.get_json()
    return response


def test_changing_the_retention_class_retags_the_items_stored_files(
    world: World, store: Storage
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    other = new_item(world.lead, world.workspace)["item"]["id"]
    first, _ = upload(world.lead, world.workspace, item, PDF + b"% one")
    second, _ = upload(world.lead, world.workspace, item, PDF + b"% two")
    untouched, _ = upload(world.lead, world.workspace, other, PDF + b"% other")
    tenant, ws = world.lead.tenant.id, world.workspace
    key = f"evidence/{tenant}/{ws}/{item}/{{}}".format
    assert _tags(store, key(first))["retention-class"] == "standard"

    _patch(world, item, retention_class="sensitive")

    for file_id in (first, second):
        assert _tags(store, key(file_id)) == {
            "retention-class": "sensitive",
            "tenant": str(tenant),
            "workspace": str(ws),
        }
    other_key = f"evidence/{tenant}/{ws}/{other}/{untouched}"
    assert _tags(store, other_key)["retention-class"] == "standard"


def test_files_in_quarantine_or_still_uploading_get_the_new_class_too(
    world: World, store: Storage, app, monkeypatch
) -> None:
    queued = _queue(monkeypatch)
    item = new_item(world.lead, world.workspace)["item"]["id"]
    waiting, _ = upload(world.lead, world.workspace, item, PDF + b"% waiting for its scan")
    sending, _ = upload(world.lead, world.workspace, item, PDF + b"% sending", complete=False)
    tenant, ws = world.lead.tenant.id, world.workspace
    assert _tags(store, f"quarantine/{tenant}/{ws}/{waiting}")["retention-class"] == "standard"

    _patch(world, item, retention_class="data")
    retag = [(func, args) for func, args in queued if func is jobs.retag_item_files]
    assert retag == [(jobs.retag_item_files, (tenant, item))]
    with app.app_context():
        assert jobs.retag_item_files(tenant, item) == 1  # the quarantined file's object
        assert jobs.retag_item_files(tenant, item) == 1  # and again: the same tags
    assert _tags(store, f"quarantine/{tenant}/{ws}/{waiting}")["retention-class"] == "data"

    # The upload in progress was started under the old class; its scan tags what it releases.
    base = f"/api/v1/workspaces/{ws}/evidence/{item}/files/{sending}"
    digest = hashlib.sha256(PDF + b"% sending").hexdigest()
    assert world.lead.call("POST", f"{base}/complete", {"sha256": digest}).status_code == 202
    with app.app_context():
        for func, args in queued:
            if func is jobs.scan_file:
                assert func(*args) == "clean"
    for file_id in (waiting, sending):
        assert _tags(store, f"evidence/{tenant}/{ws}/{item}/{file_id}")["retention-class"] == "data"


def test_an_edit_that_keeps_the_retention_class_queues_no_retagging(
    world: World, store: Storage, monkeypatch
) -> None:
    item = new_item(world.lead, world.workspace, retention_class="notebook")["item"]["id"]
    upload(world.lead, world.workspace, item, PDF)
    queued = _queue(monkeypatch)

    _patch(world, item, title="Case file review notes, second visit", retention_class="notebook")

    assert queued == []


def test_retagging_skips_rejected_files_and_a_missing_object(
    world: World, store: Storage, session, app
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    rejected, done = upload(world.lead, world.workspace, item, PDF, sha256="00" * 32)
    assert done.status_code == 422
    clean, _ = upload(world.lead, world.workspace, item, PDF + b"% kept")
    tenant = world.lead.tenant.id
    set_context(session, tenant_id=tenant)
    lost = session.get(EvidenceFile, clean).evidence_key
    store.delete(lost)  # reconcile reports this; retagging must not fail on it

    with app.app_context():
        assert jobs.retag_item_files(tenant, item) == 0
    assert put_tags(store, lost, {"retention-class": "data"}) is False
    assert list(store.list()) == []


def test_a_real_worker_retags_from_the_redis_queue(
    world: World, store: Storage, app, monkeypatch, redis
) -> None:
    from rq import Queue, SimpleWorker

    from app.jobs import QUEUE_DEFAULT, RqRunner
    from tests import services

    item = new_item(world.lead, world.workspace)["item"]["id"]
    file_id, _ = upload(world.lead, world.workspace, item, PDF + b"% via rq")
    queued = _queue(monkeypatch)
    _patch(world, item, retention_class="correspondence")
    runner = RqRunner(services.REDIS_URL)
    [(func, args)] = queued
    rq_job = runner.submit(func, args, QUEUE_DEFAULT)

    with app.app_context():
        worker = SimpleWorker(
            [Queue(QUEUE_DEFAULT, connection=runner.connection)], connection=runner.connection
        )
        assert worker.work(burst=True)

    rq_job.refresh()
    assert rq_job.get_status() == "finished", rq_job.latest_result()
    key = f"evidence/{world.lead.tenant.id}/{world.workspace}/{item}/{file_id}"
    assert _tags(store, key)["retention-class"] == "correspondence"
