"""Commissioning letters (001 §15-17, annex 2): one per inspected site and addressee, sent
only once every development group representative has authorised the current text and at
least six weeks (42 days) before the site's fieldwork, with the clock moved."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import clock
from app.db import set_context
from shared_workspace.models import WorkspaceRole
from shared_workspace.publication.models import Letter
from tenants.models import Role
from tests.shared_workspace.fixtures import Inspectorate, name_everyone
from tests.shared_workspace.publication.helpers import (
    authorise,
    letter,
    new_mail,
    outbox,
    site,
    travel,
)
from tests.tenants.fixtures import create_user, sign_in

#: Fieldwork at HMP Manchester starts on Monday 1 March 2027: letters must go by 18 January.
FIELDWORK = date(2027, 3, 1)
LAST_DAY = date(2027, 1, 18)


def _send(lead: Inspectorate, ws: int, letter_id: int):  # type: ignore[no-untyped-def]
    return lead.call("POST", f"/api/v1/workspaces/{ws}/letters/{letter_id}/send")


def _register(lead: Inspectorate, ws: int) -> list[dict]:  # type: ignore[type-arg]
    return lead.call("GET", f"/api/v1/workspaces/{ws}/letters").get_json()


def test_a_letter_goes_only_when_every_inspectorate_authorised_it(app, trio, workspace) -> None:
    lead = trio[0]
    travel(date(2027, 1, 4))
    letter_id = letter(lead, workspace, site(lead, workspace, FIELDWORK))["id"]
    before = outbox(app).messages()
    refused = _send(lead, workspace, letter_id)
    assert refused.status_code == 409
    assert "nobody has been asked to authorise it" in refused.get_json()["detail"]
    authorise(trio[:2], workspace, letter_id)

    travel(date(2027, 1, 11))  # a week on, HMICFRS has still not authorised
    refused = _send(lead, workspace, letter_id)
    assert refused.status_code == 409
    assert refused.get_json()["errors"]["send"] == [
        "the development group representatives of HMICFRS have not authorised this version (§17)"
    ]
    assert new_mail(app, before) == []
    assert _register(lead, workspace)[0]["status"] == "draft"

    authorise(trio[2:], workspace, letter_id)  # the last authority makes it sendable
    sent = _send(lead, workspace, letter_id)
    assert sent.status_code == 202, sent.get_json()
    row = _register(lead, workspace)[0]
    assert row["status"] == "sent" and row["sent_at"] and row["dated_on"] == "2027-01-11"
    assert row["delivery"].startswith("handed over as ")
    [message] = new_mail(app, before)
    assert message["To"] == "ann.bell@justice.gov.uk"
    assert [p.get_filename() for p in message.iter_attachments()] == [f"letter-{letter_id}.pdf"]
    again = _send(lead, workspace, letter_id)
    assert again.status_code == 409 and "already sent" in again.get_json()["detail"]


def test_editing_an_authorised_letter_needs_everyone_to_authorise_it_again(
    app, trio, workspace
) -> None:
    lead = trio[0]
    travel(date(2027, 1, 4))
    created = letter(lead, workspace, site(lead, workspace, FIELDWORK))
    authorise(trio, workspace, created["id"])
    saved = lead.client.put(
        f"/api/v1/workspaces/{workspace}/documents/{created['document_id']}",
        json={"sections": [{"key": "body", "title": "Letter", "body": "<p>New dates.</p>"}]},
        headers={**lead.headers, "If-Match": f'"{created["document_id"]}-1"'},
    )
    assert saved.status_code == 200, saved.get_json()
    before = outbox(app).messages()
    refused = _send(lead, workspace, created["id"])
    assert refused.status_code == 409
    assert "have not authorised this version (§17)" in refused.get_json()["detail"]
    assert new_mail(app, before) == []


def test_the_six_week_rule_refuses_and_sends_nothing(app, trio, workspace, session) -> None:
    lead = trio[0]
    travel(LAST_DAY + timedelta(days=1))  # 41 days before fieldwork
    letter_id = letter(lead, workspace, site(lead, workspace, FIELDWORK))["id"]
    authorise(trio, workspace, letter_id)
    before = outbox(app).messages()
    refused = _send(lead, workspace, letter_id)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["errors"]["send"] == [
        "fieldwork at HMP Manchester starts on 1 March 2027: letters must go by "
        "18 January 2027, six weeks before (§16)"
    ]
    assert body["detail"].startswith("The letter cannot be sent yet: fieldwork at HMP Manchester")
    # Nothing was sent: no message in the outbox, and the letter has no delivery at all.
    assert new_mail(app, before) == []
    set_context(session, tenant_id=lead.tenant.id)
    row = session.scalar(select(Letter).where(Letter.id == letter_id))
    assert (row.status, row.sent_at, row.dated_on, row.delivery) == ("draft", None, None, "")

    travel(LAST_DAY)  # exactly six weeks before: in time
    sent = _send(lead, workspace, letter_id)
    assert sent.status_code == 202, sent.get_json()
    assert len(new_mail(app, before)) == 1


def test_a_letter_needs_a_site_and_a_site_without_fieldwork_dates_blocks_it(
    app, trio, workspace
) -> None:
    lead = trio[0]
    missing = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/letters",
        {"addressee_name": "Omar Khan", "addressee_email": "omar.khan@police.example.uk"},
    )
    assert missing.status_code == 422
    assert "Choose the inspected site" in missing.get_json()["errors"]["site_id"][0]
    undated = site(lead, workspace, None, name="Greater Manchester Police")
    letter_id = letter(lead, workspace, undated, addressee_name="Omar Khan")["id"]
    authorise(trio, workspace, letter_id)
    before = outbox(app).messages()
    refused = _send(lead, workspace, letter_id)
    assert refused.status_code == 409
    assert refused.get_json()["errors"]["send"] == [
        "the fieldwork start date for Greater Manchester Police is not set, so the six-week "
        "rule (§16) cannot be checked"
    ]
    assert new_mail(app, before) == []


def test_one_letter_per_site_and_addressee(trio, workspace) -> None:
    lead = trio[0]
    prison = site(lead, workspace, FIELDWORK)
    letter(lead, workspace, prison)
    for twin in ({"addressee_name": "  ann   BELL "}, {"addressee_name": "A. Bell"}):
        duplicate = lead.call(
            "POST",
            f"/api/v1/workspaces/{workspace}/letters",
            {"site_id": prison, "addressee_email": "Ann.Bell@justice.gov.uk", **twin},
        )
        assert duplicate.status_code == 422
        assert duplicate.get_json()["errors"]["addressee_name"] == [
            "There is already a letter to Ann Bell about HMP Manchester (“Joint inspection of "
            "resettlement”, draft): edit that one instead of drafting another"
        ]
    # The same addressee at another site, and another addressee at this one, are fine.
    other = site(lead, workspace, FIELDWORK, name="HMP Risley")
    letter(lead, workspace, other)
    letter(lead, workspace, prison, addressee_name="Omar Khan", addressee_email="")
    assert len(lead.call("GET", f"/api/v1/workspaces/{workspace}/letters").get_json()) == 3


def test_a_site_of_another_inspection_is_not_found(trio, workspace) -> None:
    lead = trio[0]
    other = lead.call(
        "POST", "/api/v1/workspaces", {"title": "Other", "participants": ["hmiprisons"]}
    ).get_json()["id"]
    foreign = site(lead, other, FIELDWORK)
    response = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/letters",
        {"addressee_name": "Ann Bell", "site_id": foreign},
    )
    assert response.status_code == 404


def test_an_addressee_without_email_is_not_sent_to(app, trio, workspace) -> None:
    lead = trio[0]
    travel(date(2027, 1, 4))
    letter_id = letter(lead, workspace, site(lead, workspace, FIELDWORK), addressee_email="")["id"]
    authorise(trio, workspace, letter_id)
    before = outbox(app).messages()
    refused = _send(lead, workspace, letter_id)
    assert refused.status_code == 409
    assert refused.get_json()["errors"]["send"] == ["there is no email address for Ann Bell"]
    assert new_mail(app, before) == []
    bad = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/letters",
        {"addressee_name": "X", "addressee_email": "not-an-email", "site_id": 1},
    )
    assert bad.status_code in (404, 422)


CHIEFS = {
    "hmiprobation": "Ruth Okafor",
    "hmiprisons": "Simon Pryce",
    "hmicfrs": "Helen Marsh",
}


def test_the_letter_pdf_names_addressee_title_and_every_chief_inspector(
    app: Flask, trio: list[Inspectorate], session: Session
) -> None:
    from pypdf import PdfReader

    lead = trio[0]
    ws = lead.call(
        "POST",
        "/api/v1/workspaces",
        {"title": "Resettlement", "participants": ["hmiprisons", "hmicfrs"]},
    ).get_json()["id"]
    # Everyone's lead person holds every role but chief inspector; each inspectorate names
    # its own chief inspector, a different person with a different name.
    others = tuple(r for r in WorkspaceRole if r != WorkspaceRole.CHIEF_INSPECTOR)
    name_everyone(ws, *trio, roles=others)
    for party in trio:
        chief = create_user(
            session, party.tenant, roles=[Role.CHIEF_INSPECTOR], name=CHIEFS[party.slug]
        )
        session.commit()
        named = party.call(
            "POST",
            f"/api/v1/workspaces/{ws}/members",
            {"user_id": chief.id, "role": WorkspaceRole.CHIEF_INSPECTOR.value},
        )
        assert named.status_code == 201, named.get_json()
    letter_id = letter(lead, ws, site(lead, ws, FIELDWORK))["id"]
    browser = app.test_client()
    sign_in(browser, trio[1].user)  # any participant may download it
    response = browser.get(f"/workspaces/{ws}/letters/{letter_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(response.data)).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert "Ann Bell" in text and "Joint inspection of resettlement" in text
    for party in trio:
        assert CHIEFS[party.slug] in text, party.slug
        assert party.tenant.name in text
        assert party.user.name not in text  # the lead people are not chief inspectors here
    docx = browser.get(f"/workspaces/{ws}/letters/{letter_id}.docx")
    xml = zipfile.ZipFile(io.BytesIO(docx.data)).read("word/document.xml").decode()
    assert "Ann Bell" in xml and "Joint inspection of resettlement" in xml
    assert all(name in xml for name in CHIEFS.values())
    assert clock.today()  # the letter is dated today until it is sent


def test_a_duplicate_that_slips_past_the_check_is_refused_by_the_database(
    trio, workspace, monkeypatch
) -> None:
    from shared_workspace.publication import letters as service

    lead = trio[0]
    prison = site(lead, workspace, FIELDWORK)
    letter(lead, workspace, prison)
    documents = lead.call("GET", f"/api/v1/workspaces/{workspace}/documents").get_json()
    # As if a second writer had passed the check at the same moment as the first.
    monkeypatch.setattr(service, "_refuse_duplicate", lambda *args: None)
    raced = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/letters",
        {"addressee_name": "Ann Bell", "site_id": prison},
    )
    assert raced.status_code == 422
    assert raced.get_json()["errors"]["addressee_name"] == [
        "There is already a letter to Ann Bell about HMP Manchester: edit that one instead of "
        "drafting another"
    ]
    assert len(lead.call("GET", f"/api/v1/workspaces/{workspace}/letters").get_json()) == 1
    after = lead.call("GET", f"/api/v1/workspaces/{workspace}/documents").get_json()
    assert len(after) == len(documents)  # the refused letter's document was not kept


def test_the_letters_page_asks_for_the_site_and_refuses_a_second_letter(
    app: Flask, trio, workspace
) -> None:
    lead = trio[0]
    prison = site(lead, workspace, FIELDWORK)
    browser = app.test_client()
    sign_in(browser, lead.user)
    page = f"/workspaces/{workspace}/letters"
    form = {
        "action": "create",
        "addressee_name": "Ann Bell",
        "addressee_email": "ann.bell@justice.gov.uk",
        "body": "We will inspect.",
    }
    html = browser.get(page).get_data(as_text=True)
    assert "Inspected site" in html and "HMP Manchester (fieldwork from 1 March 2027)" in html
    refused = browser.post(page, data=form)
    assert refused.status_code == 422
    no_site = refused.get_data(as_text=True)
    # An error summary linking to the field, the field marked, and the form as typed.
    assert "There is a problem" in no_site and 'href="#site_id"' in no_site
    assert 'id="site_id-error"' in no_site and "Choose the inspected site" in no_site
    assert 'value="Ann Bell"' in no_site and "We will inspect.</textarea>" in no_site
    assert no_site.startswith("<!DOCTYPE html>") and "<title>Error: " in no_site
    assert browser.post(page, data={**form, "site_id": prison}).status_code == 302
    twice = browser.post(page, data={**form, "site_id": prison})
    assert twice.status_code == 422
    assert "There is already a letter to Ann Bell about HMP Manchester" in twice.get_data(
        as_text=True
    )
    register = browser.get(page).get_data(as_text=True)
    assert register.count("Site: HMP Manchester") == 1


def test_a_rejected_letter_needs_a_new_version_before_authority_is_asked_again(
    app, trio, workspace
) -> None:
    lead, prisons, _cfrs = trio
    travel(date(2027, 1, 4))
    created = letter(lead, workspace, site(lead, workspace, FIELDWORK))
    path = f"/api/v1/workspaces/{workspace}/letters/{created['id']}/authority"
    asked_by_partner = prisons.call("POST", path)
    assert asked_by_partner.status_code == 422
    assert "Only the lead" in asked_by_partner.get_json()["detail"]
    assert lead.call("POST", path).status_code == 200
    decisions = lead.call("GET", f"/api/v1/workspaces/{workspace}/decisions").get_json()
    decision = next(d for d in decisions if d["kind"] == "commissioning_letters")
    rejected = prisons.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions/{decision['id']}/answer",
        {"approve": False, "reason": "Name the second site visit"},
    )
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    again = lead.call("POST", path)
    assert again.status_code == 422, again.get_json()
    assert "was rejected" in again.get_json()["detail"]
    saved = lead.client.put(
        f"/api/v1/workspaces/{workspace}/documents/{created['document_id']}",
        json={"sections": [{"key": "body", "title": "Letter", "body": "<p>Two visits.</p>"}]},
        headers={**lead.headers, "If-Match": f'"{created["document_id"]}-1"'},
    )
    assert saved.status_code == 200, saved.get_json()
    assert lead.call("POST", path).status_code == 200
    decisions = lead.call("GET", f"/api/v1/workspaces/{workspace}/decisions").get_json()
    statuses = sorted(d["status"] for d in decisions if d["kind"] == "commissioning_letters")
    assert statuses == ["open", "rejected"]
