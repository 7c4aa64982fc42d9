"""Schedules beyond the sweep: rule versions by date, the retention agreement, warnings ahead
of destruction, the dry-run preview and the hourly job."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.jobs import PERIODIC_JOBS
from retention import actions, service
from retention.models import State
from retention.sweep import SWEEP_INTERVAL_SECONDS, retention_sweep
from shared_workspace.models import Notification, Workspace
from tests.retention.conftest import (
    Founders,
    act_as,
    claims,
    evidence_file,
    new_workspace,
    note,
    sweep,
)
from tests.shared_workspace.fixtures import name_everyone

PUBLICATION = date.today() + timedelta(days=40)


def test_the_sweep_runs_hourly_in_both_job_modes() -> None:
    jobs = {job.name: job.interval_seconds for job in PERIODIC_JOBS}
    assert jobs[f"{retention_sweep.__module__}.{retention_sweep.__name__}"] == 3600
    assert SWEEP_INTERVAL_SECONDS == 3600


def test_a_new_rule_version_applies_to_material_from_its_date_only(
    founders: Founders, session: Session, travel
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    before = note(cps, ws, "Before the change")
    travel(date.today() + timedelta(days=10))
    act_as(session, cps)
    actions.add_rule(
        session,
        session.merge(cps.user),
        {
            "material_class": "notebooks",
            "sensitivity": "any",
            "trigger": "publication",
            "offset_amount": 6,
            "offset_unit": "months",
            "action": "review",
            "effective_from": date.today() + timedelta(days=10),
            "note": "Notebooks reviewed six months after publication from now on",
        },
    )
    session.commit()
    after = note(cps, ws, "After the change")
    (old,) = claims(session, cps, "private_note", before)
    (new,) = claims(session, cps, "private_note", after)
    assert (old.action, old.disposal_on) == ("destroy", PUBLICATION - timedelta(days=1))
    assert new.action == "review" and new.disposal_on.month != old.disposal_on.month
    assert "six months" in service.explain(session, new, service.tenant_names(session))


def test_the_retention_agreement_pins_the_rules_joint_material_follows(
    founders: Founders, session: Session
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    name_everyone(ws, cps, prisons)
    act_as(session, cps)
    workspace = session.get(Workspace, ws)
    decision = actions.propose_agreement(session, workspace, session.merge(cps.user))
    session.commit()
    content = decision.subject.content
    assert [c["tenant"] for c in content["tenants"]] == [cps.tenant.name, prisons.tenant.name]
    assert any(
        "1 day before the publication date" in r["rule"] for r in content["tenants"][0]["rules"]
    )
    for party in (cps, prisons):
        response = party.call(
            "POST",
            f"/api/v1/workspaces/{ws}/decisions/{decision.id}/answer",
            {"approve": True},
        )
        assert response.status_code == 200, response.get_json()
    # A rule HMCPSI adds afterwards does not change what was agreed for joint material.
    act_as(session, cps)
    actions.add_rule(
        session,
        session.merge(cps.user),
        {
            "material_class": "working_drafts",
            "sensitivity": "any",
            "trigger": "publication",
            "offset_amount": 1,
            "offset_unit": "years",
            "action": "destroy",
            "effective_from": date(2001, 1, 1),
        },
    )
    session.commit()
    made = cps.call(
        "POST",
        f"/api/v1/workspaces/{ws}/documents",
        {
            "kind": "methodology",
            "title": "Methodology",
            "sections": [{"title": "A", "body": "<p>x</p>"}],
        },
    )
    assert made.status_code == 201, made.get_json()
    cps_claim = claims(session, cps, "document", made.get_json()["id"])[0]
    assert cps_claim.disposal_on == PUBLICATION - timedelta(days=1)  # the agreed rule


def test_records_managers_and_leads_are_warned_before_destruction(
    founders: Founders, session: Session, app: Flask, travel
) -> None:
    """HMCPSI destroys the day before publication: its people hear 28 days ahead, and so does
    every partner's lead inspector (the report is not out yet)."""
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    name_everyone(ws, cps, prisons)
    note(cps, ws)
    due = PUBLICATION - timedelta(days=1)
    travel(due - timedelta(days=29))
    assert sweep(app, cps).warnings == 0
    travel(due - timedelta(days=28))
    assert sweep(app, cps).warnings == 2  # HMCPSI's records manager and lead, HMI Prisons' lead
    assert sweep(app, cps).warnings == 0  # once, however often the sweep runs
    for party in (cps, prisons):
        act_as(session, party)
        (text,) = session.scalars(
            select(Notification.text).where(Notification.key.like("retention:%"))
        )
        assert "due to be destroyed" in text and "Place a hold" in text
        assert "before the report is published" in text


