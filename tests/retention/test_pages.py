"""The retention pages: records managers manage rules, holds, tasks and certificates (every
download audited, CSV formula-safe, PDF a real PDF); everyone else reads the rules only;
participants see the agreement side by side, events, closing and each item's explanation."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import AuditEvent
from app.db import set_context, utcnow
from retention.models import Hold, RetentionRule, Schedule, State
from shared_workspace.evidence.models import EvidenceFile
from shared_workspace.models import Workspace
from tenants.models import Role
from tests.retention.conftest import (
    Founders,
    agree_retention,
    browser,
    claim_of,
    colleague,
    evidence_file,
    new_workspace,
    note,
    sweep,
)
from tests.shared_workspace.fixtures import name_everyone

PUBLICATION = date.today() + timedelta(days=40)
RULE_FORM = {
    "material_class": "working_drafts",
    "sensitivity": "any",
    "trigger": "publication",
    "event_name": "",
    "offset_amount": "6",
    "offset_unit": "months",
    "action": "destroy",
    "effective_from": (date.today() + timedelta(days=10)).isoformat(),
    "note": "Drafts go six months after publication.",
}


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _audited(session: Session, tenant_id: int, action: str) -> list[AuditEvent]:
    set_context(session, tenant_id=tenant_id)
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- the inspectorate's retention ----------------------------------------------------------


def test_records_managers_add_a_rule_version_from_the_page(
    app: Flask, founders: Founders, session: Session
) -> None:
    page = browser(app, founders.hmcpsi)
    rules = _text(page.get("/retention"))
    assert "Destroy 1 day before the publication date" in rules and "Add a rule version" in rules
    form = _text(page.get("/retention/rules/new"))
    for hint in ("The most specific rule wins", "counted from this date", "-1 day is the day"):
        assert hint in form
    saved = page.post("/retention/rules/new", data=RULE_FORM)
    assert saved.status_code == 302, _text(saved)[:2000]
    listed = _text(page.get("/retention"))
    assert "Destroy 6 months after the publication date" in listed and "Later" in listed


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"material_class": ""}, "material_class", "Choose a class of material"),
        ({"offset_amount": "three"}, "offset_amount", "whole number"),
        (
            {"offset_amount": "99999999999999999999"},
            "offset_amount",
            "between -1200 and 1200 months",
        ),
        ({"effective_from": "31/02/2027"}, "effective_from", "Enter a real date"),
        ({"trigger": "event"}, "event_name", "which confirmed event"),
        ({"note": "<script>alert(1)</script>" * 200}, "note", "2,000 characters"),
    ],
)
def test_a_bad_rule_re_renders_with_an_error_summary(
    app: Flask, founders: Founders, session: Session, change: dict, field: str, message: str
) -> None:
    page = browser(app, founders.hmcpsi)
    response = page.post("/retention/rules/new", data=RULE_FORM | change)
    assert response.status_code == 422
    body = _text(response)
    assert "There is a problem" in body and f'href="#{field}"' in body and message in body
    assert "<script>alert(1)</script>" not in body
    set_context(session, tenant_id=founders.hmcpsi.tenant.id)
    assert len(session.scalars(select(RetentionRule)).all()) == 3


def test_other_staff_read_the_rules_but_cannot_manage_retention(
    app: Flask, founders: Founders, session: Session
) -> None:
    inspector = colleague(session, founders.hmcpsi, Role.INSPECTOR, Role.LEAD_INSPECTOR)
    page = browser(app, inspector)
    rules = page.get("/retention")
    assert rules.status_code == 200
    assert "Destroy 1 day before the publication date" in _text(rules)
    assert "Add a rule version" not in _text(rules) and "/retention/holds" not in _text(rules)
    assert 'govuk-service-navigation__link" href="/retention"' in _text(rules)  # navigation
    for url in (
        "/retention/rules/new",
        "/retention/holds",
        "/retention/holds/new",
        "/retention/reviews",
        "/retention/preview",
        "/retention/certificates",
        "/retention/certificates.csv",
    ):
        assert page.get(url).status_code == 403, url
    assert page.post("/retention/rules/new", data=RULE_FORM).status_code == 403


def test_holds_are_placed_and_released_from_the_pages(
    app: Flask, founders: Founders, session: Session
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, file_id = evidence_file(cps, ws)
    page = browser(app, cps)
    prefilled = _text(
        page.get(
            f"/retention/holds/new?scope=item&material_type=evidence_file&material_id={file_id}"
        )
    )
    assert f'value="{file_id}"' in prefilled
    missing = page.post(
        "/retention/holds/new",
        data={"scope": "workspace", "workspace_id": "", "reason_kind": "foi", "reason": ""},
    )
    assert missing.status_code == 422
    for field in ("workspace_id", "reason", "review_on"):
        assert f'href="#{field}"' in _text(missing), field
    review_on = (date.today() + timedelta(days=60)).isoformat()
    placed = page.post(
        "/retention/holds/new",
        data={
            "scope": "item",
            "material_type": "evidence_file",
            "material_id": str(file_id),
            "reason_kind": "complaint",
            "reason": "Complaint C-17 about the fieldwork",
            "review_on": review_on,
        },
    )
    assert placed.status_code == 302, _text(placed)[:3000]
    listed = _text(page.get("/retention/holds"))
    assert "Complaint C-17 about the fieldwork" in listed
    # The inspection's page shows the item held, not the inspection as a whole.
    inspection_page = _text(page.get(f"/workspaces/{ws}/retention"))
    assert "as a whole" in inspection_page and "On hold" in inspection_page
    set_context(session, tenant_id=cps.tenant.id)
    hold = session.scalars(select(Hold)).one()
    no_reason = page.post(f"/retention/holds/{hold.id}/release", data={"reason": " "})
    assert no_reason.status_code == 422 and f'href="#release-{hold.id}"' in _text(no_reason)
    released = page.post(f"/retention/holds/{hold.id}/release", data={"reason": "Answered"})
    assert released.status_code == 302
    session.expire_all()
    assert session.get(Hold, hold.id).released_at is not None  # type: ignore[union-attr]


def test_a_hold_on_another_inspectorates_material_is_refused(
    app: Flask, founders: Founders, session: Session
) -> None:
    theirs = new_workspace(founders.hmicfrs, "hmiprobation", publication=PUBLICATION)
    page = browser(app, founders.hmcpsi)
    response = page.post(
        "/retention/holds/new",
        data={
            "scope": "workspace",
            "workspace_id": str(theirs),
            "reason_kind": "legal",
            "reason": "x",
            "review_on": date.today().isoformat(),
        },
    )
    assert response.status_code == 422
    assert "Your inspectorate has nothing with this id to hold" in _text(response)
    set_context(session, tenant_id=founders.hmicfrs.tenant.id)
    their_hold = Hold(
        tenant_id=founders.hmicfrs.tenant.id,
        scope="tenant",
        reason_kind="legal",
        reason="Theirs",
        review_on=date.today(),
        placed_by_id=founders.hmicfrs.user.id,
    )
    session.add(their_hold)
    session.commit()
    assert (
        page.post(f"/retention/holds/{their_hold.id}/release", data={"reason": "x"}).status_code
        == 404
    )


def test_review_tasks_are_answered_from_the_page(
    app: Flask, founders: Founders, session: Session
) -> None:
    prisons = founders.hmiprisons
    rule = {
        "material_class": "evidence.interview",
        "sensitivity": "any",
        "trigger": "upload",
        "offset_amount": 0,
        "offset_unit": "days",
        "action": "review",
        "effective_from": date.today().isoformat(),
    }
    assert prisons.call("POST", "/api/v1/retention/rules", rule).status_code == 201
    ws = new_workspace(prisons, "hmiprobation", publication=PUBLICATION)
    _, file_id = evidence_file(prisons, ws, method="interview", visibility="inspectorate")
    sweep(app, prisons)
    task = claim_of(session, prisons, "evidence_file", file_id)
    page = browser(app, prisons)
    listed = _text(page.get("/retention/reviews"))
    assert "A records manager must review it now" in listed and f"task-{task.id}" in listed
    no_date = page.post(
        f"/retention/reviews/{task.id}", data={"outcome": "extend", "reason": "Follow-up"}
    )
    assert no_date.status_code == 422 and f'href="#new_date-{task.id}"' in _text(no_date)
    approved = page.post(
        f"/retention/reviews/{task.id}", data={"outcome": "destroy", "reason": "No follow-up"}
    )
    assert approved.status_code == 302
    assert claim_of(session, prisons, "evidence_file", file_id).state == State.SCHEDULED
    assert page.post(f"/retention/reviews/{2**31 - 1}", data={}).status_code == 404


def test_the_preview_page_filters_by_inspection_and_explains_bad_input(
    app: Flask, founders: Founders
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    evidence_file(cps, ws, visibility="inspectorate")
    page = browser(app, cps)
    shown = _text(page.get(f"/retention/preview?days=60&workspace={ws}"))
    assert "1 item due by the end of" in shown and "notes.pdf" in shown
    assert "0 items due" in _text(page.get("/retention/preview?days=5"))
    for query, field in (
        ("days=-4", "days"),
        ("days=lots", "days"),
        ("workspace=999999", "workspace"),
    ):
        response = page.get(f"/retention/preview?{query}")
        assert response.status_code == 422 and f'href="#{field}"' in _text(response), query


def _destroyed_certificate(app: Flask, founders: Founders, title: str) -> tuple[int, int]:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=date.today() + timedelta(days=1))
    evidence_file(cps, ws, b"% hostile", title=title, visibility="inspectorate")
    (certificate_id,) = sweep(app, cps).certificates
    return ws, certificate_id


def test_certificates_export_as_formula_safe_csv_and_pdf_and_each_download_is_audited(
    app: Flask, founders: Founders, session: Session
) -> None:
    cps = founders.hmcpsi
    hostile = '=HYPERLINK("http://evil.example","click")'
    _ws, certificate_id = _destroyed_certificate(app, founders, hostile)
    page = browser(app, cps)
    assert f"Certificate {certificate_id}" in _text(page.get("/retention/certificates"))
    detail = _text(page.get(f"/retention/certificates/{certificate_id}"))
    assert "The tombstones still match the digest" in detail and "Item destroyed" in detail

    exported = page.get(f"/retention/certificates/{certificate_id}/certificate.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(_text(exported).lstrip("\ufeff"))))
    assert len(rows) == 1 and rows[0]["outcome"] == "item destroyed"
    assert rows[0]["title"].startswith("'=HYPERLINK")  # shown as text, never run
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row.values())

    pdf = page.get(f"/retention/certificates/{certificate_id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF-")
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert f"Destruction certificate {certificate_id}" in text and "HYPERLINK" in text

    register = page.get("/retention/certificates.csv")
    assert register.status_code == 200 and str(certificate_id) in _text(register)
    downloads = _audited(session, cps.tenant.id, "retention.certificate.downloaded")
    assert [(e.object_id, e.changes["format"]) for e in downloads] == [
        (str(certificate_id), "csv"),
        (str(certificate_id), "pdf"),
    ]
    assert len(_audited(session, cps.tenant.id, "retention.certificates.exported")) == 1


def test_another_inspectorates_certificate_is_not_found(
    app: Flask, founders: Founders, session: Session
) -> None:
    _ws, certificate_id = _destroyed_certificate(app, founders, "Interview notes")
    page = browser(app, founders.hmiprisons)
    for url in (
        f"/retention/certificates/{certificate_id}",
        f"/retention/certificates/{certificate_id}/certificate.csv",
        f"/retention/certificates/{certificate_id}/certificate.pdf",
    ):
        assert page.get(url).status_code == 404, url
    assert (
        _audited(session, founders.hmiprisons.tenant.id, "retention.certificate.downloaded") == []
    )


# --- a workspace's retention ---------------------------------------------------------------


@pytest.fixture
def inspection(founders: Founders) -> int:
    ws = new_workspace(founders.hmcpsi, "hmiprisons", publication=PUBLICATION)
    name_everyone(ws, founders.hmcpsi, founders.hmiprisons)
    return ws


def test_participants_see_the_agreement_side_by_side_and_the_lead_proposes_it(
    app: Flask, founders: Founders, inspection: int
) -> None:
    lead, partner = browser(app, founders.hmcpsi), browser(app, founders.hmiprisons)
    url = f"/workspaces/{inspection}/retention"
    theirs = _text(partner.get(url))
    assert "Review 3 years after the publication date" in theirs
    assert "Destroy 1 day before the publication date" in theirs
    assert "Propose the retention agreement" not in theirs and "Not proposed yet" in theirs
    assert partner.post(f"{url}/agreement").status_code == 403
    assert "Propose the retention agreement" in _text(lead.get(url))
    assert lead.post(f"{url}/agreement").status_code == 302
    proposed = _text(partner.get(url))
    assert "Waiting for the records managers of" in proposed
    assert "Approve or reject it for" in proposed


def test_events_and_closing_are_refused_with_an_error_summary(
    app: Flask, founders: Founders, inspection: int, session: Session
) -> None:
    lead = browser(app, founders.hmcpsi)
    url = f"/workspaces/{inspection}/retention"
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    future = lead.post(
        f"{url}/events", data={"event": "notes_transcribed", "confirmed_on": tomorrow}
    )
    assert future.status_code == 422 and 'href="#confirmed_on"' in _text(future)
    unknown = lead.post(f"{url}/events", data={"event": "lunch", "confirmed_on": "2020-01-01"})
    assert unknown.status_code == 422 and 'href="#event"' in _text(unknown)
    confirmed = lead.post(
        f"{url}/events",
        data={"event": "notes_transcribed", "confirmed_on": date.today().isoformat()},
    )
    assert confirmed.status_code == 302
    assert "All notes are transcribed" in _text(lead.get(url))
    unpublished = lead.post(f"{url}/close", data={"closed_on": date.today().isoformat()})
    assert unpublished.status_code == 422 and "Publish the report" in _text(unpublished)
    set_context(session, tenant_id=founders.hmcpsi.tenant.id)
    session.get(Workspace, inspection).published_at = utcnow()  # type: ignore[union-attr]
    session.commit()
    assert "Close the inspection" in _text(lead.get(url))
    assert browser(app, founders.hmiprisons).post(f"{url}/close", data={}).status_code == 403
    unagreed = lead.post(f"{url}/close", data={"closed_on": date.today().isoformat()})
    assert unagreed.status_code == 422 and "retention agreement must stand" in _text(unagreed)
    agree_retention(inspection, founders.hmcpsi, founders.hmiprisons)
    closed = lead.post(f"{url}/close", data={"closed_on": date.today().isoformat()})
    assert closed.status_code == 302
    inspector = colleague(session, founders.hmcpsi, Role.INSPECTOR)
    assert browser(app, inspector).post(f"{url}/events", data={}).status_code == 403


def test_the_items_list_and_each_items_explanation(
    app: Flask, founders: Founders, inspection: int, session: Session
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    item_id, shared = evidence_file(cps, inspection)
    private = note(prisons, inspection, "Prisons' own jottings")
    lead = browser(app, cps)
    listing = _text(lead.get(f"/workspaces/{inspection}/retention"))
    assert "notes.pdf" in listing and "Prisons' own jottings" not in listing
    explained = lead.get(f"/workspaces/{inspection}/retention/items/evidence_file/{shared}")
    assert explained.status_code == 200
    body = _text(explained)
    assert "The item is destroyed only when no inspectorate must keep it" in body
    assert "Review 3 years after the publication date" in body  # the partner's claim, explained
    assert "Place a hold on this item" in body
    # Linked from the evidence item (per file) and from the document page.
    evidence_page = _text(lead.get(f"/workspaces/{inspection}/evidence/{item_id}"))
    assert f"/workspaces/{inspection}/retention/items/evidence_file/{shared}" in evidence_page
    assert f'href="/workspaces/{inspection}/retention"' in evidence_page  # the workspace nav
    assert (
        lead.get(f"/workspaces/{inspection}/retention/items/private_note/{private}").status_code
        == 404
    )
    partner = browser(app, prisons)
    assert (
        partner.get(f"/workspaces/{inspection}/retention/items/private_note/{private}").status_code
        == 200
    )
    for path in ("sandwich/1", f"evidence_file/{2**31}", "evidence_file/0"):
        assert lead.get(f"/workspaces/{inspection}/retention/items/{path}").status_code == 404


def test_the_document_page_links_to_its_retention(
    app: Flask, founders: Founders, inspection: int
) -> None:
    made = founders.hmcpsi.call(
        "POST",
        f"/api/v1/workspaces/{inspection}/documents",
        {
            "kind": "methodology",
            "title": "Methodology",
            "sections": [{"title": "Scope", "body": "<p>x</p>"}],
        },
    )
    document_id = made.get_json()["id"]
    lead = browser(app, founders.hmcpsi)
    page = _text(lead.get(f"/workspaces/{inspection}/documents/{document_id}"))
    url = f"/workspaces/{inspection}/retention/items/document/{document_id}"
    assert url in page
    assert "Methodology" in _text(lead.get(url))


def test_the_workspace_page_schedules_material_that_has_no_claim_yet(
    app: Flask, founders: Founders, inspection: int, session: Session
) -> None:
    cps = founders.hmcpsi
    item_id, _shared = evidence_file(cps, inspection)
    set_context(session, tenant_id=cps.tenant.id)
    older = EvidenceFile(
        item_id=item_id,
        workspace_id=inspection,
        tenant_id=cps.tenant.id,
        visibility="workspace",
        uploaded_by_id=cps.user.id,
        filename="from-before-retention.pdf",
        declared_size=10,
        state="clean",
    )
    session.add(older)
    session.commit()
    assert claims_on(session, older.id) == 0
    page = _text(browser(app, cps).get(f"/workspaces/{inspection}/retention"))
    assert "from-before-retention.pdf" in page
    assert claims_on(session, older.id) == 2  # both inspectorates' claims


def claims_on(session: Session, file_id: int) -> int:
    session.expire_all()
    return len(
        session.scalars(
            select(Schedule).where(
                Schedule.material_type == "evidence_file", Schedule.material_id == file_id
            )
        ).all()
    )


def test_another_inspectorates_workspace_retention_is_not_found(
    app: Flask, founders: Founders, inspection: int
) -> None:
    outsider: FlaskClient = browser(app, founders.hmicfrs)
    base = f"/workspaces/{inspection}/retention"
    assert outsider.get(base).status_code == 404
    assert outsider.post(f"{base}/agreement").status_code == 404
    assert outsider.post(f"{base}/events", data={"event": "notes_transcribed"}).status_code == 404
    assert outsider.post(f"{base}/close", data={}).status_code == 404


def test_the_workspace_page_reads_as_many_queries_for_many_items_as_for_few(
    app: Flask, founders: Founders, inspection: int, session: Session
) -> None:
    from sqlalchemy import event

    from app.db import get_database

    cps = founders.hmcpsi
    page = browser(app, cps)
    url = f"/workspaces/{inspection}/retention"

    def count() -> int:
        seen: list[str] = []
        engine = get_database(app).engine

        def record(*_args: object) -> None:
            seen.append("q")

        event.listen(engine, "before_cursor_execute", record)
        try:
            assert page.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(seen)

    evidence_file(cps, inspection, b"% one")
    few = count()
    for n in range(6):
        evidence_file(cps, inspection, f"% more {n}".encode())
    assert count() == few


def test_a_long_certificate_pdf_lists_the_first_tombstones_and_says_where_the_rest_are(
    app: Flask, founders: Founders, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retention import exports

    monkeypatch.setattr(exports, "PDF_ROWS", 1)
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=date.today() + timedelta(days=1))
    for n in range(2):
        evidence_file(cps, ws, f"% {n}".encode(), title=f"Notes {n}", visibility="inspectorate")
    (certificate_id,) = sweep(app, cps).certificates
    page = browser(app, cps)
    assert "The PDF lists the first 1 tombstones; the CSV lists all 2" in _text(
        page.get(f"/retention/certificates/{certificate_id}")
    )
    from pypdf import PdfReader

    pdf = page.get(f"/retention/certificates/{certificate_id}/certificate.pdf").get_data()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "The first 1 of 2 are listed" in " ".join(text.split())
    assert "Notes 0" in text and "Notes 1" not in text
    rows = _text(page.get(f"/retention/certificates/{certificate_id}/certificate.csv"))
    assert "Notes 0" in rows and "Notes 1" in rows


def test_items_are_paged_with_every_claim_of_each_item_together(
    app: Flask, founders: Founders, inspection: int, session: Session
) -> None:
    from retention import queries

    cps = founders.hmcpsi
    files = [evidence_file(cps, inspection, f"% {n}".encode())[1] for n in range(3)]
    set_context(session, tenant_id=cps.tenant.id)
    seen, cursor = [], None
    for _ in range(5):
        page = queries.items_page(session, inspection, cursor=cursor, limit=2)
        assert all(len(item.claims) == 2 for item in page.rows)  # both inspectorates' claims
        seen += [item.material_id for item in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == files and page.total == 3
    assert queries.items_page(session, inspection, cursor="garbage").rows[0].material_id == files[0]
