"""The retention API: rules, holds, reviews, the preview and certificates for records
managers; a workspace's claims, the item explanation, events, the agreement and closing for
participants. Bad input answers a problem naming the field and changes nothing; another
inspectorate's ids answer 404; a missing role answers 403 with the reason."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import clock
from app.db import set_context, utcnow
from retention.models import Certificate, Hold, RetentionRule, State
from shared_workspace.models import Workspace
from tenants.models import Role
from tests.retention.conftest import (
    Founders,
    agree_retention,
    claim_of,
    colleague,
    evidence_file,
    new_workspace,
    note,
    sweep,
)
from tests.shared_workspace.fixtures import Inspectorate, name_everyone

PUBLICATION = date.today() + timedelta(days=40)
RULES = "/api/v1/retention/rules"
HOLDS = "/api/v1/retention/holds"
RULE = {
    "material_class": "working_drafts",
    "sensitivity": "any",
    "trigger": "publication",
    "offset_amount": 6,
    "offset_unit": "months",
    "action": "destroy",
    "effective_from": (date.today() + timedelta(days=10)).isoformat(),
    "note": "Drafts go six months after publication.",
}


def _problem(response, status: int, field: str | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    if field is not None:
        assert field in body.get("errors", {}), body
    return body  # type: ignore[no-any-return]


def _rule_count(session: Session, party: Inspectorate) -> int:
    set_context(session, tenant_id=party.tenant.id)
    return len(session.scalars(select(RetentionRule)).all())


# --- rules ---------------------------------------------------------------------------------


def test_every_member_of_staff_reads_the_rules_with_their_status(
    founders: Founders, session: Session
) -> None:
    inspector = colleague(session, founders.hmcpsi, Role.INSPECTOR)
    added = founders.hmcpsi.call("POST", RULES, RULE)
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["status"] == "future"
    rules = inspector.call("GET", RULES).get_json()
    by_class = {(r["material_class"], r["status"]) for r in rules}
    assert ("all", "current") in by_class and ("working_drafts", "future") in by_class
    everything = next(r for r in rules if r["material_class"] == "all")
    assert everything["description"] == "Destroy 1 day before the publication date"
    assert everything["class_label"] == "All inspection material"


def test_a_new_rule_version_reschedules_open_claims(founders: Founders, session: Session) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, file_id = evidence_file(cps, ws, visibility="inspectorate", method="interview")
    rule = RULE | {
        "material_class": "interview_notes",
        "effective_from": "2001-01-01",
        "offset_amount": 2,
        "offset_unit": "years",
        "trigger": "upload",
    }
    assert cps.call("POST", RULES, rule).status_code == 201
    claim = claim_of(session, cps, "evidence_file", file_id)
    assert claim.trigger == "upload"
    assert claim.disposal_on == claim.created_on + relativedelta(years=2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"offset_amount": "3"}, "offset_amount"),  # a string, not a number
        ({"offset_amount": 1.5}, "offset_amount"),
        ({"offset_amount": True}, "offset_amount"),
        ({"offset_amount": 10**30}, "offset_amount"),  # huge
        ({"offset_amount": 101, "offset_unit": "years"}, "offset_amount"),
        ({"material_class": 5}, "material_class"),
        ({"material_class": "<script>alert(1)</script>"}, "material_class"),
        ({"material_class": "'; DROP TABLE retention_rules; --"}, "material_class"),
        ({"trigger": None}, "trigger"),
        ({"trigger": "event", "event_name": ""}, "event_name"),
        ({"action": "shred"}, "action"),
        ({"sensitivity": "secret"}, "sensitivity"),
        ({"effective_from": "1 April"}, "effective_from"),
        ({"effective_from": "2027-02-30"}, "effective_from"),
        ({"note": "x" * 5000}, "note"),
        ({"note": "bad \u0000 byte"}, "note"),
        ({"colour": "red"}, "colour"),  # unknown fields are refused
    ],
)
def test_bad_rules_are_refused_with_the_field_and_change_nothing(
    founders: Founders, session: Session, change: dict[str, Any], field: str
) -> None:
    before = _rule_count(session, founders.hmcpsi)
    response = founders.hmcpsi.call("POST", RULES, RULE | change)
    _problem(response, 422, field)
    assert _rule_count(session, founders.hmcpsi) == before


@pytest.mark.parametrize("missing", ["material_class", "trigger", "action", "effective_from"])
def test_a_rule_missing_a_field_is_refused(founders: Founders, missing: str) -> None:
    body = {k: v for k, v in RULE.items() if k != missing}
    _problem(founders.hmcpsi.call("POST", RULES, body), 422, missing)


def test_rule_bodies_that_are_not_json_objects_are_refused(founders: Founders) -> None:
    party = founders.hmcpsi
    _problem(party.call("POST", RULES, [RULE]), 400)
    not_json = party.client.post(
        RULES, data="{", headers={**party.headers, "Content-Type": "application/json"}
    )
    _problem(not_json, 400)
    form = party.client.post(RULES, data={"material_class": "all"}, headers=party.headers)
    _problem(form, 415)


def test_two_versions_from_the_same_day_contradict(founders: Founders) -> None:
    assert founders.hmcpsi.call("POST", RULES, RULE).status_code == 201
    again = founders.hmcpsi.call("POST", RULES, RULE | {"action": "review"})
    assert "already applies" in _problem(again, 422, "effective_from")["detail"]


def test_only_records_managers_add_rules(founders: Founders, session: Session) -> None:
    inspector = colleague(session, founders.hmcpsi, Role.INSPECTOR, Role.LEAD_INSPECTOR)
    body = _problem(inspector.call("POST", RULES, RULE), 403)
    assert "records managers" in body["detail"]
    assert _rule_count(session, founders.hmcpsi) == 3


def test_no_inspectorate_can_edit_another_inspectorates_rules(
    founders: Founders, session: Session
) -> None:
    """A rule version belongs to the records manager's own inspectorate: naming another in
    the body is refused, and the database refuses a write to another's rule whatever the
    route (row-level security)."""
    cps, police = founders.hmcpsi, founders.hmicfrs
    before = _rule_count(session, police)
    for field in ("tenant_id", "tenant"):
        refused = cps.call("POST", RULES, RULE | {field: police.tenant.id})
        assert refused.status_code == 422, refused.get_json()
    assert _rule_count(session, police) == before
    assert _rule_count(session, cps) == 3
    set_context(session, tenant_id=police.tenant.id)
    theirs = session.scalars(select(RetentionRule.id)).all()
    session.rollback()
    set_context(session, tenant_id=cps.tenant.id)
    from sqlalchemy import update

    changed = session.execute(
        update(RetentionRule).where(RetentionRule.id.in_(theirs)).values(action="destroy")
    ).rowcount
    assert changed == 0
    session.rollback()


# --- holds ---------------------------------------------------------------------------------


def _hold(party: Inspectorate, **fields: Any):  # type: ignore[no-untyped-def]
    body = {
        "scope": "tenant",
        "reason_kind": "legal",
        "reason": "Claim 2027/3 against the inspectorate",
        "review_on": (date.today() + timedelta(days=30)).isoformat(),
    }
    return party.call("POST", HOLDS, body | fields)


def test_holds_are_placed_listed_and_released(founders: Founders, session: Session) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, file_id = evidence_file(cps, ws)
    placed = [
        _hold(cps),
        _hold(cps, scope="workspace", workspace_id=ws, reason_kind="foi"),
        _hold(cps, scope="item", material_type="evidence_file", material_id=file_id),
    ]
    assert [p.status_code for p in placed] == [201, 201, 201], [p.get_json() for p in placed]
    item_hold = placed[2].get_json()
    assert item_hold["workspace_id"] == ws and item_hold["active"] is True
    listed = cps.call("GET", HOLDS).get_json()
    assert {h["scope"] for h in listed} == {"tenant", "workspace", "item"}

    released = cps.call("POST", f"{HOLDS}/{item_hold['id']}/release", {"reason": "Claim settled"})
    assert released.status_code == 200, released.get_json()
    assert released.get_json()["hold"]["active"] is False
    assert [h["id"] for h in cps.call("GET", f"{HOLDS}?active=false").get_json()] == [
        item_hold["id"]
    ]
    again = cps.call("POST", f"{HOLDS}/{item_hold['id']}/release", {"reason": "Again"})
    assert "already released" in _problem(again, 409)["detail"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"reason_kind": "whim"}, "reason_kind"),
        ({"scope": "galaxy"}, "scope"),
        ({"review_on": None}, "review_on"),
        ({"review_on": "2001-01-01"}, "review_on"),
        ({"review_on": "tomorrow"}, "review_on"),
        ({"scope": "workspace"}, "workspace_id"),
        ({"scope": "workspace", "workspace_id": "1"}, "workspace_id"),
        ({"scope": "workspace", "workspace_id": 2**40}, "workspace_id"),
        ({"scope": "item", "material_type": "evidence_file"}, "material_id"),
        ({"scope": "item", "material_type": "sandwich", "material_id": 1}, "material_type"),
        ({"scope": "item", "material_id": 1}, "material_type"),
    ],
)
def test_bad_holds_are_refused_with_the_field(
    founders: Founders, session: Session, fields: dict[str, Any], field: str
) -> None:
    _problem(_hold(founders.hmcpsi, **fields), 422, field)
    set_context(session, tenant_id=founders.hmcpsi.tenant.id)
    assert session.scalars(select(Hold)).all() == []


def test_another_inspectorates_workspace_item_and_hold_are_not_found(
    founders: Founders, session: Session
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    theirs = new_workspace(founders.hmicfrs, "hmiprobation", publication=PUBLICATION)
    _, their_file = evidence_file(founders.hmicfrs, theirs)
    _problem(_hold(cps, scope="workspace", workspace_id=theirs), 404)
    _problem(_hold(cps, scope="item", material_type="evidence_file", material_id=their_file), 404)
    # A partner's private note in a shared inspection is not the lead's to hold either.
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    private = note(prisons, ws)
    _problem(_hold(cps, scope="item", material_type="private_note", material_id=private), 404)
    their_hold = _hold(prisons).get_json()["id"]
    _problem(cps.call("POST", f"{HOLDS}/{their_hold}/release", {"reason": "mine now"}), 404)
    _problem(cps.call("POST", f"{HOLDS}/{2**31 + 5}/release", {"reason": "x"}), 404)
    assert their_hold not in [h["id"] for h in cps.call("GET", HOLDS).get_json()]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", HOLDS),
        ("POST", HOLDS),
        ("GET", "/api/v1/retention/reviews"),
        ("GET", "/api/v1/retention/preview"),
        ("GET", "/api/v1/retention/certificates"),
        ("GET", "/api/v1/retention/certificates/1"),
        ("POST", "/api/v1/retention/schedules/1/review"),
        ("POST", f"{HOLDS}/1/release"),
    ],
)
def test_records_manager_routes_refuse_everyone_else(
    founders: Founders, session: Session, method: str, path: str
) -> None:
    lead = colleague(session, founders.hmcpsi, *(r for r in Role if r != Role.RECORDS_MANAGER))
    body = _problem(lead.call(method, path, {} if method == "POST" else None), 403)
    assert body["detail"] == "Only your inspectorate's records managers manage retention"


# --- reviews -------------------------------------------------------------------------------


def _review_today(party: Inspectorate, method: str = "interview") -> None:
    """A rule version that reviews new interview evidence on the day it is added."""
    rule = RULE | {
        "material_class": f"evidence.{method}",
        "trigger": "upload",
        "offset_amount": 0,
        "offset_unit": "days",
        "action": "review",
        "effective_from": date.today().isoformat(),
    }
    assert party.call("POST", RULES, rule).status_code == 201


def test_review_tasks_are_listed_and_answered(
    founders: Founders, session: Session, app: Flask
) -> None:
    prisons = founders.hmiprisons
    _review_today(prisons)
    ws = new_workspace(prisons, "hmiprobation", publication=PUBLICATION)
    _, file_id = evidence_file(prisons, ws, method="interview", visibility="inspectorate")
    assert sweep(app, prisons).tasks == 1
    (task,) = prisons.call("GET", "/api/v1/retention/reviews").get_json()
    assert task["material_id"] == file_id and task["state"] == "review"
    url = f"/api/v1/retention/schedules/{task['id']}/review"

    _problem(
        prisons.call("POST", url, {"outcome": "extend", "reason": "Follow-up"}), 422, "new_date"
    )
    _problem(
        prisons.call("POST", url, {"outcome": "extend", "new_date": "2999-01-01"}), 422, "reason"
    )
    _problem(prisons.call("POST", url, {"outcome": "burn", "reason": "x"}), 422, "outcome")
    past = {"outcome": "extend", "reason": "x", "new_date": date.today().isoformat()}
    _problem(prisons.call("POST", url, past), 422, "new_date")
    assert claim_of(session, prisons, "evidence_file", file_id).state == State.REVIEW

    later = (date.today() + timedelta(days=400)).isoformat()
    extended = prisons.call(
        "POST", url, {"outcome": "extend", "reason": "Follow-up thematic", "new_date": later}
    )
    assert extended.status_code == 200, extended.get_json()
    assert extended.get_json()["disposal_on"] == later
    assert extended.get_json()["state"] == "scheduled"
    again = prisons.call("POST", url, {"outcome": "destroy", "reason": "x"})
    assert "not waiting for a review" in _problem(again, 409)["detail"]


def test_a_partners_claim_on_joint_material_cannot_be_reviewed(
    founders: Founders, session: Session
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, shared = evidence_file(cps, ws)
    theirs = claim_of(session, prisons, "evidence_file", shared)
    response = cps.call(
        "POST",
        f"/api/v1/retention/schedules/{theirs.id}/review",
        {"outcome": "destroy", "reason": "x"},
    )
    _problem(response, 404)


# --- preview and certificates --------------------------------------------------------------


def test_the_preview_lists_what_is_due_and_what_holds_keep(founders: Founders) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    other = new_workspace(cps, "hmiprobation", publication=PUBLICATION)
    _, due = evidence_file(cps, ws, b"% due", visibility="inspectorate")
    _, held = evidence_file(cps, ws, b"% held", visibility="inspectorate")
    evidence_file(cps, other, b"% other", visibility="inspectorate")
    assert (
        _hold(cps, scope="item", material_type="evidence_file", material_id=held).status_code == 201
    )

    soon = cps.call("GET", "/api/v1/retention/preview?days=10").get_json()
    assert soon["due"] == [] and soon["held"] == []
    found = cps.call("GET", f"/api/v1/retention/preview?days=60&workspace={ws}").get_json()
    assert [c["material_id"] for c in found["due"]] == [due]
    assert [c["material_id"] for c in found["held"]] == [held]
    assert found["due_count"] == 1 and found["due"][0]["inspectorate"] == cps.tenant.name
    everywhere = cps.call("GET", "/api/v1/retention/preview?days=60").get_json()
    assert everywhere["due_count"] == 2


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("days=-1", 422, "days"),
        ("days=abc", 422, "days"),
        ("days=99999999999999999999", 422, "days"),
        ("days=3661", 422, "days"),
        ("workspace=0", 422, "workspace"),
        ("workspace=x", 422, "workspace"),
        ("workspace=2147483647", 404, None),
    ],
)
def test_bad_previews_are_refused(founders: Founders, query: str, status: int, field: str) -> None:
    _problem(founders.hmcpsi.call("GET", f"/api/v1/retention/preview?{query}"), status, field)


def test_the_preview_of_another_inspectorates_workspace_is_not_found(founders: Founders) -> None:
    theirs = new_workspace(founders.hmicfrs, "hmiprobation", publication=PUBLICATION)
    _problem(founders.hmcpsi.call("GET", f"/api/v1/retention/preview?workspace={theirs}"), 404)


def test_certificates_list_their_tombstones_and_still_match_their_digest(
    founders: Founders, session: Session, app: Flask
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=date.today() + timedelta(days=1))
    files = [
        evidence_file(cps, ws, f"% {n}".encode(), visibility="inspectorate")[1] for n in range(3)
    ]
    (certificate_id,) = sweep(app, cps).certificates

    page = cps.call("GET", "/api/v1/retention/certificates").get_json()
    assert [c["id"] for c in page["certificates"]] == [certificate_id]
    assert page["certificates"][0]["items"] == 3 and page["certificates"][0]["state"] == "complete"
    url = f"/api/v1/retention/certificates/{certificate_id}"
    first = cps.call("GET", f"{url}?limit=2").get_json()
    assert first["digest_verified"] is True
    assert [t["material_id"] for t in first["tombstones"]] == files[:2]
    assert first["tombstones"][0]["state"] == "destroyed"
    assert first["tombstones"][0]["object_destroyed"] is True
    rest = cps.call("GET", f"{url}?limit=2&cursor={first['next_cursor']}").get_json()
    assert [t["material_id"] for t in rest["tombstones"]] == files[2:] and rest[
        "next_cursor"
    ] is None
    # Another inspectorate's certificate does not exist for this one.
    _problem(founders.hmiprisons.call("GET", url), 404)
    assert (
        founders.hmiprisons.call("GET", "/api/v1/retention/certificates").get_json()["certificates"]
        == []
    )


@pytest.mark.parametrize("cursor", ["!!!", "a" * 500, "MTAwMDAwMDAwMDAwMDA", "LTE"])
def test_hostile_cursors_start_at_the_top(
    founders: Founders, session: Session, cursor: str
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    evidence_file(cps, ws)
    response = cps.call("GET", f"/api/v1/workspaces/{ws}/retention?cursor={cursor}&limit=abc")
    assert response.status_code == 200 and len(response.get_json()["claims"]) == 2


# --- a workspace's retention ---------------------------------------------------------------


def test_participants_page_through_the_claims_they_can_see(
    founders: Founders, session: Session
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, shared = evidence_file(cps, ws)
    private = note(prisons, ws)
    url = f"/api/v1/workspaces/{ws}/retention"
    first = cps.call("GET", f"{url}?limit=1").get_json()
    assert first["total"] == 2 and len(first["claims"]) == 1 and first["next_cursor"]
    second = cps.call("GET", f"{url}?limit=1&cursor={first['next_cursor']}").get_json()
    assert second["next_cursor"] is None
    seen = first["claims"] + second["claims"]
    assert {(c["material_type"], c["material_id"]) for c in seen} == {("evidence_file", shared)}
    assert {c["inspectorate"] for c in seen} == {cps.tenant.name, prisons.tenant.name}
    # The partner sees the joint claims and its own note's claim; the lead never sees that.
    theirs = prisons.call("GET", url).get_json()
    assert ("private_note", private) in {
        (c["material_type"], c["material_id"]) for c in theirs["claims"]
    }
    scheduled = cps.call("GET", f"{url}?state=waiting").get_json()
    assert scheduled["claims"] == []
    _problem(founders.hmicfrs.call("GET", url), 404)


def test_the_item_explains_every_claim_and_the_items_fate(
    founders: Founders, session: Session
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, shared = evidence_file(cps, ws)
    assert _hold(prisons, scope="workspace", workspace_id=ws).status_code == 201
    # The partner reads the lead's claim with the lead's rule, and its own held one.
    found = prisons.call("GET", f"/api/v1/workspaces/{ws}/retention/items/evidence_file/{shared}")
    assert found.status_code == 200, found.get_json()
    body = found.get_json()
    assert body["joint"] is True and "not before" in body["fate"]
    lead_claim, own_claim = body["claims"]
    assert lead_claim["rule"] == "Destroy 1 day before the publication date"
    assert lead_claim["trigger_label"] == "the publication date"
    assert lead_claim["disposal_on"] == (PUBLICATION - timedelta(days=1)).isoformat()
    assert lead_claim["explanation"].startswith(f"{cps.tenant.name}: Destroy")
    assert own_claim["on_hold"] is True and "Nothing held is destroyed" in own_claim["explanation"]
    assert lead_claim["on_hold"] is False


@pytest.mark.parametrize(
    "path",
    [
        "items/sandwich/1",
        "items/evidence_file/0",
        "items/evidence_file/99999999999",
        "items/document/x",
    ],
)
def test_items_that_do_not_parse_or_exist_are_not_found(founders: Founders, path: str) -> None:
    ws = new_workspace(founders.hmcpsi, "hmiprisons", publication=PUBLICATION)
    _problem(founders.hmcpsi.call("GET", f"/api/v1/workspaces/{ws}/retention/{path}"), 404)


def test_items_of_other_workspaces_and_partners_private_notes_are_not_found(
    founders: Founders,
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    other = new_workspace(cps, "hmiprobation", publication=PUBLICATION)
    _, elsewhere = evidence_file(cps, other)
    private = note(prisons, ws)
    base = f"/api/v1/workspaces/{ws}/retention/items"
    _problem(cps.call("GET", f"{base}/evidence_file/{elsewhere}"), 404)
    _problem(cps.call("GET", f"{base}/private_note/{private}"), 404)
    assert prisons.call("GET", f"{base}/private_note/{private}").status_code == 200


def test_confirming_an_event_moves_the_schedules_waiting_for_it(
    founders: Founders, session: Session
) -> None:
    police = founders.hmicfrs
    ws = new_workspace(police, "hmcpsi", publication=PUBLICATION)
    notebook = note(police, ws, "Notebook: day 1")
    url = f"/api/v1/workspaces/{ws}/retention/events"
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    _problem(
        police.call("POST", url, {"name": "notes_transcribed", "confirmed_on": tomorrow}),
        422,
        "confirmed_on",
    )
    _problem(police.call("POST", url, {"name": "tea_break"}), 422, "name")
    _problem(police.call("POST", url, {"name": ["notes_transcribed"]}), 422, "name")
    _problem(police.call("POST", url, {}), 422, "name")
    assert claim_of(session, police, "private_note", notebook).state == State.WAITING

    inspector = colleague(session, police, Role.INSPECTOR)
    assert (
        "lead inspectors"
        in _problem(inspector.call("POST", url, {"name": "notes_transcribed"}), 403)["detail"]
    )
    confirmed = police.call("POST", url, {"name": "notes_transcribed"})
    assert confirmed.status_code == 201, confirmed.get_json()
    assert confirmed.get_json()["confirmed_on"] == date.today().isoformat()
    claim = claim_of(session, police, "private_note", notebook)
    assert claim.state == State.SCHEDULED and claim.disposal_on == date.today()
    theirs = new_workspace(founders.hmiprobation, "hmiprisons", publication=PUBLICATION)
    _problem(
        police.call(
            "POST", f"/api/v1/workspaces/{theirs}/retention/events", {"name": "notes_transcribed"}
        ),
        404,
    )


def test_the_lead_proposes_the_agreement_and_records_managers_answer_it(
    founders: Founders, session: Session
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    url = f"/api/v1/workspaces/{ws}/retention/agreement"
    refused = _problem(prisons.call("POST", url), 403)
    assert "Only the lead inspectorate" in refused["detail"]
    proposed = cps.call("POST", url)
    assert proposed.status_code == 201, proposed.get_json()
    body = proposed.get_json()
    assert body["status"] == "open"
    assert [c["tenant_id"] for c in body["content"]["tenants"]] == [
        cps.tenant.id,
        prisons.tenant.id,
    ]
    assert cps.call("POST", url).get_json()["decision_id"] == body["decision_id"]  # refreshed
    name_everyone(ws, cps, prisons)
    for party in (cps, prisons):
        answered = party.call(
            "POST",
            f"/api/v1/workspaces/{ws}/decisions/{body['decision_id']}/answer",
            {"approve": True},
        )
        assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["status"] == "agreed"
    _problem(founders.hmicfrs.call("POST", url), 404)


def test_the_lead_closes_the_inspection_only_after_publication(
    founders: Founders, session: Session, app: Flask
) -> None:
    police = founders.hmicfrs
    ws = new_workspace(police, "hmcpsi", publication=PUBLICATION)
    _, file_id = evidence_file(police, ws, visibility="inspectorate")
    url = f"/api/v1/workspaces/{ws}/close"
    assert "Publish the report" in _problem(police.call("POST", url, {}), 409)["detail"]
    _problem(founders.hmcpsi.call("POST", url, {}), 403)
    set_context(session, tenant_id=police.tenant.id)
    session.get(Workspace, ws).published_at = utcnow()  # type: ignore[union-attr]
    session.commit()
    # §48: the retention agreement must stand before the inspection closes.
    unagreed = _problem(police.call("POST", url, {}), 409)["detail"]
    assert "retention agreement" in unagreed and "every inspectorate" in unagreed
    agree_retention(ws, police, founders.hmcpsi)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    _problem(police.call("POST", url, {"closed_on": tomorrow}), 422, "closed_on")
    _problem(police.call("POST", url, {"closed_on": "soon"}), 422, "closed_on")
    closed = police.client.post(url, headers=police.headers)  # no body: closed today
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["closed_on"] == date.today().isoformat()
    assert closed.get_json()["schedules_moved"] >= 1
    claim = claim_of(session, police, "evidence_file", file_id)
    assert claim.disposal_on == date.today() and claim.action == "transfer"
    assert sweep(app, police).tasks == 1
    (task,) = police.call("GET", "/api/v1/retention/reviews").get_json()
    done = police.call(
        "POST",
        f"/api/v1/retention/schedules/{task['id']}/review",
        {"outcome": "transferred", "reason": "On the records system as RS/2027/14"},
    )
    assert done.status_code == 200 and done.get_json()["state"] == "transferred"


def test_the_agreement_is_confirmed_at_stage_8_on_the_rules_then_in_force(
    founders: Founders, session: Session, app: Flask
) -> None:
    """Agreed in advance (proposed by the product as stage 1 ends), confirmed at stage 8: a
    rule changed since it was agreed voids the approvals, saying so, and the inspection cannot
    close until every inspectorate approves the agreement again."""
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    decision = agree_retention(ws, cps, prisons)
    set_context(session, tenant_id=cps.tenant.id)
    workspace = session.get(Workspace, ws)
    assert workspace is not None
    workspace.stage, workspace.published_at = 7, utcnow()
    session.commit()
    today = date.today().isoformat()
    assert cps.call("POST", RULES, RULE | {"effective_from": today}).status_code == 201

    def answer() -> dict[str, Any]:
        listed = cps.call("GET", f"/api/v1/workspaces/{ws}/decisions").get_json()
        return next(d for d in listed if d["id"] == decision)  # type: ignore[no-any-return]

    assert answer()["status"] == "agreed"  # nothing moves until stage 8 asks
    assert cps.call("POST", f"/api/v1/workspaces/{ws}/stage").get_json()["stage"] == 8
    voided = answer()
    assert voided["status"] == "open"
    assert "every inspectorate must approve again" in voided["voided_reason"]
    assert all(a["voided_at"] for a in voided["approvals"])
    refused = _problem(cps.call("POST", f"/api/v1/workspaces/{ws}/close", {}), 409)
    assert "retention agreement" in refused["detail"]
    for party in (cps, prisons):
        answered = party.call(
            "POST", f"/api/v1/workspaces/{ws}/decisions/{decision}/answer", {"approve": True}
        )
        assert answered.status_code == 200, answered.get_json()
    assert cps.call("POST", f"/api/v1/workspaces/{ws}/close", {}).status_code == 200


def test_certificates_are_the_tenants_own(founders: Founders, session: Session) -> None:
    set_context(session, tenant_id=founders.hmiprisons.tenant.id)
    theirs = Certificate(tenant_id=founders.hmiprisons.tenant.id, state="complete")
    session.add(theirs)
    session.commit()
    _problem(founders.hmcpsi.call("GET", f"/api/v1/retention/certificates/{theirs.id}"), 404)
    assert clock.today() == date.today()


def test_a_rejected_agreement_is_proposed_again_as_a_new_round(
    founders: Founders, session: Session
) -> None:
    """The rules behind it are the inspectorates' own: after a rejection the lead proposes a
    new round carrying the reason, and once every inspectorate approves it the inspection
    can close (no dead end)."""
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    name_everyone(ws, cps, prisons)
    url = f"/api/v1/workspaces/{ws}/retention/agreement"
    first = cps.call("POST", url).get_json()
    answer = f"/api/v1/workspaces/{ws}/decisions/{first['decision_id']}/answer"
    rejected = prisons.call(
        "POST", answer, {"approve": False, "reason": "Say who keeps the shared case sample"}
    )
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    again = cps.call("POST", url)
    assert again.status_code == 201, again.get_json()
    second = again.get_json()
    assert second["decision_id"] != first["decision_id"] and second["status"] == "open"
    assert second["content"]["round"] == 2
    assert second["content"]["previous_rejection"] == "Say who keeps the shared case sample"
    # Refreshing on the same rules keeps the round (and any approvals).
    assert cps.call("POST", url).get_json()["content"]["round"] == 2
    for party in (cps, prisons):
        answered = party.call(
            "POST",
            f"/api/v1/workspaces/{ws}/decisions/{second['decision_id']}/answer",
            {"approve": True},
        )
        assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["status"] == "agreed"
