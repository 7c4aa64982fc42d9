"""The workspace pages people use: editing the terms of reference without losing work, the
checklists, the private area, the plan and the dashboard's notifications."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.clock import clock
from shared_workspace import reminders
from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone
from tests.tenants.fixtures import sign_in


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


def _browser(app: Flask, party: Inspectorate) -> FlaskClient:
    browser = app.test_client()
    sign_in(browser, party.user)
    return browser


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _start_terms(app: Flask, party: Inspectorate, ws: int) -> tuple[FlaskClient, str]:
    browser = _browser(app, party)
    started = browser.post(f"/workspaces/{ws}/terms-of-reference")
    assert started.status_code == 302
    return browser, started.headers["Location"]


def _save_section(browser: FlaskClient, doc_url: str, key: str, base: int, body: str):  # type: ignore[no-untyped-def]
    return browser.post(f"{doc_url}/sections/{key}", data={"base_version": str(base), "body": body})


def test_terms_of_reference_are_a_document_in_annex_3_structure(app, trio, workspace) -> None:
    browser, doc_url = _start_terms(app, trio[0], workspace)
    page = _text(browser.get(doc_url))
    for heading in ("Background", "Aims", "The inspection question", "Criteria and sub-questions"):
        assert heading in page
    saved = _save_section(browser, doc_url, "aims", 1, "To assess resettlement.\n\nEnd to end.")
    assert saved.status_code == 302
    page = _text(browser.get(doc_url))
    assert "<p>To assess resettlement.</p><p>End to end.</p>" in page and "version 2" in page
    # Asking again lands on the same document.
    assert (
        browser.get(f"/workspaces/{workspace}/terms-of-reference")
        .headers["Location"]
        .endswith(doc_url.rsplit("/workspaces", 1)[1])
    )


def test_a_save_on_an_old_version_shows_both_texts_and_loses_nothing(app, trio, workspace) -> None:
    lead, doc_url = _start_terms(app, trio[0], workspace)
    prisons = _browser(app, trio[1])
    _save_section(lead, doc_url, "aims", 1, "<p>The lead's aims.</p>")
    stale = _save_section(prisons, doc_url, "aims", 1, "<p>HMI Prisons' aims.</p>")
    assert stale.status_code == 302 and "/pending/" in stale.headers["Location"]
    page = _text(prisons.get(stale.headers["Location"]))
    assert "The lead's aims." in page and "HMI Prisons' aims." in page
    resolved = prisons.post(
        stale.headers["Location"],
        data={"choice-aims": "edited", "body-aims": "<p>Both sets of aims.</p>"},
    )
    assert resolved.status_code == 302
    assert "Both sets of aims." in _text(lead.get(doc_url))
    history = _text(lead.get(doc_url + "/history?from=2&to=3"))
    assert trio[0].user.name in history and trio[1].user.name in history
    assert "<ins>" in history


@pytest.mark.parametrize(
    ("base", "body", "status", "message"),
    [
        ("1", "<p>" + "word " * 50_000 + "</p>", 422, "the limit is 200,000"),
        ("abc", "<p>x</p>", 400, ""),
        ("999", "<p>x</p>", 302, ""),
    ],
)
def test_bad_section_saves_are_refused(app, trio, workspace, base, body, status, message) -> None:
    browser, doc_url = _start_terms(app, trio[0], workspace)
    response = browser.post(f"{doc_url}/sections/aims", data={"base_version": base, "body": body})
    assert response.status_code == status
    assert message in _text(response)


def test_the_terms_go_for_sign_off_and_are_published_from_the_page(app, trio, workspace) -> None:
    lead, doc_url = _start_terms(app, trio[0], workspace)
    _save_section(lead, doc_url, "question", 1, "<p>Does it work?</p>")
    due = clock.today() + timedelta(days=10)
    lead.post(f"{doc_url}/sign-off", data={"kind": "terms_of_reference", "due_on": due.isoformat()})
    decision = trio[0].call("GET", f"/api/v1/workspaces/{workspace}/decisions").get_json()[0]
    assert (decision["kind"], decision["due_on"]) == ("terms_of_reference", due.isoformat())
    early = lead.post(f"/workspaces/{workspace}/terms-of-reference/publish", follow_redirects=True)
    assert "You cannot publish" in _text(early)
    for party in trio:
        party.call(
            "POST",
            f"/api/v1/workspaces/{workspace}/decisions/{decision['id']}/answer",
            {"approve": True},
        )
    published = lead.post(
        f"/workspaces/{workspace}/terms-of-reference/publish", follow_redirects=True
    )
    assert "inspections in progress" in _text(published)
    public = _text(app.test_client().get(f"/inspections-in-progress/{workspace}"))
    assert "<p>Does it work?</p>" in public
    pdf = lead.get(f"/workspaces/{workspace}/terms-of-reference.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_terms_written_through_the_api_become_the_document(app, trio, workspace) -> None:
    trio[0].call(
        "POST",
        f"/api/v1/workspaces/{workspace}/subjects",
        {
            "kind": "terms_of_reference",
            "title": "ToR",
            "content": {"question": "Is it <safe>?", "criteria": ["One", "Two"]},
        },
    )
    browser, doc_url = _start_terms(app, trio[0], workspace)
    page = _text(browser.get(doc_url))
    assert "<p>Is it &lt;safe&gt;?</p>" in page and "<li>One</li>" in page


def test_checklist_items_are_updated_and_added_in_the_page(app, trio, workspace) -> None:
    lead = _browser(app, trio[0])
    page = _text(lead.get(f"/workspaces/{workspace}/checklist"))
    assert "Stage 8: Retention and destruction" in page
    item = int(re.search(r'id="item-(\d+)"', page).group(1))  # type: ignore[union-attr]
    done = lead.post(
        f"/workspaces/{workspace}/checklist/{item}",
        data={
            "status": "done",
            "assignee_id": str(trio[1].user.id),
            "due_on": "2027-01-31",
            "link": "/workspaces",
        },
        follow_redirects=True,
    )
    assert "Checklist item updated" in _text(done)
    listed = trio[0].call("GET", f"/api/v1/workspaces/{workspace}/checklist").get_json()
    row = next(i for i in listed if i["id"] == item)
    assert (row["status"], row["assignee_id"], row["due_on"]) == (
        "done",
        trio[1].user.id,
        "2027-01-31",
    )
    bad = lead.post(
        f"/workspaces/{workspace}/checklist/{item}",
        data={"link": "javascript:alert(1)"},
        follow_redirects=True,
    )
    assert "Link to a page of this service" in _text(bad)
    added = lead.post(
        f"/workspaces/{workspace}/checklist",
        data={"stage": "2", "text": "Book the meeting rooms"},
        follow_redirects=True,
    )
    assert "Book the meeting rooms" in _text(added)
    refused = _browser(app, trio[1]).post(
        f"/workspaces/{workspace}/checklist",
        data={"stage": "2", "text": "Not mine to add"},
        follow_redirects=True,
    )
    assert "Only the lead" in _text(refused)


def test_private_notes_are_seen_by_their_own_inspectorate_only(app, trio, workspace) -> None:
    prisons, cfrs = _browser(app, trio[1]), _browser(app, trio[2])
    path = f"/workspaces/{workspace}/private"
    saved = prisons.post(
        path, data={"title": "Our line", "body": "<script>x</script>"}, follow_redirects=True
    )
    page = _text(saved)
    assert "Our line" in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "Our line" not in _text(cfrs.get(path))
    assert "Give the note a title" in _text(prisons.post(path, data={"title": "", "body": "x"}))


def test_the_plan_page_shows_warnings_and_saves_dates(app, trio, workspace) -> None:
    lead = _browser(app, trio[0])
    today = clock.today()
    lead.post(
        f"/workspaces/{workspace}/plan/milestones",
        data={
            "title": "Scope circulated",
            "stage": "1",
            "owner_tenant_id": str(trio[0].tenant.id),
            "due_on": (today - timedelta(days=2)).isoformat(),
        },
    )
    page = _text(lead.get(f"/workspaces/{workspace}/plan"))
    assert "Scope circulated" in page and "Overdue" in page and "is not done" in page
    saved = lead.post(
        f"/workspaces/{workspace}/plan/publication-date",
        data={"publication_date": (today + timedelta(days=100)).isoformat()},
        follow_redirects=True,
    )
    assert "Publication planned for" in _text(saved)
    bad = lead.post(
        f"/workspaces/{workspace}/plan/publication-date",
        data={"publication_date": "next week"},
        follow_redirects=True,
    )
    assert "Enter the publication date" in _text(bad)
    # Another inspectorate sees the plan but not the lead's forms.
    other = _text(_browser(app, trio[1]).get(f"/workspaces/{workspace}/plan"))
    assert "Scope circulated" in other and "Add a milestone" not in other


def test_the_dashboard_shows_notifications_until_read(app, trio, workspace, session) -> None:
    lead = trio[0]
    subject = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/subjects",
        {"kind": "methodology", "title": "Methodology", "content": {"m": 1}},
    ).get_json()["id"]
    decision = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions",
        {"kind": "methodology", "subject_id": subject},
    ).get_json()["id"]
    lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/decisions/{decision}/deadline",
        {"due_on": clock.today().isoformat()},
    )
    reminders.send_reminders(session)
    session.commit()
    browser = _browser(app, trio[2])
    page = _text(browser.get("/workspaces"))
    assert "For your attention" in page and "methodology decision is due" in page
    browser.post("/workspaces/notifications/read")
    assert "For your attention" not in _text(browser.get("/workspaces"))


def test_on_the_form_only_the_owning_inspectorate_edits_its_section(app, trio, workspace) -> None:
    lead, doc_url = _start_terms(app, trio[0], workspace)
    document_id = doc_url.rsplit("/", 1)[1]
    owner = f"/api/v1/workspaces/{workspace}/documents/{document_id}/sections/aims/owner"
    assert trio[0].call("PUT", owner, {"tenant": "hmiprisons"}).status_code == 200
    cfrs = _browser(app, trio[2])
    page = _text(cfrs.get(f"{doc_url}/sections/aims"))
    assert 'id="section-form"' not in page and "HMIPRISONS" in page.upper()
    refused = _save_section(cfrs, doc_url, "aims", 1, "<p>Not ours to write.</p>")
    assert refused.status_code == 422
    assert "suggest" in _text(refused)
    api = trio[0].call("GET", f"/api/v1/workspaces/{workspace}/documents/{document_id}")
    assert api.get_json()["version"] == 1
    prisons = _browser(app, trio[1])
    assert _save_section(prisons, doc_url, "aims", 1, "<p>Ours.</p>").status_code == 302


def test_the_edit_page_states_the_section_limit(app, trio, workspace) -> None:
    browser, doc_url = _start_terms(app, trio[0], workspace)
    page = _text(browser.get(f"{doc_url}/sections/aims"))
    assert "up to 200,000 characters" in page and "split a longer one" in page


def test_the_een_gets_a_section_per_criterion_and_sub_criterion(app, trio, workspace) -> None:
    browser, doc_url = _start_terms(app, trio[0], workspace)
    early = browser.post(
        f"/workspaces/{workspace}/documents",
        data={"kind": "een", "title": "EEN", "marking": "OFFICIAL", "sections": ""},
    )
    assert early.status_code == 200 and "write the criteria and sub-questions" in _text(early)
    criteria = (
        "<ol><li>Leadership<ol><li>Is there a shared vision?</li><li>Are risks &amp; "
        "issues escalated?</li></ol></li><li>Pre-release planning</li></ol>"
    )
    assert _save_section(browser, doc_url, "criteria", 1, criteria).status_code == 302
    created = browser.post(
        f"/workspaces/{workspace}/documents",
        data={"kind": "een", "title": "EEN", "marking": "OFFICIAL", "sections": ""},
    )
    assert created.status_code == 302
    document_id = created.headers["Location"].rsplit("/", 1)[1]
    got = trio[1].call("GET", f"/api/v1/workspaces/{workspace}/documents/{document_id}")
    titles = [(s["key"], s["title"]) for s in got.get_json()["sections"]]
    assert titles == [
        ("criterion-1", "1 Leadership"),
        ("criterion-1-1", "1.1 Is there a shared vision?"),
        ("criterion-1-2", "1.2 Are risks & issues escalated?"),
        ("criterion-2", "2 Pre-release planning"),
    ]
    assert "Evaluation" in got.get_json()["sections"][0]["body"]
    # The API builds the same when no sections are sent; other kinds still need sections.
    api = trio[0].call(
        "POST", f"/api/v1/workspaces/{workspace}/documents", {"kind": "een", "title": "EEN 2"}
    )
    assert api.status_code == 201 and len(api.get_json()["sections"]) == 4
    bare = trio[0].call(
        "POST", f"/api/v1/workspaces/{workspace}/documents", {"kind": "report", "title": "R"}
    )
    assert bare.status_code == 422 and "at least one section" in str(bare.get_json())
