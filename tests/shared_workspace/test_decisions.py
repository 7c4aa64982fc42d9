"""Joint sign-off rules: nobody agrees alone, changes void approvals, rejections need a new
version, only the people named for a kind of decision may answer."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shared_workspace.models import WorkspaceRole
from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone


@pytest.fixture
def trio(client: FlaskClient, session: Session) -> list[Inspectorate]:
    return [
        inspectorate(session, client, slug) for slug in ("hmiprobation", "hmiprisons", "hmicfrs")
    ]


@pytest.fixture
def workspace(trio: list[Inspectorate]) -> int:
    lead = trio[0]
    response = lead.call(
        "POST",
        "/api/v1/workspaces",
        {"title": "Resettlement", "participants": ["hmiprisons", "hmicfrs"]},
    )
    ws = response.get_json()["id"]
    name_everyone(ws, *trio)
    return ws


def _decision(lead: Inspectorate, ws: int, kind: str = "methodology") -> tuple[int, int]:
    subject = lead.call(
        "POST",
        f"/api/v1/workspaces/{ws}/subjects",
        {"kind": kind, "title": "Methodology", "content": {"methods": ["interviews"]}},
    ).get_json()["id"]
    decision = lead.call(
        "POST", f"/api/v1/workspaces/{ws}/decisions", {"kind": kind, "subject_id": subject}
    ).get_json()["id"]
    return subject, decision


def _answer(party: Inspectorate, ws: int, decision: int, approve: bool = True, reason: str = ""):  # type: ignore[no-untyped-def]
    return party.call(
        "POST",
        f"/api/v1/workspaces/{ws}/decisions/{decision}/answer",
        {"approve": approve, "reason": reason},
    )


def test_the_lead_cannot_agree_a_decision_alone(trio, workspace) -> None:
    lead = trio[0]
    _subject, decision = _decision(lead, workspace)
    body = _answer(lead, workspace, decision).get_json()
    assert body["status"] == "open"
    again = _answer(lead, workspace, decision).get_json()  # answering twice is still one voice
    assert again["status"] == "open"
    live = [a for a in again["approvals"] if a["voided_at"] is None]
    assert len(live) == 1


def test_an_edit_after_two_of_three_approvals_voids_both(trio, workspace) -> None:
    lead, prisons, cfrs = trio
    subject, decision = _decision(lead, workspace)
    _answer(lead, workspace, decision)
    _answer(prisons, workspace, decision)
    edited = lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/subjects/{subject}",
        {"content": {"methods": ["interviews", "surveys"]}},
    )
    assert edited.get_json()["version"] == 2
    body = lead.call("GET", f"/api/v1/workspaces/{workspace}/decisions").get_json()[0]
    assert body["status"] == "open"
    assert all(a["voided_at"] for a in body["approvals"])
    assert "changed to version 2 after 2 approval(s)" in body["voided_reason"]
    assert _answer(cfrs, workspace, decision).get_json()["status"] == "open"
    _answer(lead, workspace, decision)
    assert _answer(prisons, workspace, decision).get_json()["status"] == "agreed"


def test_an_edit_after_agreement_reopens_the_decision(trio, workspace) -> None:
    lead, prisons, cfrs = trio
    subject, decision = _decision(lead, workspace)
    for party in trio:
        _answer(party, workspace, decision)
    lead.call("PUT", f"/api/v1/workspaces/{workspace}/subjects/{subject}", {"content": {"x": 1}})
    body = lead.call("GET", f"/api/v1/workspaces/{workspace}/decisions").get_json()[0]
    assert body["status"] == "open" and body["agreed_at"] is None


def test_a_rejected_decision_needs_a_new_version(trio, workspace) -> None:
    lead, prisons, _cfrs = trio
    subject, decision = _decision(lead, workspace)
    refused = _answer(prisons, workspace, decision, approve=False)
    assert refused.status_code == 422 and "Give a reason" in refused.get_json()["detail"]
    rejected = _answer(prisons, workspace, decision, approve=False, reason="Too narrow").get_json()
    assert rejected["status"] == "rejected"
    assert _answer(lead, workspace, decision).status_code == 422
    again = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions",
        {"kind": "methodology", "subject_id": subject},
    )
    assert again.status_code == 422 and "This version was rejected" in again.get_json()["detail"]
    lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/subjects/{subject}",
        {"content": {"methods": ["interviews", "file examination"]}},
    )
    fresh = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions",
        {"kind": "methodology", "subject_id": subject},
    )
    assert fresh.status_code == 201


def test_only_the_named_role_may_answer(client: FlaskClient, session: Session) -> None:
    lead = inspectorate(session, client, "hmiprobation")
    prisons = inspectorate(session, client, "hmiprisons")
    ws = lead.call(
        "POST", "/api/v1/workspaces", {"title": "T", "participants": ["hmiprisons"]}
    ).get_json()["id"]
    name_everyone(ws, lead)
    name_everyone(ws, prisons, roles=(WorkspaceRole.LEAD_INSPECTOR,))
    _subject, decision = _decision(lead, ws, kind="commissioning_letters")
    refused = _answer(prisons, ws, decision)
    assert refused.status_code == 422
    assert "development group rep" in refused.get_json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"approve": "perhaps"},
        {"approve": True, "reason": "x" * 6000},
        {"approve": True, "extra": 1},
        {"approve": None},
    ],
    ids=["missing", "not-bool", "huge", "unknown-field", "null"],
)
def test_bad_answers_get_field_errors(trio, workspace, body) -> None:
    _subject, decision = _decision(trio[0], workspace)
    response = trio[1].call(
        "POST", f"/api/v1/workspaces/{workspace}/decisions/{decision}/answer", body
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_a_participant_added_later_sees_the_history(client: FlaskClient, session: Session) -> None:
    lead = inspectorate(session, client, "hmiprobation")
    prisons = inspectorate(session, client, "hmiprisons")
    late = inspectorate(session, client, "hmicfrs")
    ws = lead.call(
        "POST", "/api/v1/workspaces", {"title": "T", "participants": ["hmiprisons"]}
    ).get_json()["id"]
    name_everyone(ws, lead, prisons)
    _subject, decision = _decision(lead, ws)
    assert late.call("GET", f"/api/v1/workspaces/{ws}").status_code == 404
    assert (
        prisons.call(
            "POST", f"/api/v1/workspaces/{ws}/participants", {"tenant": "hmicfrs"}
        ).status_code
        == 422
    )  # only the lead adds
    assert (
        lead.call(
            "POST", f"/api/v1/workspaces/{ws}/participants", {"tenant": "hmicfrs"}
        ).status_code
        == 201
    )
    history = late.call("GET", f"/api/v1/workspaces/{ws}/decisions")
    assert history.status_code == 200 and history.get_json()[0]["id"] == decision


def test_hmi_prisons_led_reports_raise_concerns(client: FlaskClient, session: Session) -> None:
    prisons = inspectorate(session, client, "hmiprisons")
    inspectorate(session, client, "hmiprobation")
    body = prisons.call(
        "POST", "/api/v1/workspaces", {"title": "T", "participants": ["hmiprobation"]}
    ).get_json()
    assert body["recommendations_word"] == "concerns"


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Alone", "participants": []},
        {"title": "", "participants": ["hmiprisons"]},
        {"title": "T", "participants": ["no-such-inspectorate"]},
        {"title": "T"},
        {"title": "T", "participants": "hmiprisons"},
    ],
    ids=["alone", "no-title", "unknown", "missing", "not-a-list"],
)
def test_bad_workspaces_are_refused(trio, body) -> None:
    response = trio[0].call("POST", "/api/v1/workspaces", body)
    assert response.status_code == 422, response.get_json()


@pytest.mark.parametrize("ident", ["0", "-1", "99999999999999999999", "abc", "1.5"])
def test_ids_that_cannot_exist_answer_404(trio, ident: str) -> None:
    for path in (f"/api/v1/workspaces/{ident}", f"/api/v1/workspaces/{ident}/decisions"):
        assert trio[0].call("GET", path).status_code == 404


def test_fellow_participants_see_each_others_people_but_nobody_else(
    client: FlaskClient, session: Session, trio, workspace
) -> None:
    from sqlalchemy import select

    from app.db import set_context
    from tenants.models import User

    outsider = inspectorate(session, client, "hmcpsi")
    set_context(session, tenant_id=trio[1].tenant.id)
    seen = {u.email for u in session.scalars(select(User))}
    assert {p.user.email for p in trio} <= seen
    assert outsider.user.email not in seen
    set_context(session, tenant_id=outsider.tenant.id)
    assert {u.email for u in session.scalars(select(User))} == {outsider.user.email}


def test_checklists_hold_001s_expectations_and_the_lead_adds_items(trio, workspace) -> None:
    lead, prisons, _cfrs = trio
    items = lead.call("GET", f"/api/v1/workspaces/{workspace}/checklist").get_json()
    assert {i["stage"] for i in items} == set(range(1, 9))
    assert any(i["reference"] == "§17" for i in items)
    added = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/checklist",
        {"stage": 3, "text": "Book joint interview rooms", "due_on": "2027-02-01"},
    )
    assert added.status_code == 201
    refused = prisons.call(
        "POST", f"/api/v1/workspaces/{workspace}/checklist", {"stage": 3, "text": "Not the lead"}
    )
    assert refused.status_code == 422
    item = added.get_json()["id"]
    done = prisons.call(
        "PATCH",
        f"/api/v1/workspaces/{workspace}/checklist/{item}",
        {"status": "done", "assignee_id": prisons.user.id, "link": f"/workspaces/{workspace}"},
    )
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    for body in (
        {"status": "finished"},
        {"link": "https://evil.example"},
        {"stage": 9},
        {"assignee_id": 2**40},
    ):
        bad = prisons.call("PATCH", f"/api/v1/workspaces/{workspace}/checklist/{item}", body)
        assert bad.status_code == 422, body


def test_private_notes_are_seen_by_their_own_inspectorate_only(trio, workspace) -> None:
    lead, prisons, cfrs = trio
    made = prisons.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/notes",
        {"title": "Our red lines", "body": "Only for HMI Prisons"},
    )
    assert made.status_code == 201
    assert [
        n["title"] for n in prisons.call("GET", f"/api/v1/workspaces/{workspace}/notes").get_json()
    ] == ["Our red lines"]
    for other in (lead, cfrs):
        assert other.call("GET", f"/api/v1/workspaces/{workspace}/notes").get_json() == []


def test_moving_fieldwork_warns_when_the_six_week_rule_breaks(trio, workspace) -> None:
    from datetime import date, timedelta

    lead, prisons, _cfrs = trio
    start = date.today() + timedelta(days=60)
    site = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/sites",
        {"name": "HMP Example", "body_type": "prison", "fieldwork_starts_on": start.isoformat()},
    ).get_json()["id"]
    url = f"/api/v1/workspaces/{workspace}/sites/{site}"
    fine = lead.call("PATCH", url, {"fieldwork_starts_on": (start + timedelta(days=7)).isoformat()})
    assert fine.status_code == 200 and fine.get_json()["warnings"] == []
    soon = (date.today() + timedelta(days=20)).isoformat()
    risky = lead.call("PATCH", url, {"fieldwork_starts_on": soon})
    assert "six weeks before (§16)" in risky.get_json()["warnings"][0]
    assert prisons.call("PATCH", url, {"fieldwork_starts_on": soon}).status_code == 422
    backwards = lead.call("PATCH", url, {"fieldwork_ends_on": "2000-01-01"})
    assert backwards.status_code == 422
