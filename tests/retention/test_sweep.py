"""The founding inspectorates' rules against a moving clock: nothing is destroyed a second
early, everything due goes at the next sweep, held items survive, joint material goes only
when no inspectorate must keep it, and a crashed sweep finishes exactly once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import AuditEvent
from app.db import set_context, utcnow
from app.storage import Storage
from retention import actions, holds, service
from retention.models import Certificate, RetentionRule, Schedule, State
from retention.rules import RetentionError, RuleError
from shared_workspace.evidence.models import EvidenceFile, FileState
from shared_workspace.models import PrivateNote, Workspace
from tests.retention.conftest import (
    KEYS,
    Founders,
    act_as,
    agree_retention,
    claims,
    evidence_file,
    new_workspace,
    note,
    sweep,
)

#: Soon enough that API tokens made today are still valid when the clock gets there.
PUBLICATION = date.today() + timedelta(days=40)
SECOND = 1


def _key(session: Session, file_id: int) -> str:
    return KEYS[file_id]


def _file_state(session: Session, file_id: int) -> str:
    session.expire_all()
    owner = int(KEYS[file_id].split("/")[1])
    set_context(session, tenant_id=owner)
    file = session.get(EvidenceFile, file_id)
    assert file is not None
    return file.state


def _hold(session: Session, party, material_type: str, material_id: int) -> None:  # type: ignore[no-untyped-def]
    act_as(session, party)
    holds.place_hold(
        session,
        session.merge(party.user),
        scope="item",
        reason_kind="foi",
        reason="FOI request 2027/88 covers this material",
        review_on=date.today() + timedelta(days=20 * 365),
        material_type=material_type,
        material_id=material_id,
    )
    session.commit()


def test_each_founding_tenant_has_the_rules_domain_md_gives_it(
    founders: Founders, session: Session
) -> None:
    found = {}
    for slug in ("hmcpsi", "hmicfrs", "hmiprobation", "hmiprisons"):
        party = founders[slug]
        act_as(session, party)
        found[slug] = {
            (r.material_class, r.sensitivity, r.trigger, r.offset_amount, r.offset_unit, r.action)
            for r in session.scalars(select(RetentionRule))
        }
    assert ("all", "any", "publication", -1, "days", "destroy") in found["hmcpsi"]
    assert ("data", "any", "publication", 0, "days", "retain") in found["hmcpsi"]
    assert ("published_report", "any", "publication", 0, "days", "retain") in found["hmcpsi"]
    assert ("notebooks", "any", "event", 0, "days", "destroy") in found["hmicfrs"]
    assert ("all", "any", "closure", 0, "days", "transfer") in found["hmicfrs"]
    assert ("all", "sensitive", "publication", 3, "months", "destroy") in found["hmiprobation"]
    assert ("all", "standard", "publication", 10, "years", "destroy") in found["hmiprobation"]
    assert ("all", "any", "publication", 3, "years", "review") in found["hmiprisons"]
    assert ("paper_copies", "any", "publication", 1, "months", "destroy") in found["hmiprisons"]


def test_hmcpsi_destroys_all_but_data_the_day_before_publication_not_a_second_early(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, notes_file = evidence_file(
        cps, ws, b"% interview", method="interview", visibility="inspectorate"
    )
    _, data_file = evidence_file(cps, ws, b"% data", method="data", visibility="inspectorate")
    _, held_file = evidence_file(cps, ws, b"% complaint", visibility="inspectorate")
    private_note = note(cps, ws)
    act_as(session, cps)
    holds.place_hold(
        session,
        session.merge(cps.user),
        scope="item",
        reason_kind="complaint",
        reason="Complaint 2027/14 about the inspection",
        review_on=date.today() + timedelta(days=400),
        material_type="evidence_file",
        material_id=held_file,
    )
    session.commit()
    (claim,) = claims(session, cps, "evidence_file", notes_file)
    assert claim.disposal_on == PUBLICATION - timedelta(days=1)
    assert claim.action == "destroy"

    travel(PUBLICATION - timedelta(days=1), -SECOND)
    assert sweep(app, cps).ended == 0
    assert store.exists(_key(session, notes_file))

    travel(PUBLICATION - timedelta(days=1))
    result = sweep(app, cps)
    assert result.ended == 2
    assert not store.exists(_key(session, notes_file))
    assert _file_state(session, notes_file) == FileState.DESTROYED
    act_as(session, cps)
    destroyed_note = session.get(PrivateNote, private_note)
    assert destroyed_note is not None and destroyed_note.body == "" and destroyed_note.destroyed_at
    assert store.exists(_key(session, data_file))  # data is kept
    assert claims(session, cps, "evidence_file", data_file)[0].state == State.RETAINED
    assert store.exists(_key(session, held_file))  # held items survive
    assert _file_state(session, held_file) == FileState.CLEAN

    travel(PUBLICATION + timedelta(days=400))
    assert sweep(app, cps).ended == 0  # nothing is destroyed twice
    act_as(session, cps)
    certificates = session.scalars(select(Certificate)).all()
    assert [c.items for c in certificates] == [2]
    assert certificates[0].state == "complete" and len(certificates[0].digest) == 64


def test_hmicfrs_destroys_notebooks_once_notes_are_transcribed_and_transfers_the_rest(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    police = founders.hmicfrs
    ws = new_workspace(police, "hmcpsi", publication=PUBLICATION)
    agree_retention(ws, police, founders.hmcpsi)
    notebook = note(police, ws, "Notebook: fieldwork day 2")
    held = note(police, ws, "Notebook: complaint interview")
    _hold(session, police, "private_note", held)
    _, document_file = evidence_file(police, ws, visibility="inspectorate")
    (claim,) = claims(session, police, "private_note", notebook)
    assert claim.state == State.WAITING

    travel(PUBLICATION + relativedelta(years=20))
    assert sweep(app, police).ended == 0  # never without the confirmed event
    # Not a second before the event is confirmed, even on the day it happens.
    travel(PUBLICATION + timedelta(days=30), 3600 - SECOND)
    assert sweep(app, police).ended == 0

    travel(PUBLICATION + timedelta(days=30), 3600)
    act_as(session, police)
    workspace = session.get(Workspace, ws)
    actions.confirm_event(
        session,
        session.merge(police.user),
        workspace,
        "notes_transcribed",
        PUBLICATION + timedelta(days=30),
    )
    session.commit()
    assert sweep(app, police).ended == 1
    assert claims(session, police, "private_note", notebook)[0].state == State.DESTROYED
    # The held notebook survives the event and every later sweep.
    travel(PUBLICATION + relativedelta(years=5))
    assert sweep(app, police).ended == 0
    assert claims(session, police, "private_note", held)[0].state == State.SCHEDULED
    act_as(session, police)
    session.expire_all()
    kept = session.get(PrivateNote, held)
    assert kept is not None and kept.body and kept.destroyed_at is None

    # Documents go to the records system at closure: a task, never a destruction.
    act_as(session, police)
    workspace = session.get(Workspace, ws)
    workspace.published_at = workspace.published_at or utcnow()
    actions.close_workspace(
        session, session.merge(police.user), workspace, PUBLICATION + timedelta(days=30)
    )
    session.commit()
    result = sweep(app, police)
    assert result.tasks == 1 and result.ended == 0
    assert claims(session, police, "evidence_file", document_file)[0].state == State.TRANSFER
    assert store.exists(_key(session, document_file))


def test_hmi_probation_keeps_three_months_or_ten_years_by_sensitivity(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    probation = founders.hmiprobation
    ws = new_workspace(probation, "hmiprisons", publication=PUBLICATION)
    _, sensitive = evidence_file(
        probation,
        ws,
        b"% sensitive",
        visibility="inspectorate",
        protective_marking="OFFICIAL-SENSITIVE",
    )
    _, standard = evidence_file(probation, ws, b"% standard", visibility="inspectorate")
    _, held = evidence_file(
        probation,
        ws,
        b"% held",
        visibility="inspectorate",
        protective_marking="OFFICIAL-SENSITIVE",
    )
    _hold(session, probation, "evidence_file", held)

    three_months = PUBLICATION + relativedelta(months=3)
    travel(three_months, -SECOND)
    assert sweep(app, probation).ended == 0
    travel(three_months)
    assert sweep(app, probation).ended == 1
    assert not store.exists(_key(session, sensitive))
    assert store.exists(_key(session, standard))

    ten_years = PUBLICATION + relativedelta(years=10)
    travel(ten_years, -SECOND)
    assert sweep(app, probation).ended == 0
    travel(ten_years)
    assert sweep(app, probation).ended == 1
    assert not store.exists(_key(session, standard))
    assert store.exists(_key(session, held))  # held through both dates
    assert _file_state(session, held) == FileState.CLEAN


def test_hmi_prisons_reviews_evidence_after_three_years_and_destroys_paper_soon(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    prisons = founders.hmiprisons
    ws = new_workspace(prisons, "hmiprobation", publication=PUBLICATION)
    _, paper = evidence_file(
        prisons, ws, b"% paper", visibility="inspectorate", retention_class="paper"
    )
    _, electronic = evidence_file(prisons, ws, b"% electronic", visibility="inspectorate")
    _, held_paper = evidence_file(
        prisons, ws, b"% held paper", visibility="inspectorate", retention_class="paper"
    )
    _, held_electronic = evidence_file(prisons, ws, b"% held", visibility="inspectorate")
    _hold(session, prisons, "evidence_file", held_paper)
    _hold(session, prisons, "evidence_file", held_electronic)

    month = PUBLICATION + relativedelta(months=1)
    travel(month, -SECOND)
    assert sweep(app, prisons).ended == 0
    travel(month)
    assert sweep(app, prisons).ended == 1
    assert not store.exists(_key(session, paper))
    assert store.exists(_key(session, held_paper))

    review_day = PUBLICATION + relativedelta(years=3)
    travel(review_day, -SECOND)
    assert sweep(app, prisons).tasks == 0
    travel(review_day)
    result = sweep(app, prisons)
    assert result.tasks == 2 and result.ended == 0  # reviewed, not destroyed
    (claim,) = claims(session, prisons, "evidence_file", electronic)
    assert claim.state == State.REVIEW
    # A held item's review cannot approve its destruction.
    (held_claim,) = claims(session, prisons, "evidence_file", held_electronic)
    assert held_claim.state == State.REVIEW
    with pytest.raises(RetentionError, match="release the hold"):
        actions.review(
            session, session.merge(prisons.user), held_claim, outcome="destroy", reason="Done"
        )
    session.rollback()
    (claim,) = claims(session, prisons, "evidence_file", electronic)

    later = review_day + relativedelta(years=2)
    actions.review(
        session,
        session.merge(prisons.user),
        claim,
        outcome="extend",
        reason="Follow-up thematic planned",
        new_date=later,
    )
    session.commit()
    assert sweep(app, prisons).ended == 0
    travel(later)
    sweep(app, prisons)
    (claim,) = claims(session, prisons, "evidence_file", electronic)
    assert claim.state == State.REVIEW
    actions.review(
        session, session.merge(prisons.user), claim, outcome="destroy", reason="No follow-up now"
    )
    session.commit()
    assert sweep(app, prisons).ended == 1
    assert not store.exists(_key(session, electronic))
    assert store.exists(_key(session, held_electronic))
    assert store.exists(_key(session, held_paper))


def test_joint_evidence_is_destroyed_only_when_no_owner_must_keep_it(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, shared = evidence_file(cps, ws, b"% shared")
    cps_claim, prisons_claim = claims(session, cps, "evidence_file", shared)
    assert (cps_claim.tenant_id, prisons_claim.tenant_id) == (cps.tenant.id, prisons.tenant.id)
    assert cps_claim.action == "destroy" and prisons_claim.action == "review"

    travel(PUBLICATION - timedelta(days=1))
    assert sweep(app, cps).ended == 1
    assert store.exists(_key(session, shared))  # HMI Prisons still keeps it
    rows = claims(session, cps, "evidence_file", shared)
    assert [r.state for r in rows] == [State.RELEASED, State.SCHEDULED]
    assert "kept while another inspectorate must keep it" in service.explain(
        session, rows[0], service.tenant_names(session)
    )
    assert "not before" in service.object_fate(rows)

    travel(PUBLICATION + relativedelta(years=3))
    sweep(app, prisons)
    (_, claim) = claims(session, prisons, "evidence_file", shared)
    actions.review(session, session.merge(prisons.user), claim, outcome="destroy", reason="Done")
    session.commit()
    assert sweep(app, prisons).objects_deleted == 1
    assert not store.exists(_key(session, shared))
    assert [r.state for r in claims(session, cps, "evidence_file", shared)] == [
        State.RELEASED,
        State.DESTROYED,
    ]


def test_a_publication_date_moved_after_destruction_never_resurrects(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, gone = evidence_file(cps, ws, visibility="inspectorate")
    travel(PUBLICATION - timedelta(days=1))
    sweep(app, cps)
    later = PUBLICATION + timedelta(days=60)
    response = cps.call(
        "PUT", f"/api/v1/workspaces/{ws}/publication-date", {"publication_date": later.isoformat()}
    )
    assert response.status_code == 200, response.get_json()
    assert any("cannot be undone" in w for w in response.get_json()["warnings"])
    (claim,) = claims(session, cps, "evidence_file", gone)
    assert claim.state == State.DESTROYED
    assert claim.disposal_on == PUBLICATION - timedelta(days=1)
    assert not store.exists(_key(session, gone))


def test_a_publication_date_moved_into_the_past_after_destruction_explains_and_keeps_it(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, gone = evidence_file(cps, ws, visibility="inspectorate")
    _, data = evidence_file(cps, ws, b"% data", method="data", visibility="inspectorate")
    travel(PUBLICATION - timedelta(days=1))
    assert sweep(app, cps).ended == 1
    earlier = PUBLICATION - timedelta(days=20)
    response = cps.call(
        "PUT",
        f"/api/v1/workspaces/{ws}/publication-date",
        {"publication_date": earlier.isoformat()},
    )
    assert response.status_code == 422
    assert "today or later" in response.get_json()["detail"]
    # Brought forward to today (earlier than the date the destruction followed): allowed,
    # with the reason the destroyed material stays destroyed.
    today = PUBLICATION - timedelta(days=1)
    response = cps.call(
        "PUT", f"/api/v1/workspaces/{ws}/publication-date", {"publication_date": today.isoformat()}
    )
    assert response.status_code == 200, response.get_json()
    assert any("cannot be undone" in w for w in response.get_json()["warnings"])
    (claim,) = claims(session, cps, "evidence_file", gone)
    assert claim.state == State.DESTROYED
    assert claim.disposal_on == PUBLICATION - timedelta(days=1)
    assert _file_state(session, gone) == FileState.DESTROYED
    assert not store.exists(_key(session, gone))
    assert store.exists(_key(session, data))
    assert sweep(app, cps).ended == 0


def test_moving_the_publication_date_moves_every_participants_schedules_at_once(
    founders: Founders, session: Session, app: Flask, store: Storage
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, shared = evidence_file(cps, ws)
    prisons_note = note(prisons, ws)  # private to HMI Prisons: the lead cannot see it
    later = PUBLICATION + timedelta(days=14)
    response = cps.call(
        "PUT", f"/api/v1/workspaces/{ws}/publication-date", {"publication_date": later.isoformat()}
    )
    assert response.status_code == 200, response.get_json()
    rows = claims(session, cps, "evidence_file", shared)
    assert [r.disposal_on for r in rows] == [
        later - timedelta(days=1),
        later + relativedelta(years=3),
    ]
    (private,) = claims(session, prisons, "private_note", prisons_note)
    assert private.disposal_on == later + relativedelta(years=3)
    assert claims(session, cps, "private_note", prisons_note) == []  # still private


@pytest.mark.s3
def test_a_sweep_killed_between_storage_and_database_finishes_exactly_once(
    founders: Founders, session: Session, app: Flask, s3_storage: Storage, travel
) -> None:
    saved = app.extensions.get("storage")
    app.extensions["storage"] = s3_storage
    try:
        cps = founders.hmcpsi
        ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
        files = [
            evidence_file(cps, ws, f"% {n}".encode(), visibility="inspectorate")[1]
            for n in range(3)
        ]
        keys = [_key(session, f) for f in files]
        assert all(s3_storage.exists(k) for k in keys)
        travel(PUBLICATION - timedelta(days=1))

        class Killed(BaseException):
            pass

        def kill(_certificate: Certificate) -> None:
            raise Killed

        with pytest.raises(Killed):
            sweep(app, cps, after_delete=kill)
        assert not any(s3_storage.exists(k) for k in keys)  # storage went first
        assert {c.state for f in files for c in claims(session, cps, "evidence_file", f)} == {
            State.DESTROYING
        }

        result = sweep(app, cps)
        again = sweep(app, cps)

        assert again.ended == 0 and again.certificates == []
        act_as(session, cps)
        certificates = session.scalars(select(Certificate)).all()
        assert len(certificates) == 1 and certificates[0].state == "complete"
        assert certificates[0].items == 3 and result.certificates == [certificates[0].id]
        for file_id in files:
            (claim,) = claims(session, cps, "evidence_file", file_id)
            assert claim.state == State.DESTROYED and claim.certificate_id == certificates[0].id
            assert _file_state(session, file_id) == FileState.DESTROYED
        listed = {o.key for o in s3_storage.list("evidence/")}
        assert not listed & set(keys)  # no orphaned object
        actions = [
            e.action
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("retention.destruction.%"))
                .order_by(AuditEvent.seq)
            )
        ]
        assert actions == ["retention.destruction.started", "retention.destruction.completed"]
    finally:
        app.extensions["storage"] = saved


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"material_class": "gossip"}, "material_class", "Choose a class"),
        ({"offset_amount": 101, "offset_unit": "years"}, "offset_amount", "between -100 and 100"),
        ({"offset_amount": "3"}, "offset_amount", "whole number"),
        ({"offset_amount": True}, "offset_amount", "whole number"),
        ({"trigger": "event", "event_name": ""}, "event_name", "which confirmed event"),
        ({"action": "shred"}, "action", "Choose an action"),
        ({"effective_from": "2027-01-01"}, "effective_from", "from which date"),
    ],
)
def test_bad_rules_are_refused_with_the_field_and_how_to_fix(
    founders: Founders, session: Session, fields: dict, field: str, message: str
) -> None:
    act_as(session, founders.hmcpsi)
    base = {
        "material_class": "working_drafts",
        "sensitivity": "any",
        "trigger": "publication",
        "offset_amount": 1,
        "offset_unit": "days",
        "action": "destroy",
        "effective_from": date(2027, 1, 1),
    }
    with pytest.raises(RuleError, match=message) as raised:
        actions.add_rule(session, session.merge(founders.hmcpsi.user), base | fields)
    assert raised.value.field == field


def test_two_rules_for_the_same_class_from_the_same_day_contradict(
    founders: Founders, session: Session
) -> None:
    act_as(session, founders.hmcpsi)
    user = session.merge(founders.hmcpsi.user)
    rule = {
        "material_class": "working_drafts",
        "sensitivity": "any",
        "trigger": "publication",
        "offset_amount": 1,
        "offset_unit": "days",
        "action": "destroy",
        "effective_from": date(2027, 1, 1),
    }
    actions.add_rule(session, user, rule)
    with pytest.raises(RuleError, match="already applies"):
        actions.add_rule(session, user, rule | {"trigger": "upload", "action": "review"})


def test_a_hold_needs_a_reason_and_a_review_date(founders: Founders, session: Session) -> None:
    act_as(session, founders.hmcpsi)
    user = session.merge(founders.hmcpsi.user)
    with pytest.raises(RetentionError, match="Say why"):
        holds.place_hold(
            session,
            user,
            scope="tenant",
            reason_kind="legal",
            reason="  ",
            review_on=date(2030, 1, 1),
        )
    with pytest.raises(RetentionError, match="review the hold"):
        holds.place_hold(
            session, user, scope="tenant", reason_kind="legal", reason="Case 1", review_on=None
        )


def test_a_workspace_hold_keeps_everything_of_that_inspectorate_in_it(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, file_id = evidence_file(cps, ws, visibility="inspectorate")
    act_as(session, cps)
    hold = holds.place_hold(
        session,
        session.merge(cps.user),
        scope="workspace",
        workspace_id=ws,
        reason_kind="foi",
        reason="FOI 2027/0099",
        review_on=date.today() + timedelta(days=30),
    )
    session.commit()
    travel(PUBLICATION)
    assert sweep(app, cps).ended == 0
    assert store.exists(_key(session, file_id))
    act_as(session, cps)
    holds.release_hold(session, session.merge(cps.user), session.merge(hold), "Request answered")
    session.commit()
    assert sweep(app, cps).ended == 1
    assert not store.exists(_key(session, file_id))


def test_only_records_managers_manage_retention(founders: Founders, session: Session) -> None:
    from tenants.models import Role
    from tests.tenants.fixtures import create_user

    inspector = create_user(
        session, founders.hmcpsi.tenant, roles=[Role.INSPECTOR], name="An inspector"
    )
    act_as(session, founders.hmcpsi)
    with pytest.raises(PermissionError):
        holds.place_hold(
            session,
            inspector,
            scope="tenant",
            reason_kind="legal",
            reason="x",
            review_on=date(2030, 1, 1),
        )


def test_schedules_are_stored_for_documents_and_notes_when_they_are_made(
    founders: Founders, session: Session
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    made = cps.call(
        "POST",
        f"/api/v1/workspaces/{ws}/documents",
        {
            "kind": "methodology",
            "title": "Methodology",
            "sections": [{"title": "Scope", "body": "<p>x</p>"}],
        },
    )
    assert made.status_code == 201, made.get_json()
    rows = claims(session, cps, "document", made.get_json()["id"])
    assert len(rows) == 2 and all(r.joint for r in rows)
    assert {r.disposal_on for r in rows} == {
        PUBLICATION - timedelta(days=1),
        PUBLICATION + relativedelta(years=3),
    }
    session.execute(select(Schedule))  # the session still works after the API calls
