"""The recommendations tracker (001 §33, §46): SMART recommendations (concerns when HMI
Prisons leads) and, alongside with lower priority, issues to address (`000`); responses,
progress updates, quarterly CSV/XLSX exports, a public page and a named-problem import."""

from __future__ import annotations

import csv
import io

from flask import Flask
from openpyxl import load_workbook

from app.clock import clock
from tests.shared_workspace.fixtures import Inspectorate
from tests.tenants.fixtures import sign_in

SMART = {"measure": "Share of cases with a plan at 12 weeks", "due_on": "2027-06-30"}


def _add(party: Inspectorate, ws: int, **body):  # type: ignore[no-untyped-def]
    return party.call("POST", f"/api/v1/workspaces/{ws}/recommendations", body)


def _exports(app: Flask, party: Inspectorate, ws: int) -> tuple[list[list[str]], list[list]]:  # type: ignore[type-arg]
    browser = app.test_client()
    sign_in(browser, party.user)
    text = browser.get(f"/workspaces/{ws}/recommendations.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    book = load_workbook(io.BytesIO(browser.get(f"/workspaces/{ws}/recommendations.xlsx").data))
    cells = [[c.value for c in row] for row in book.active.iter_rows()]
    return rows, cells


def test_the_tracker_records_responses_and_exports(app, trio, workspace) -> None:
    lead = trio[0]
    vague = _add(lead, workspace, text="Do better", organisation="HMPPS")
    assert vague.status_code == 422 and "SMART" in vague.get_json()["detail"]
    rec = _add(
        lead,
        workspace,
        text="Start release planning twelve weeks before release",
        organisation="=HMPPS",
        **SMART,
    ).get_json()
    assert rec["number"] == 1 and rec["kind"] == "recommendation" and rec["priority"] == "priority"
    responded = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/recommendations/{rec['id']}/responses",
        {"status": "accepted", "action_taken": "New guidance issued", "responded_on": "2027-02-01"},
    )
    assert responded.status_code == 201
    rows, cells = _exports(app, lead, workspace)
    assert rows[0][:4] == ["number", "kind", "priority", "recommendation"]
    assert rows[1][2:8] == [
        "priority",
        "Start release planning twelve weeks before release",
        "'=HMPPS",  # never a formula
        "HMIPROBATION",
        SMART["measure"],
        SMART["due_on"],
    ]
    assert rows[1][8:11] == ["Accepted", "New guidance issued", "2027-02-01"]
    assert cells[1][3] == "Start release planning twelve weeks before release"
    assert cells[1][4] == "'=HMPPS"


def test_issues_to_address_are_recorded_alongside_with_lower_priority(app, trio, workspace) -> None:
    lead = trio[0]
    issue = _add(
        lead,
        workspace,
        kind="issue_to_address",
        text="Record release addresses consistently",
        organisation="HMPPS",
    )
    assert issue.status_code == 201, issue.get_json()  # no SMART measure needed
    assert issue.get_json()["priority"] == "lower"
    _add(lead, workspace, text="Plan release earlier", organisation="HMPPS", **SMART)
    listed = lead.call("GET", f"/api/v1/workspaces/{workspace}/recommendations").get_json()
    # Recommendations first, then the lower-priority issues, whatever order they came in.
    assert [(r["number"], r["kind"]) for r in listed] == [
        (2, "recommendation"),
        (1, "issue_to_address"),
    ]
    rows, cells = _exports(app, lead, workspace)
    assert [r[:3] for r in rows[1:]] == [
        ["2", "recommendation", "priority"],
        ["1", "issue to address", "lower"],
    ]
    assert [c[:3] for c in cells[1:]] == [
        [2, "recommendation", "priority"],
        [1, "issue to address", "lower"],
    ]
    browser = app.test_client()
    sign_in(browser, lead.user)
    page = browser.get(f"/workspaces/{workspace}/recommendations").get_data(as_text=True)
    assert "Issues to address (lower priority)" in page
    assert page.index("Plan release earlier") < page.index("Issues to address (lower priority)")
    assert page.index("Issues to address (lower priority)") < page.index(
        "Record release addresses consistently"
    )


def test_the_public_tracker_shows_published_inspections_only(app, trio, workspace, session) -> None:
    from sqlalchemy import update

    from app.db import set_context
    from shared_workspace.models import Workspace

    lead = trio[0]
    _add(lead, workspace, text="Plan earlier", organisation="HMPPS", **SMART)
    _add(lead, workspace, text="Tidy records", organisation="HMPPS", kind="issue_to_address")
    anonymous = app.test_client()
    assert anonymous.get(f"/recommendations-tracker/{workspace}").status_code == 404
    set_context(session, tenant_id=lead.tenant.id)
    session.execute(
        update(Workspace).where(Workspace.id == workspace).values(published_at=clock.now())
    )
    session.commit()
    page = anonymous.get(f"/recommendations-tracker/{workspace}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Plan earlier" in html and "Tidy records" in html
    assert "Issues to address (lower priority)" in html


def test_malformed_imported_recommendations_are_named_not_guessed(trio, workspace) -> None:
    data = (
        b"text,organisation,measure,due,kind\n"
        b"Plan earlier,HMPPS,Plans at 12 weeks,2027-06-30,\n"
        b",HMPPS,,,\n"
        b"Share data,Police,Share rate,next year,\n"
        b"Be better,CPS,,,\n"
        b"Tidy records,HMPPS,,,Issue to address\n"
        b"Mind the gap,HMPPS,,,suggestion\n"
    )
    response = trio[0].client.post(
        f"/api/v1/workspaces/{workspace}/recommendations/import",
        data={"file": (io.BytesIO(data), "recs.csv")},
        headers=trio[0].headers,
        content_type="multipart/form-data",
    )
    body = response.get_json()
    assert body["added"] == 2
    problems = " ".join(body["problems"])
    assert "line 3: text and organisation are needed" in problems
    assert "line 4: due must be a date" in problems
    assert "SMART" in problems  # "Be better" has no measure and is not an issue to address
    assert (
        "line 7: kind must be recommendation, concern or issue to address, not 'suggestion'"
        in problems
    )
    listed = trio[0].call("GET", f"/api/v1/workspaces/{workspace}/recommendations").get_json()
    assert [(r["text"], r["kind"]) for r in listed] == [
        ("Plan earlier", "recommendation"),
        ("Tidy records", "issue_to_address"),
    ]


def test_the_tracker_pages_refuse_with_an_error_summary_and_keep_what_was_typed(
    app: Flask, trio, workspace
) -> None:
    lead = trio[0]
    browser = app.test_client()
    sign_in(browser, lead.user)
    page = f"/workspaces/{workspace}/recommendations"
    refused = browser.post(page, data={"action": "add", "text": "Plan release earlier"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "There is a problem" in html and 'href="#organisation"' in html
    assert 'id="organisation-error"' in html and "Plan release earlier</textarea>" in html
    assert "<title>Error: " in html
    added = browser.post(
        page,
        data={"action": "add", "text": "Plan release earlier", "organisation": "HMPPS", **SMART},
    )
    assert added.status_code == 302
    (row,) = lead.call("GET", f"/api/v1/workspaces/{workspace}/recommendations").get_json()
    bad = browser.post(
        page,
        data={"action": "respond", "recommendation_id": row["id"], "status": "maybe"},
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert f'href="#status-{row["id"]}"' in html and f'id="status-{row["id"]}-error"' in html
    assert "Awaiting a response." in html  # nothing of the refused response was kept
