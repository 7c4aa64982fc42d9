"""Co-editing through the API: every save a version, stale saves merged or kept as conflicts,
section owners, comments, suggestions, red lines, exports."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import AuditEvent
from app.db import set_context
from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone

P1, P2, P3 = "<p>First paragraph.</p>", "<p>Second paragraph.</p>", "<p>Third paragraph.</p>"


@pytest.fixture
def trio(client: FlaskClient, session: Session) -> list[Inspectorate]:
    return [
        inspectorate(session, client, slug) for slug in ("hmiprobation", "hmiprisons", "hmicfrs")
    ]


@pytest.fixture
def workspace(trio: list[Inspectorate]) -> int:
    ws = (
        trio[0]
        .call(
            "POST",
            "/api/v1/workspaces",
            {"title": "Resettlement", "participants": ["hmiprisons", "hmicfrs"]},
        )
        .get_json()["id"]
    )
    name_everyone(ws, *trio)
    return ws


def _create(lead: Inspectorate, ws: int, **extra):  # type: ignore[no-untyped-def]
    body = {
        "kind": "report",
        "title": "Joint report",
        "sections": [
            {"key": "summary", "title": "Summary", "body": P1 + P2 + P3},
            {"key": "leadership", "title": "Leadership", "body": "<p>Leaders lead.</p>"},
        ],
    }
    body.update(extra)
    response = lead.call("POST", f"/api/v1/workspaces/{ws}/documents", body)
    assert response.status_code == 201, response.get_json()
    return response


def _put(party: Inspectorate, path: str, etag: str, sections):  # type: ignore[no-untyped-def]
    return party.client.put(
        path, json={"sections": sections}, headers={**party.headers, "If-Match": etag}
    )


def _sections(response) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return [{k: s[k] for k in ("key", "title", "body")} for s in response.get_json()["sections"]]


def _edit(sections: list[dict], key: str, body: str) -> list[dict]:  # type: ignore[type-arg]
    return [{**s, "body": body} if s["key"] == key else s for s in sections]


def test_two_writers_on_one_base_in_different_sections_both_survive(trio, workspace) -> None:
    lead, prisons, _ = trio
    created = _create(lead, workspace)
    path = f"/api/v1/workspaces/{workspace}/documents/{created.get_json()['id']}"
    etag, base = created.headers["ETag"], _sections(created)
    first = _put(lead, path, etag, _edit(base, "summary", P1 + "<p>Lead's second.</p>" + P3))
    assert first.status_code == 200 and first.get_json()["version"] == 2
    second = _put(prisons, path, etag, _edit(base, "leadership", "<p>Prisons' view.</p>"))
    assert second.status_code == 200, second.get_json()
    body = second.get_json()
    assert (body["version"], body["merged_with"]) == (3, 2)
    texts = {s["key"]: s["body"] for s in body["sections"]}
    assert "Lead's second." in texts["summary"] and "Prisons' view." in texts["leadership"]


def test_different_paragraphs_of_one_section_merge(trio, workspace) -> None:
    lead, prisons, _ = trio
    created = _create(lead, workspace)
    path = f"/api/v1/workspaces/{workspace}/documents/{created.get_json()['id']}"
    etag, base = created.headers["ETag"], _sections(created)
    _put(lead, path, etag, _edit(base, "summary", "<p>Lead's first.</p>" + P2 + P3))
    merged = _put(prisons, path, etag, _edit(base, "summary", P1 + P2 + "<p>Prisons' third.</p>"))
    assert merged.status_code == 200
    summary = merged.get_json()["sections"][0]["body"]
    assert "Lead's first." in summary and "Prisons' third." in summary and "Second" in summary


def test_overlapping_edits_conflict_keep_both_texts_and_resolve(trio, workspace) -> None:
    lead, prisons, _ = trio
    created = _create(lead, workspace)
    doc = created.get_json()["id"]
    path = f"/api/v1/workspaces/{workspace}/documents/{doc}"
    etag, base = created.headers["ETag"], _sections(created)
    _put(lead, path, etag, _edit(base, "summary", P1 + "<p>Lead rewrote this.</p>" + P3))
    clash = _put(
        prisons, path, etag, _edit(base, "summary", P1 + "<p>Prisons rewrote it.</p>" + P3)
    )
    assert clash.status_code == 409
    problem = clash.get_json()
    conflict = problem["conflicts"][0]
    assert "Lead rewrote this." in conflict["head_body"]
    assert "Prisons rewrote it." in conflict["pending_body"]
    assert lead.call("GET", path).get_json()["version"] == 2  # nothing was overwritten
    resolved = prisons.call(
        "POST",
        problem["resolve"],
        {"resolutions": {"summary": P1 + "<p>Both, combined.</p>" + P3}},
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert "Both, combined." in resolved.get_json()["sections"][0]["body"]
    again = prisons.call("POST", problem["resolve"], {"resolutions": {"summary": P1}})
    assert again.status_code == 422 and "already resolved" in again.get_json()["detail"]
    history = lead.call("GET", f"{path}/versions").get_json()
    assert [v["tenant"] for v in history] == ["hmiprisons", "hmiprobation", "hmiprobation"]


def test_only_the_writer_sees_and_resolves_their_pending_save(trio, workspace) -> None:
    lead, prisons, cfrs = trio
    created = _create(lead, workspace)
    path = f"/api/v1/workspaces/{workspace}/documents/{created.get_json()['id']}"
    etag, base = created.headers["ETag"], _sections(created)
    _put(lead, path, etag, _edit(base, "summary", "<p>A.</p>"))
    problem = _put(prisons, path, etag, _edit(base, "summary", "<p>B.</p>")).get_json()
    response = cfrs.call("POST", problem["resolve"], {"resolutions": {"summary": "<p>C.</p>"}})
    assert response.status_code == 404  # another inspectorate's unfinished text is private


@pytest.mark.parametrize(
    ("etag", "status"),
    [(None, 428), ('"999999-1"', 412), ("garbage", 412), ('"{doc}-99"', 412), ('"{doc}-0"', 412)],
)
def test_missing_forged_or_stale_version_ids_are_refused(trio, workspace, etag, status) -> None:
    created = _create(trio[0], workspace)
    doc = created.get_json()["id"]
    path = f"/api/v1/workspaces/{workspace}/documents/{doc}"
    headers = dict(trio[0].headers)
    if etag is not None:
        headers["If-Match"] = etag.format(doc=doc)
    response = trio[0].client.put(path, json={"sections": _sections(created)}, headers=headers)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["detail"]


def test_hostile_markup_is_cleaned_on_the_way_in(trio, workspace) -> None:
    hostile = (
        '<p onclick="steal()">Hi<script>alert(1)</script><img src=x onerror=alert(2)>'
        '<a href="javascript:alert(3)">link</a><span style="color:red">x</span></p>'
        "<style>body{display:none}</style><iframe src=//evil></iframe>"
    )
    response = _create(trio[0], workspace, sections=[{"key": "s", "title": "S", "body": hostile}])
    body = response.get_json()["sections"][0]["body"]
    for bad in ("script", "onclick", "onerror", "javascript:", "style", "iframe", "<img"):
        assert bad not in body
    assert "Hi" in body and "link" in body


def test_an_oversized_section_is_refused_with_the_limit(trio, workspace) -> None:
    response = trio[0].call(
        "POST",
        f"/api/v1/workspaces/{workspace}/documents",
        {
            "kind": "report",
            "title": "Huge",
            "sections": [{"title": "Huge", "body": "<p>" + "word " * 50_000 + "</p>"}],
        },
    )
    assert response.status_code == 422
    assert "the limit is 200,000" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "novel", "title": "x", "sections": [{"title": "a"}]},
        {"kind": "report", "title": "x", "sections": []},
        {"kind": "report", "title": "x", "sections": [{"title": ""}]},
        {"kind": "report", "title": "x", "sections": "not a list"},
        {"kind": "report", "title": 5, "sections": [{"title": "a"}]},
        {"kind": "report", "title": "x", "sections": [{"title": "a", "key": "../etc"}]},
        {"kind": "report", "title": "x", "marking": "SECRET", "sections": [{"title": "a"}]},
    ],
)
def test_bad_documents_are_refused(trio, workspace, body) -> None:
    response = trio[0].call("POST", f"/api/v1/workspaces/{workspace}/documents", body)
    assert response.status_code == 422, response.get_json()


def test_owners_edit_their_sections_and_others_suggest(trio, workspace) -> None:
    lead, prisons, cfrs = trio
    created = _create(lead, workspace)
    doc = created.get_json()["id"]
    path = f"/api/v1/workspaces/{workspace}/documents/{doc}"
    owned = lead.call("PUT", f"{path}/sections/leadership/owner", {"tenant": "hmiprisons"})
    assert owned.status_code == 200
    current = lead.call("GET", path)
    refused = _put(
        cfrs, path, current.headers["ETag"], _edit(_sections(current), "leadership", "<p>No.</p>")
    )
    assert refused.status_code == 422 and "suggest" in refused.get_json()["detail"]
    suggestion = cfrs.call(
        "POST",
        f"{path}/suggestions",
        {"section_key": "leadership", "operation": "replace", "quote": "lead", "text": "inspire"},
    ).get_json()
    not_owner = lead.call(
        "POST", f"{path}/suggestions/{suggestion['id']}/decision", {"accept": True}
    )
    assert not_owner.status_code == 422
    accepted = prisons.call(
        "POST", f"{path}/suggestions/{suggestion['id']}/decision", {"accept": True}
    ).get_json()
    assert accepted["status"] == "accepted" and accepted["result_number"] == 2
    assert "Leaders inspire." in lead.call("GET", path).get_json()["sections"][1]["body"]


def test_comment_threads_and_factual_accuracy_points(trio, workspace) -> None:
    lead, prisons, _ = trio
    doc = _create(lead, workspace).get_json()["id"]
    path = f"/api/v1/workspaces/{workspace}/documents/{doc}"
    thread = prisons.call(
        "POST",
        f"{path}/comments",
        {"section_key": "summary", "quote": "Second paragraph", "body": "Evidence for this?"},
    ).get_json()
    lead.call("POST", f"{path}/comments/{thread['id']}/replies", {"body": "Case file 12."})
    counts = {s["key"]: s["open_comments"] for s in lead.call("GET", path).get_json()["sections"]}
    assert counts == {"summary": 1, "leadership": 0}
    no_source = lead.call(
        "POST",
        f"{path}/comments",
        {"section_key": "summary", "body": "The date is wrong", "kind": "factual_accuracy"},
    )
    assert no_source.status_code == 422
    point = lead.call(
        "POST",
        f"{path}/comments",
        {
            "section_key": "summary",
            "body": "The date is wrong",
            "kind": "factual_accuracy",
            "source": "Inspected body: HMP Manchester",
        },
    ).get_json()
    unanswered = lead.call("POST", f"{path}/comments/{point['id']}/resolve", {})
    assert unanswered.status_code == 422
    answered = lead.call(
        "POST", f"{path}/comments/{point['id']}/resolve", {"response": "Corrected to 2024."}
    ).get_json()
    assert answered["resolved_at"] and answered["response"] == "Corrected to 2024."
    missing = lead.call("POST", f"{path}/comments", {"section_key": "nope", "body": "x"})
    assert missing.status_code == 422


def test_restore_and_diff(trio, workspace) -> None:
    lead = trio[0]
    created = _create(lead, workspace)
    path = f"/api/v1/workspaces/{workspace}/documents/{created.get_json()['id']}"
    _put(lead, path, created.headers["ETag"], _edit(_sections(created), "summary", "<p>New.</p>"))
    diff = lead.call("GET", f"{path}/diff?from=1&to=2").get_json()
    changed = next(d for d in diff if d["key"] == "summary")
    assert changed["kind"] == "changed" and "<ins>" in changed["html"]
    restored = lead.call("POST", f"{path}/versions/1/restore").get_json()
    assert restored["version"] == 3 and "First paragraph." in restored["sections"][0]["body"]
    assert lead.call("GET", f"{path}/diff?from=1&to=999").status_code == 412
    assert lead.call("GET", f"{path}/diff?from=x&to=1").status_code == 422
    assert trio[1].call("POST", f"{path}/versions/1/restore").status_code == 422


def test_a_save_voids_approvals_of_decisions_on_the_document(trio, workspace) -> None:
    lead, prisons, _ = trio
    created = _create(lead, workspace)
    body = created.get_json()
    decision = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions",
        {"kind": "final_report", "subject_id": body["subject_id"]},
    ).get_json()
    prisons.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions/{decision['id']}/answer",
        {"approve": True},
    )
    path = f"/api/v1/workspaces/{workspace}/documents/{body['id']}"
    _put(lead, path, created.headers["ETag"], _edit(_sections(created), "summary", "<p>x</p>"))
    after = lead.call("GET", f"/api/v1/workspaces/{workspace}/decisions").get_json()[0]
    assert all(a["voided_at"] for a in after["approvals"])
    assert "after 1 approval(s)" in after["voided_reason"]


def test_approving_the_draft_needs_red_lines_confirmed(trio, workspace) -> None:
    lead, prisons, _ = trio
    line = prisons.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/red-lines",
        {"text": "Name no individual prisoner"},
    )
    assert line.status_code == 201
    doc = _create(lead, workspace).get_json()
    decision = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions",
        {"kind": "draft_to_hmis", "subject_id": doc["subject_id"]},
    ).get_json()
    answer = f"/api/v1/workspaces/{workspace}/decisions/{decision['id']}/answer"
    refused = prisons.call("POST", answer, {"approve": True})
    assert refused.status_code == 422
    assert "Name no individual prisoner" in refused.get_json()["detail"]
    confirmed = prisons.call("POST", answer, {"approve": True, "red_lines_confirmed": True})
    assert confirmed.status_code == 200
    approval = confirmed.get_json()["approvals"][0]
    assert approval["red_lines_confirmed"] is True
    # HMI Probation has no red lines: nothing to confirm.
    assert lead.call("POST", answer, {"approve": True}).status_code == 200
    others = lead.call(
        "DELETE", f"/api/v1/workspaces/{workspace}/red-lines/{line.get_json()['id']}"
    )
    assert others.status_code == 422  # only the inspectorate that set it withdraws it


def test_presence_shows_who_else_is_here(trio, workspace) -> None:
    lead, prisons, _ = trio
    doc = _create(lead, workspace).get_json()["id"]
    path = f"/api/v1/workspaces/{workspace}/documents/{doc}/presence"
    assert lead.call("POST", path, {"section_key": "summary"}).get_json() == []
    seen = prisons.call("POST", path, {}).get_json()
    assert [(p["name"], p["section_key"]) for p in seen] == [(lead.user.name, "summary")]


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_exports_carry_marking_draft_and_version_and_are_audited(
    trio, workspace, session, fmt
) -> None:
    lead = trio[0]
    doc = _create(
        lead,
        workspace,
        marking="OFFICIAL-SENSITIVE",
        sections=[
            {
                "key": "s",
                "title": "Findings",
                "body": '<p>Found it.<span class="footnote">Source: case files.</span></p>'
                "<table><tr><th>Area</th><th>Rating</th></tr><tr><td>A</td><td>Good</td></tr>"
                "</table><ul><li>One</li></ul>",
            }
        ],
    ).get_json()
    path = f"/api/v1/workspaces/{workspace}/documents/{doc['id']}/exports"
    export = lead.call("POST", path, {"format": fmt})
    assert export.status_code == 202
    status = lead.call(
        "GET", f"/api/v1/workspaces/{workspace}/document-exports/{export.get_json()['id']}"
    )
    assert status.get_json()["status"] == "done", status.get_json()
    assert status.get_json()["draft"] is True
    download = lead.call(
        "GET", f"/api/v1/workspaces/{workspace}/document-exports/{export.get_json()['id']}/download"
    )
    assert download.status_code == 302
    data = lead.client.get(download.headers["Location"]).get_data()
    if fmt == "pdf":
        assert data.startswith(b"%PDF")
    else:
        archive = zipfile.ZipFile(io.BytesIO(data))
        xml = "".join(
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("word/") and name.endswith(".xml")
        )
        for text in (
            "OFFICIAL-SENSITIVE",
            "DRAFT",
            "Version 1",
            "Found it.",
            "Source: case files.",
        ):
            assert text in xml, text
    set_context(session, tenant_id=lead.tenant.id)
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"document.export_requested", "document.export_downloaded"} <= actions
    other = trio[1].call(
        "GET", f"/api/v1/workspaces/{workspace}/document-exports/{export.get_json()['id']}"
    )
    assert other.status_code == 404  # an export belongs to the inspectorate that asked for it


def test_a_resolution_that_conflicts_again_supersedes_the_first_pending_save(
    trio, workspace
) -> None:
    """Found by the concurrency benchmark: the first pending save stayed open and resolving it
    later as "mine" silently dropped a paragraph someone else had saved."""
    lead, prisons, _ = trio
    created = _create(lead, workspace, sections=[{"key": "s", "title": "S", "body": "<p>One.</p>"}])
    path = f"/api/v1/workspaces/{workspace}/documents/{created.get_json()['id']}"
    v1 = created.headers["ETag"]
    v2 = _put(lead, path, v1, [{"key": "s", "title": "S", "body": "<p>One.</p><p>A first.</p>"}])
    first = _put(
        prisons, path, v1, [{"key": "s", "title": "S", "body": "<p>One.</p><p>B first.</p>"}]
    )
    assert first.status_code == 409
    _put(
        lead,
        path,
        v2.headers["ETag"],
        [{"key": "s", "title": "S", "body": "<p>One.</p><p>A first.</p><p>A second.</p>"}],
    )
    again = prisons.call(
        "POST",
        first.get_json()["resolve"],
        {"resolutions": {"s": "<p>One.</p><p>A first.</p><p>B first.</p>"}},
    )
    assert again.status_code == 409  # lead saved the same place again meanwhile
    stale = prisons.call(
        "POST", first.get_json()["resolve"], {"resolutions": {"s": "<p>One.</p><p>B first.</p>"}}
    )
    assert stale.status_code == 422 and "already resolved" in stale.get_json()["detail"]
    done = prisons.call(
        "POST",
        again.get_json()["resolve"],
        {"resolutions": {"s": "<p>One.</p><p>A first.</p><p>A second.</p><p>B first.</p>"}},
    )
    assert done.status_code == 200
    body = done.get_json()["sections"][0]["body"]
    assert body.count("A first.") == 1 and body.count("B first.") == 1 and "A second." in body
