"""Letters (six weeks, every authority, sent through the mail backend), the media strategy
(every chief inspector quoted), working-day deadlines, the publication schedule (embargo
offsets per tenant policy, three-day press notice) and the recommendations tracker."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.clock import clock
from app.mail import OutboxMailer
from app.workdays import add_working_days
from shared_workspace.publication import schedule
from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone


@pytest.fixture
def trio(client: FlaskClient, session: Session) -> list[Inspectorate]:
    return [
        inspectorate(session, client, "hmiprobation", embargoed_copy=True),
        inspectorate(session, client, "hmiprisons", embargoed_copy=True),
        inspectorate(session, client, "hmicfrs", embargoed_copy=False),
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


def _site(lead: Inspectorate, ws: int, starts: date) -> int:
    return lead.call(
        "POST",
        f"/api/v1/workspaces/{ws}/sites",
        {"name": "HMP Manchester", "body_type": "prison", "fieldwork_starts_on": str(starts)},
    ).get_json()["id"]


def _letter(lead: Inspectorate, ws: int, site: int | None, **extra) -> dict:  # type: ignore[no-untyped-def, type-arg]
    body = {
        "addressee_name": "Ann Bell",
        "addressee_role": "Governor",
        "addressee_email": "ann.bell@justice.gov.uk",
        "title": "Joint inspection of resettlement",
        "body": "<p>We will inspect resettlement at your prison.</p>",
        "site_id": site,
    }
    body.update(extra)
    response = lead.call("POST", f"/api/v1/workspaces/{ws}/letters", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _authorise(parties: list[Inspectorate], ws: int, letter: int) -> None:
    parties[0].call("POST", f"/api/v1/workspaces/{ws}/letters/{letter}/authority")
    decisions = parties[0].call("GET", f"/api/v1/workspaces/{ws}/decisions").get_json()
    decision = next(d for d in decisions if d["kind"] == "commissioning_letters")
    for party in parties:
        response = party.call(
            "POST",
            f"/api/v1/workspaces/{ws}/decisions/{decision['id']}/answer",
            {"approve": True},
        )
        assert response.status_code == 200, response.get_json()


def _outbox(app: Flask) -> OutboxMailer:
    return OutboxMailer(app.extensions["config"].instance_path / "outbox")


def test_a_letter_goes_only_when_every_inspectorate_authorised_it(app, trio, workspace) -> None:
    lead = trio[0]
    site = _site(lead, workspace, clock.today() + timedelta(days=60))
    letter = _letter(lead, workspace, site)
    send = f"/api/v1/workspaces/{workspace}/letters/{letter['id']}/send"
    before = len(_outbox(app).messages())
    refused = lead.call("POST", send)
    assert refused.status_code == 409
    assert "nobody has been asked to authorise it" in refused.get_json()["detail"]
    _authorise(trio[:2], workspace, letter["id"])
    refused = lead.call("POST", send)
    assert refused.status_code == 409
    assert "HMICFRS" in refused.get_json()["detail"].upper()
    assert len(_outbox(app).messages()) == before  # nothing sent
    _authorise(trio[2:], workspace, letter["id"])
    sent = lead.call("POST", send)
    assert sent.status_code == 202, sent.get_json()
    register = lead.call("GET", f"/api/v1/workspaces/{workspace}/letters").get_json()
    assert register[0]["status"] == "sent" and register[0]["sent_at"]
    messages = _outbox(app).messages()
    assert len(messages) == before + 1
    assert b"ann.bell@justice.gov.uk" in messages[-1].read_bytes()
    again = lead.call("POST", send)
    assert again.status_code == 409 and "already sent" in again.get_json()["detail"]


def test_the_six_week_rule_counts_from_the_send_date(app, trio, workspace) -> None:
    lead = trio[0]
    site = _site(lead, workspace, clock.today() + timedelta(days=41))
    letter = _letter(lead, workspace, site)
    _authorise(trio, workspace, letter["id"])
    refused = lead.call("POST", f"/api/v1/workspaces/{workspace}/letters/{letter['id']}/send")
    assert refused.status_code == 409
    assert "six weeks before (§16)" in refused.get_json()["detail"]
    clock.advance(timedelta(days=-1))  # a day earlier the letter would have been in time
    try:
        sent = lead.call("POST", f"/api/v1/workspaces/{workspace}/letters/{letter['id']}/send")
        assert sent.status_code == 202, sent.get_json()
    finally:
        clock.reset()


def test_an_addressee_without_email_is_not_sent_to(trio, workspace) -> None:
    lead = trio[0]
    letter = _letter(lead, workspace, None, addressee_email="")
    _authorise(trio, workspace, letter["id"])
    refused = lead.call("POST", f"/api/v1/workspaces/{workspace}/letters/{letter['id']}/send")
    assert refused.status_code == 409 and "no email address" in refused.get_json()["detail"]
    bad = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/letters",
        {"addressee_name": "X", "addressee_email": "not-an-email"},
    )
    assert bad.status_code == 422


def test_the_letter_pdf_names_addressee_title_and_every_chief_inspector(
    app, trio, workspace
) -> None:
    from pypdf import PdfReader

    from tests.tenants.fixtures import sign_in

    letter = _letter(trio[0], workspace, None)
    browser = app.test_client()
    sign_in(browser, trio[1].user)
    response = browser.get(f"/workspaces/{workspace}/letters/{letter['id']}.pdf")
    assert response.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    text = " ".join(text.split())
    assert "Ann Bell" in text and "Joint inspection of resettlement" in text
    for party in trio:
        assert party.user.name in text  # each is named chief inspector by name_everyone
    docx = browser.get(f"/workspaces/{workspace}/letters/{letter['id']}.docx")
    import zipfile

    xml = zipfile.ZipFile(io.BytesIO(docx.data)).read("word/document.xml").decode()
    assert "Ann Bell" in xml and "Joint inspection of resettlement" in xml
    assert all(party.user.name in xml for party in trio)


def test_the_media_strategy_needs_every_chief_inspector(trio, workspace) -> None:
    lead = trio[0]
    saved = lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/media-strategy",
        {"launch": "proactive", "quoted": ["hmiprobation", "hmiprisons"]},
    ).get_json()
    assert len(saved["missing"]) == 1
    propose = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions",
        {"kind": "media_strategy", "subject_id": saved["subject_id"]},
    )
    assert propose.status_code == 422
    assert "Missing:" in propose.get_json()["detail"]
    assert trio[2].tenant.name in propose.get_json()["detail"]
    everyone = lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/media-strategy",
        {"quoted": ["hmiprobation", "hmiprisons", "hmicfrs"]},
    ).get_json()
    assert everyone["missing"] == []
    decision = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions",
        {"kind": "media_strategy", "subject_id": everyone["subject_id"]},
    )
    assert decision.status_code == 201
    refused = trio[1].call(
        "PUT", f"/api/v1/workspaces/{workspace}/media-strategy", {"launch": "soft"}
    )
    assert refused.status_code == 422  # the lead drafts it


def test_factual_accuracy_deadlines_count_working_days_over_bank_holidays(trio, workspace) -> None:
    lead = trio[0]
    document = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/documents",
        {"kind": "report", "title": "Draft", "sections": [{"title": "S", "body": "<p>x</p>"}]},
    ).get_json()
    row = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/circulations",
        {
            "document_id": document["id"],
            "recipient": "Ann Bell",
            "kind": "inspected_body",
            "sent_on": "2026-12-21",
        },
    ).get_json()
    # 10 working days from Monday 21 December 2026 skip Christmas, Boxing Day (observed on
    # Monday 28th) and New Year's Day.
    assert row["due_on"] == "2027-01-07"
    assert row["working_days"] == 10 and row["version_number"] == 1


def test_working_days_helper_skips_weekends_and_bank_holidays() -> None:
    assert add_working_days(date(2026, 12, 22), 3) == date(2026, 12, 29)
    assert add_working_days(date(2027, 1, 4), -5) == date(2026, 12, 23)
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 1)  # summer bank holiday


def _nominate(party: Inspectorate, ws: int, rows: list[dict]) -> None:  # type: ignore[type-arg]
    ids = []
    for row in rows:
        entry = party.call("POST", "/api/v1/stakeholders", row)
        assert entry.status_code == 201, entry.get_json()
        ids.append(entry.get_json()["id"])
    party.call("POST", f"/api/v1/workspaces/{ws}/stakeholders/nominations", {"entry_ids": ids})


def test_the_schedule_follows_each_tenants_embargo_policy_and_working_days(trio, workspace) -> None:
    lead, prisons, cfrs = trio
    publication = date(2027, 1, 5)  # a Tuesday after New Year
    lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/publication-date",
        {"publication_date": str(publication)},
    )
    moj = {
        "given_name": "Jane",
        "family_name": "Smith",
        "organisation": "Ministry of Justice",
        "emails": ["jane.smith@justice.gov.uk"],
        "category": "sponsoring_department",
    }
    home = {
        "given_name": "Raj",
        "family_name": "Mehta",
        "organisation": "Home Office",
        "emails": ["raj.mehta@homeoffice.gov.uk"],
        "category": "sponsoring_department",
    }
    prison = {
        "given_name": "Ann",
        "family_name": "Bell",
        "organisation": "HMP Manchester",
        "emails": ["ann.bell@justice.gov.uk"],
        "category": "inspected_body",
    }
    _nominate(lead, workspace, [moj, prison])
    _nominate(cfrs, workspace, [home])
    lead.call("POST", f"/api/v1/workspaces/{workspace}/stakeholders/list/build")
    built = lead.call("POST", f"/api/v1/workspaces/{workspace}/publication-schedule")
    assert built.status_code == 200, built.get_json()
    sends = built.get_json()["sends"]
    embargoes = [s for s in sends if s["kind"] == "embargoed_copy"]
    # HMI Probation sends embargoed copies; HMICFRS's policy is not to (DOMAIN.md).
    assert [(s["recipient_name"], s["sender"]) for s in embargoes] == [
        ("Jane Smith", "hmiprobation")
    ]
    assert embargoes[0]["send_on"] == str(add_working_days(publication, -5))
    assert embargoes[0]["send_on"] == "2026-12-24"
    press = [s for s in sends if s["kind"] == "press_notice"]
    assert [(s["recipient_name"], s["send_on"]) for s in press] == [("Ann Bell", "2026-12-30")]
    assert len([s for s in sends if s["kind"] == "publication"]) == 3
    assert not built.get_json()["warning"]
    assert (
        prisons.call("POST", f"/api/v1/workspaces/{workspace}/publication-schedule").status_code
        == 422
    )


def test_scheduled_sends_go_out_on_their_day_and_only_once(app, trio, workspace, session) -> None:
    lead = trio[0]
    lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/publication-date",
        {"publication_date": str(clock.today() + timedelta(days=30))},
    )
    _nominate(
        lead,
        workspace,
        [
            {
                "given_name": "Ann",
                "family_name": "Bell",
                "emails": ["ann@x.org"],
                "category": "other",
            }
        ],
    )
    lead.call("POST", f"/api/v1/workspaces/{workspace}/stakeholders/list/build")
    lead.call("POST", f"/api/v1/workspaces/{workspace}/publication-schedule")
    with app.app_context():
        assert schedule.send_due(session, clock.today()) == 0
        day = clock.today() + timedelta(days=30)
        assert schedule.send_due(session, day) == 2  # the report and a thank-you (engaged)
        assert schedule.send_due(session, day) == 0


def test_a_weekend_publication_date_is_warned_about(trio, workspace) -> None:
    saturday = date(2027, 1, 9)
    trio[0].call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/publication-date",
        {"publication_date": str(saturday)},
    )
    body = trio[0].call("GET", f"/api/v1/workspaces/{workspace}/publication-schedule").get_json()
    assert "not a working day (Saturday)" in body["warning"]


def test_the_tracker_records_responses_and_exports(app, trio, workspace) -> None:
    from openpyxl import load_workbook

    from tests.tenants.fixtures import sign_in

    lead = trio[0]
    vague = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/recommendations",
        {"text": "Do better", "organisation": "HMPPS"},
    )
    assert vague.status_code == 422 and "SMART" in vague.get_json()["detail"]
    rec = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/recommendations",
        {
            "text": "Start release planning twelve weeks before release",
            "organisation": "=HMPPS",
            "measure": "Share of cases with a plan at 12 weeks",
            "due_on": "2027-06-30",
        },
    ).get_json()
    assert rec["number"] == 1 and rec["kind"] == "recommendation"
    responded = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/recommendations/{rec['id']}/responses",
        {"status": "accepted", "action_taken": "New guidance issued", "responded_on": "2027-02-01"},
    )
    assert responded.status_code == 201
    browser = app.test_client()
    sign_in(browser, lead.user)
    csv_text = browser.get(f"/workspaces/{workspace}/recommendations.csv").get_data(as_text=True)
    assert "Accepted" in csv_text and "'=HMPPS" in csv_text
    xlsx = browser.get(f"/workspaces/{workspace}/recommendations.xlsx").data
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet["C2"].value == "Start release planning twelve weeks before release"
    assert sheet["D2"].value == "'=HMPPS"


def test_the_public_tracker_shows_published_inspections_only(app, trio, workspace, session) -> None:
    from sqlalchemy import update

    from app.db import set_context
    from shared_workspace.models import Workspace

    lead = trio[0]
    lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/recommendations",
        {"text": "Plan earlier", "organisation": "HMPPS", "measure": "m", "due_on": "2027-06-30"},
    )
    anonymous = app.test_client()
    assert anonymous.get(f"/recommendations-tracker/{workspace}").status_code == 404
    set_context(session, tenant_id=lead.tenant.id)
    session.execute(
        update(Workspace).where(Workspace.id == workspace).values(published_at=clock.now())
    )
    session.commit()
    page = anonymous.get(f"/recommendations-tracker/{workspace}")
    assert page.status_code == 200 and "Plan earlier" in page.get_data(as_text=True)


def test_lead_inspectors_are_reminded_of_factual_accuracy_deadlines(
    app, trio, workspace, session
) -> None:
    from shared_workspace import reminders

    lead = trio[0]
    document = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/documents",
        {"kind": "report", "title": "Draft", "sections": [{"title": "S", "body": "<p>x</p>"}]},
    ).get_json()
    row = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/circulations",
        {"document_id": document["id"], "recipient": "Ann Bell", "sent_on": "2026-12-21"},
    ).get_json()
    assert reminders.send_reminders(session, date(2026, 12, 21)) == 0
    assert reminders.send_reminders(session, date(2027, 1, 5)) == 1  # two working days ahead
    assert reminders.send_reminders(session, date(2027, 1, 5)) == 0  # once only
    session.commit()
    texts = [n["text"] for n in lead.call("GET", "/api/v1/notifications").get_json()]
    assert any("Ann Bell's comments on version 1 are due on 7 January 2027" in t for t in texts)
    lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/circulations/{row['id']}/response",
        {"responded_on": "2027-01-06"},
    )
    assert reminders.send_reminders(session, date(2027, 1, 8)) == 0  # answered: no late notice


def test_malformed_imported_recommendations_are_named_not_guessed(trio, workspace) -> None:
    data = (
        b"text,organisation,measure,due\n"
        b"Plan earlier,HMPPS,Plans at 12 weeks,2027-06-30\n"
        b",HMPPS,,\n"
        b"Share data,Police,Share rate,next year\n"
        b"Be better,CPS,,\n"
    )
    response = trio[0].client.post(
        f"/api/v1/workspaces/{workspace}/recommendations/import",
        data={"file": (io.BytesIO(data), "recs.csv")},
        headers=trio[0].headers,
        content_type="multipart/form-data",
    )
    body = response.get_json()
    assert body["added"] == 1
    problems = " ".join(body["problems"])
    assert "line 3: text and organisation are needed" in problems
    assert "line 4: due must be a date" in problems
    assert "SMART" in problems
