"""Downloads (audited, 60-second links), zip exports, abandoned uploads, reconciliation."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from app.audit import AuditEvent
from app.clock import clock
from app.config import Config, ConfigError
from app.db import set_context
from app.storage import Storage
from shared_workspace.evidence import jobs
from tests.shared_workspace.evidence.conftest import PDF, World, file_state, new_item, upload


def _fetch(client, url: str) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    if "/storage/o/" in url:
        response = client.get(urlsplit(url).path)
        return response.status_code, response.get_data()
    got = requests.get(url, timeout=30)
    return got.status_code, got.content


def test_a_download_is_audited_then_redirected_to_a_60_second_link(
    world: World, store: Storage, session, monkeypatch
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    data = PDF + b"% evidence"
    file_id, _ = upload(world.lead, world.workspace, item, data, "report.pdf")
    lifetimes: list[int] = []
    original = store.presign_get
    monkeypatch.setattr(
        store,
        "presign_get",
        lambda key, expires=60, filename=None: (
            lifetimes.append(expires) or original(key, expires, filename)
        ),
    )

    path = f"/api/v1/workspaces/{world.workspace}/evidence/{item}/files/{file_id}/download"
    response = world.partner.call("GET", path)

    assert response.status_code == 302
    assert lifetimes == [60]
    assert _fetch(world.partner.client, response.headers["Location"]) == (200, data)
    set_context(session, tenant_id=world.partner.tenant.id)
    downloads = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "evidence_file.downloaded")
    ).all()
    assert [(e.object_id, e.actor_user_id) for e in downloads] == [
        (str(file_id), world.partner.user.id)
    ]
    assert world.outsider.call("GET", path).status_code == 404


def test_a_workspace_export_is_zipped_by_a_job_with_progress(world: World, store: Storage) -> None:
    item = new_item(world.lead, world.workspace, title="Case files")["item"]["id"]
    private = new_item(world.partner, world.workspace, visibility="inspectorate")["item"]["id"]
    upload(world.lead, world.workspace, item, PDF + b"% one", "one.pdf")
    upload(world.lead, world.workspace, item, b"a,b\n1,2\n", "two.csv")
    upload(world.partner, world.workspace, private, PDF + b"% theirs", "theirs.pdf")

    started = world.lead.call("POST", f"/api/v1/workspaces/{world.workspace}/evidence-exports")
    assert started.status_code == 202
    export = started.get_json()["id"]
    base = f"/api/v1/workspaces/{world.workspace}/evidence-exports/{export}"
    progress = world.lead.call("GET", base).get_json()
    assert (progress["state"], progress["percent"], progress["total_files"]) == ("ready", 100, 2)
    assert world.partner.call("GET", base).status_code == 404

    link = world.lead.call("GET", f"{base}/download")
    status, body = _fetch(world.lead.client, link.headers["Location"])
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = sorted(archive.namelist())
        assert len(names) == 3 and names[-1] == "index.csv"
        assert any(n.endswith("one.pdf") for n in names)
        assert "theirs.pdf" not in " ".join(names)


def test_uploads_abandoned_for_a_day_are_aborted_and_recorded(
    world: World, store: Storage, session, app
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    file_id, _ = upload(world.lead, world.workspace, item, PDF, complete=False)
    assert len(list(store.list_multipart_uploads())) == 1

    with app.app_context():
        assert jobs.abort_abandoned(session, store) == 0
        clock.advance(timedelta(hours=25))
        assert jobs.abort_abandoned(session, store) == 1
        session.commit()

    assert list(store.list_multipart_uploads()) == []
    state = file_state(world.lead, world.workspace, item, file_id)
    assert state["state"] == "rejected" and "24 hours" in state["reason"]


def test_reconcile_lists_objects_without_a_record_and_records_without_an_object(
    world: World, store: Storage, app
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    kept, _ = upload(world.lead, world.workspace, item, PDF + b"% kept", "kept.pdf")
    lost, _ = upload(world.lead, world.workspace, item, PDF + b"% lost", "lost.pdf")
    tenant = world.lead.tenant.id
    store.delete(f"evidence/{tenant}/{world.workspace}/{item}/{lost}")
    store.put("evidence/999/1/1/1", io.BytesIO(b"stray"))

    result = app.test_cli_runner().invoke(args=["storage", "reconcile", "--json"])

    assert result.exit_code == 1, result.output
    found = json.loads(result.output)
    assert found["objects_without_record"] == ["evidence/999/1/1/1"]
    assert found["records_without_object"] == [
        {
            "record": f"evidence file {lost}",
            "key": f"evidence/{tenant}/{world.workspace}/{item}/{lost}",
        }
    ]
    kept_key = f"evidence/{tenant}/{world.workspace}/{item}/{kept}"
    assert f'"{kept_key}"' not in result.output


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"EVIDENCE_MAX_BYTES": "0"}, "EVIDENCE_MAX_BYTES"),
        ({"EVIDENCE_ALLOWED_TYPES": "pdf,exe"}, "unknown: exe"),
        ({"EVIDENCE_PART_BYTES": "1024"}, "EVIDENCE_PART_BYTES"),
        ({"CLAMD_ADDRESS": "clamd:3310"}, "CLAMD_ADDRESS"),
    ],
)
def test_evidence_settings_are_validated_at_start_up(env: dict[str, str], reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        Config.from_env(env).validate()


def test_evidence_settings_are_read_from_the_environment() -> None:
    config = Config.from_env(
        {
            "EVIDENCE_MAX_BYTES": "1048576",
            "EVIDENCE_ALLOWED_TYPES": "pdf, image",
            "CLAMD_ADDRESS": "tcp://clamd:3310",
        }
    )
    config.validate()
    assert (config.evidence_max_bytes, config.evidence_allowed_types) == (1048576, ("pdf", "image"))
    assert config.clamd_address == "tcp://clamd:3310"