def test_after_publication_only_the_owners_people_hear_at_their_own_notice(
    founders: Founders, session: Session, app: Flask, travel
) -> None:
    """HMI Prisons destroys paper a month after publication: its people hear 14 days ahead
    by default, or what its records managers set; partners' leads are not told."""
    prisons, cps = founders.hmiprisons, founders.hmcpsi
    ws = new_workspace(prisons, "hmcpsi", publication=PUBLICATION)
    name_everyone(ws, prisons, cps)
    evidence_file(prisons, ws, visibility="inspectorate", retention_class="paper")
    set_days = prisons.call("PUT", "/api/v1/retention/settings", {"warning_days": 40})
    assert set_days.status_code == 200 and set_days.get_json() == {"warning_days": 40}
    assert prisons.call("GET", "/api/v1/retention/settings").get_json() == {"warning_days": 40}
    due = PUBLICATION + relativedelta(months=1)
    travel(due - timedelta(days=41))
    assert sweep(app, prisons).warnings == 0
    travel(due - timedelta(days=40))
    assert sweep(app, prisons).warnings == 1
    act_as(session, cps)
    assert not session.scalars(
        select(Notification.text).where(Notification.key.like("retention:%"))
    ).all()


@pytest.mark.parametrize(
    "body",
    [
        {"warning_days": 0},
        {"warning_days": 366},
        {"warning_days": 10**12},
        {"warning_days": "14"},
        {"warning_days": 14.5},
        {"warning_days": True},
        {"warning_days": None},
        {},
        {"warning_days": 14, "tenant_id": 1},
    ],
)
def test_bad_warning_settings_are_refused(founders: Founders, body: dict) -> None:  # type: ignore[type-arg]
    response = founders.hmcpsi.call("PUT", "/api/v1/retention/settings", body)
    assert response.status_code == 422, response.get_json()
    assert founders.hmcpsi.call("GET", "/api/v1/retention/settings").get_json() == {
        "warning_days": 28
    }


def test_only_records_managers_change_the_warning_settings(
    founders: Founders, session: Session, app: Flask
) -> None:
    from tenants.models import Role
    from tests.retention.conftest import browser, colleague

    inspector = colleague(session, founders.hmcpsi, Role.LEAD_INSPECTOR)
    refused = inspector.call("PUT", "/api/v1/retention/settings", {"warning_days": 3})
    assert refused.status_code == 403
    page = browser(app, founders.hmcpsi)
    bad = page.post("/retention/settings", data={"warning_days": "soon"})
    assert bad.status_code == 422
    assert 'href="#warning_days"' in bad.get_data(as_text=True)
    assert page.post("/retention/settings", data={"warning_days": "21"}).status_code == 302
    assert 'value="21"' in page.get("/retention").get_data(as_text=True)
    assert browser(app, inspector).post("/retention/settings", data={}).status_code == 403


def test_the_preview_lists_what_will_go_and_what_holds_keep(
    founders: Founders, session: Session
) -> None:
    from retention import holds

    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    kept = note(cps, ws, "Kept by a hold")
    going = note(cps, ws, "Going")
    act_as(session, cps)
    holds.place_hold(
        session,
        session.merge(cps.user),
        scope="item",
        material_type="private_note",
        material_id=kept,
        reason_kind="legal",
        reason="Judicial review pending",
        review_on=date.today() + timedelta(days=90),
    )
    assert service.preview(session, cps.tenant.id, 30)["due"] == []
    found = service.preview(session, cps.tenant.id, 40)
    assert [s.material_id for s in found["due"]] == [going]
    assert [s.material_id for s in found["held"]] == [kept]
    assert {s.state for s in claims(session, cps, "private_note", going)} == {State.SCHEDULED}


def test_the_cli_previews_and_sweeps(founders: Founders, app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["retention", "preview", "--tenant", "hmcpsi", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert "0 item(s) due in the next 10 day(s)" in result.output
    assert runner.invoke(args=["retention", "preview", "--tenant", "nobody"]).exit_code != 0
    assert (
        runner.invoke(args=["retention", "preview", "--tenant", "hmcpsi", "--days", "-1"]).exit_code
        != 0
    )
