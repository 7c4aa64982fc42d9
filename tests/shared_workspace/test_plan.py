"""The timetable and project plan (001 §10-11), decision deadlines and their reminders."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.clock import clock
from shared_workspace import reminders
from shared_workspace.models import WorkspaceRole
from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone

TODAY = clock.today()


@pytest.fixture
def trio(client: FlaskClient, session: Session) -> list[Inspectorate]:
    return [
        inspectorate(session, client, slug) for slug in ("hmiprobation", "hmiprisons", "hmicfrs")
    ]


@pytest.fixture
def workspace(trio: list[Inspectorate]) -> int:
    response = trio[0].call(
        "POST",
        "/api/v1/workspaces",
        {"title": "Resettlement", "participants": ["hmiprisons", "hmicfrs"]},
    )
    ws = response.get_json()["id"]
    name_everyone(ws, *trio)
    return ws


def _milestone(party: Inspectorate, ws: int, **body):  # type: ignore[no-untyped-def]
    values = {"stage": 1, "title": "Terms of reference agreed", "due_on": str(TODAY + timedelta(7))}
    values.update(body)
    return party.call("POST", f"/api/v1/workspaces/{ws}/milestones", values)


def test_the_lead_plans_milestones_owned_by_a_participant(trio, workspace) -> None:
    lead, prisons, _cfrs = trio
    response = _milestone(lead, workspace, owner_tenant="hmiprisons", owner_id=prisons.user.id)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["owner_tenant"], body["owner_name"]) == ("hmiprisons", prisons.user.name)
    plan = lead.call("GET", f"/api/v1/workspaces/{workspace}/plan").get_json()
    assert [m["title"] for m in plan["milestones"]] == ["Terms of reference agreed"]


def test_only_the_lead_changes_the_plan(trio, workspace) -> None:
    _lead, prisons, _cfrs = trio
    response = _milestone(prisons, workspace)
    assert response.status_code == 422
    assert "Only the lead" in response.get_json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage": 9}, "stage"),
        ({"stage": "1"}, "stage"),
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"due_on": "31/01/2027"}, "due_on"),
        ({"owner_tenant": "nobody"}, "participants"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_milestones_are_refused_with_a_reason(trio, workspace, body, field) -> None:
    response = _milestone(trio[0], workspace, **body)
    assert response.status_code in (400, 422)
    assert field in response.get_json()["errors"]


def test_a_milestone_owner_must_take_part(trio, workspace, session, client) -> None:
    outsider = inspectorate(session, client, "hmcpsi")
    response = _milestone(trio[0], workspace, owner_tenant="hmcpsi")
    assert response.status_code == 422
    assert "participating inspectorate" in response.get_json()["detail"]
    assert outsider.call("GET", f"/api/v1/workspaces/{workspace}/plan").status_code == 404


def test_the_owning_inspectorate_marks_its_milestone_done_and_no_one_else(trio, workspace) -> None:
    lead, prisons, cfrs = trio
    ident = _milestone(lead, workspace, owner_tenant="hmiprisons").get_json()["id"]
    path = f"/api/v1/workspaces/{workspace}/milestones/{ident}"
    refused = cfrs.call("PATCH", path, {"done": True})
    assert refused.status_code == 422
    assert "HMIPRISONS" in refused.get_json()["detail"].upper()
    done = prisons.call("PATCH", path, {"done": True})
    assert done.status_code == 200
    assert done.get_json()["done_on"] == str(TODAY)
    replan = prisons.call("PATCH", path, {"due_on": str(TODAY + timedelta(30))})
    assert replan.status_code == 422


def test_overdue_milestones_and_late_fieldwork_are_warned_about(trio, workspace) -> None:
    lead = trio[0]
    _milestone(lead, workspace, title="Scope agreed", due_on=str(TODAY - timedelta(1)))
    site = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/sites",
        {
            "name": "HMP Exeter",
            "body_type": "prison",
            "fieldwork_starts_on": str(TODAY + timedelta(20)),
            "fieldwork_ends_on": str(TODAY + timedelta(90)),
        },
    )
    assert site.status_code == 201
    result = lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/publication-date",
        {"publication_date": str(TODAY + timedelta(60))},
    ).get_json()
    warnings = " ".join(result["warnings"])
    assert "“Scope agreed”" in warnings and "not done" in warnings
    assert "six weeks before (§16)" in warnings  # letters can no longer go in time
    assert "on or after the planned publication date" in warnings


def test_a_publication_date_in_the_past_is_refused(trio, workspace) -> None:
    response = trio[0].call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/publication-date",
        {"publication_date": str(TODAY - timedelta(1))},
    )
    assert response.status_code == 422
    assert "today or later" in response.get_json()["detail"]


def _open_decision(lead: Inspectorate, ws: int, due_on: date | None) -> int:
    subject = lead.call(
        "POST",
        f"/api/v1/workspaces/{ws}/subjects",
        {"kind": "methodology", "title": "Methodology", "content": {"methods": ["interviews"]}},
    ).get_json()["id"]
    decision = lead.call(
        "POST", f"/api/v1/workspaces/{ws}/decisions", {"kind": "methodology", "subject_id": subject}
    ).get_json()["id"]
    if due_on is not None:
        response = lead.call(
            "PUT",
            f"/api/v1/workspaces/{ws}/decisions/{decision}/deadline",
            {"due_on": str(due_on)},
        )
        assert response.status_code == 200, response.get_json()
    return decision


def _notes(party: Inspectorate) -> list[str]:
    return [n["text"] for n in party.call("GET", "/api/v1/notifications").get_json()]


def test_only_the_lead_sets_decision_deadlines(trio, workspace) -> None:
    lead, prisons, _ = trio
    decision = _open_decision(lead, workspace, None)
    response = prisons.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/decisions/{decision}/deadline",
        {"due_on": str(TODAY)},
    )
    assert response.status_code == 422


def test_approvers_are_reminded_before_a_deadline_once_and_again_when_late(
    trio, workspace, session
) -> None:
    lead, prisons, cfrs = trio
    due = TODAY + timedelta(days=reminders.REMIND_DAYS + 1)
    decision = _open_decision(lead, workspace, due)
    prisons.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions/{decision}/answer",
        {"approve": True},
    )
    assert reminders.send_reminders(session, TODAY) == 0  # not yet within three days
    session.commit()
    assert _notes(cfrs) == []

    day = due - timedelta(days=reminders.REMIND_DAYS)
    sent = reminders.send_reminders(session, day)
    session.commit()
    assert sent == 2  # the lead's and HMICFRS's approvers; HMI Prisons has approved
    assert reminders.send_reminders(session, day) == 0  # running again sends nothing twice
    session.commit()
    assert any("is due on" in text for text in _notes(cfrs))
    assert _notes(prisons) == []

    reminders.send_reminders(session, due + timedelta(days=1))
    session.commit()
    assert any("was due on" in text for text in _notes(cfrs))


def test_approvers_hear_when_a_change_voids_their_approval(trio, workspace, session) -> None:
    lead, prisons, cfrs = trio
    decision = _open_decision(lead, workspace, None)
    prisons.call(
        "POST", f"/api/v1/workspaces/{workspace}/decisions/{decision}/answer", {"approve": True}
    )
    subject = lead.call("GET", f"/api/v1/workspaces/{workspace}/decisions").get_json()[0]
    lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/subjects/{subject['subject_id']}",
        {"content": {"methods": ["interviews", "surveys"]}},
    )
    reminders.send_reminders(session, TODAY)
    session.commit()
    notes = _notes(prisons)
    assert len(notes) == 1
    assert "your approval no longer counts" in notes[0]
    assert "changed to version 2" in notes[0]
    assert _notes(cfrs) == []  # HMICFRS had not approved: nothing of theirs was voided
    marked = prisons.call("POST", "/api/v1/notifications/read", {}).get_json()
    assert marked == {"marked": 1}
    assert _notes(prisons) == []


def test_notifications_stay_with_their_person(trio, workspace, session) -> None:
    lead, prisons, _ = trio
    decision = _open_decision(lead, workspace, TODAY)
    reminders.send_reminders(session, TODAY)
    session.commit()
    mine = prisons.call("GET", "/api/v1/notifications").get_json()
    assert mine
    other = lead.call("POST", "/api/v1/notifications/read", {"id": mine[0]["id"]}).get_json()
    assert other == {"marked": 0}
    assert len(_notes(prisons)) == len(mine)
    assert decision


def test_the_reminder_job_is_registered_to_run_periodically() -> None:
    from app.jobs import PERIODIC_JOBS

    assert any(p.func is reminders.send_decision_reminders for p in PERIODIC_JOBS)


def test_only_named_approvers_are_reminded(trio, workspace, session) -> None:
    """Reminders go to the roles that may answer the decision, not to everyone named."""
    lead = trio[0]
    ws = lead.call(
        "POST", "/api/v1/workspaces", {"title": "Second", "participants": ["hmiprisons"]}
    ).get_json()["id"]
    name_everyone(ws, trio[0], trio[1], roles=(WorkspaceRole.TEAM_MEMBER,))
    _open_decision(lead, ws, TODAY)
    assert reminders.send_reminders(session, TODAY) == 0
