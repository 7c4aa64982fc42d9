"""Drafts circulated to critical readers and the inspected body (001 §39, §41): working-day
deadlines over bank holidays, reminders, and each comment with the team's response."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from tests.shared_workspace.fixtures import Inspectorate, inspectorate
from tests.shared_workspace.publication.helpers import travel
from tests.tenants.fixtures import sign_in


def _draft(lead: Inspectorate, ws: int) -> int:
    return lead.call(
        "POST",
        f"/api/v1/workspaces/{ws}/documents",
        {"kind": "report", "title": "Draft", "sections": [{"title": "S", "body": "<p>x</p>"}]},
    ).get_json()["id"]


def _circulate(lead: Inspectorate, ws: int, **extra) -> dict:  # type: ignore[no-untyped-def, type-arg]
    body = {
        "document_id": _draft(lead, ws),
        "recipient": "Ann Bell",
        "organisation": "HMP Manchester",
        "kind": "inspected_body",
        "sent_on": "2026-12-21",
        **extra,
    }
    response = lead.call("POST", f"/api/v1/workspaces/{ws}/circulations", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_factual_accuracy_deadlines_count_working_days_over_bank_holidays(trio, workspace) -> None:
    travel(date(2026, 12, 21))
    row = _circulate(trio[0], workspace)
    # 10 working days from Monday 21 December 2026 skip Christmas Day, Boxing Day (observed on
    # Monday 28th) and New Year's Day: Thursday 7 January 2027, not Monday 4th.
    assert row["due_on"] == "2027-01-07"
    assert row["working_days"] == 10 and row["version_number"] == 1
    hmcpsi = _circulate(trio[0], workspace, working_days=5)  # HMCPSI's five working days
    assert hmcpsi["due_on"] == "2026-12-30"  # Christmas and Boxing Day (28th) skipped
    easter = _circulate(trio[0], workspace, sent_on="2027-03-24", working_days=3)
    assert easter["due_on"] == "2027-03-31"  # over Good Friday and Easter Monday


def test_lead_inspectors_are_reminded_of_factual_accuracy_deadlines(
    trio, workspace, session
) -> None:
    from shared_workspace import reminders

    lead = trio[0]
    row = _circulate(lead, workspace, kind="critical_reader")
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


def test_each_comment_is_recorded_with_the_response_to_it(trio, workspace) -> None:
    lead, prisons, _cfrs = trio
    travel(date(2027, 1, 6))
    row = _circulate(lead, workspace)
    comments = f"/api/v1/workspaces/{workspace}/circulations/{row['id']}/comments"
    first = lead.call(
        "POST",
        comments,
        {
            "text": "The unit holds 120 men, not 102.",
            "reference": "Section 2, paragraph 2.3",
            "received_on": "2027-01-05",
        },
    )
    assert first.status_code == 201, first.get_json()
    first = first.get_json()
    assert first["source"] == "Ann Bell, HMP Manchester"  # who made it, by default the reader
    assert first["outcome"] is None and first["response"] == ""
    assert first["recorded_by"] == lead.user.name
    second = prisons.call(
        "POST",
        comments,
        {"text": "Resettlement is not our term.", "source": "Deputy Governor, HMP Manchester"},
    ).get_json()
    assert second["received_on"] == "2027-01-06"  # today, when not given
    circulation = lead.call("GET", f"/api/v1/workspaces/{workspace}/circulations").get_json()
    assert circulation[-1]["responded_on"] == "2027-01-05"  # the first comment's arrival

    travel(
        date(2027, 1, 7),
    )
    answered = prisons.call(
        "PUT",
        f"{comments}/{first['id']}/response",
        {"outcome": "accepted", "response": "Corrected to 120 in 2.3."},
    )
    assert answered.status_code == 200, answered.get_json()
    answered = answered.get_json()
    assert answered["outcome"] == "accepted"
    assert answered["response"] == "Corrected to 120 in 2.3."
    assert answered["responded_by"] == prisons.user.name
    assert answered["responded_at"].startswith("2027-01-07")
    lead.call(
        "PUT",
        f"{comments}/{second['id']}/response",
        {"outcome": "not_accepted", "response": "The term is in the terms of reference."},
    )
    [summary] = [
        c
        for c in lead.call("GET", f"/api/v1/workspaces/{workspace}/circulations").get_json()
        if c["id"] == row["id"]
    ]
    assert (summary["comments"], summary["awaiting_response"]) == (2, 0)
    listed = lead.call("GET", comments).get_json()
    assert [(c["text"], c["outcome"], c["responded_by"]) for c in listed] == [
        ("The unit holds 120 men, not 102.", "accepted", prisons.user.name),
        ("Resettlement is not our term.", "not_accepted", lead.user.name),
    ]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "text", "Missing data for required field."),
        ({"text": "   "}, "text", "Write the comment as it was made"),
        ({"text": "x", "received_on": "2026-12-20"}, "received_on", "cannot have arrived"),
        ({"text": "x", "received_on": "2027-02-01"}, "received_on", "in the future"),
        ({"text": "x", "received_on": "next week"}, "received_on", "Not a valid date."),
        ({"text": "x", "source": "s" * 301}, "source", "Say who made it in up to 300"),
        ({"text": "x", "colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_a_bad_comment_is_refused_and_nothing_is_stored(
    trio, workspace, body, field, message
) -> None:
    travel(date(2027, 1, 6))
    row = _circulate(trio[0], workspace)
    comments = f"/api/v1/workspaces/{workspace}/circulations/{row['id']}/comments"
    response = trio[0].call("POST", comments, body)
    assert response.status_code == 422, response.get_json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert any(message in m for m in response.get_json()["errors"][field])
    assert trio[0].call("GET", comments).get_json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "accepted"}, "response"),
        ({"outcome": "maybe", "response": "r"}, "outcome"),
        ({"outcome": "accepted", "response": "  "}, "response"),
        ({"response": "r"}, "outcome"),
    ],
)
def test_a_bad_response_is_refused_and_the_comment_is_unchanged(
    trio, workspace, body, field
) -> None:
    travel(date(2027, 1, 6))
    row = _circulate(trio[0], workspace)
    comments = f"/api/v1/workspaces/{workspace}/circulations/{row['id']}/comments"
    comment = trio[0].call("POST", comments, {"text": "Wrong date"}).get_json()
    response = trio[0].call("PUT", f"{comments}/{comment['id']}/response", body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    [unchanged] = trio[0].call("GET", comments).get_json()
    assert unchanged["outcome"] is None and unchanged["responded_at"] is None


def test_comments_stay_inside_their_inspection(
    app: Flask, client, session, trio, workspace
) -> None:
    travel(date(2027, 1, 6))
    lead = trio[0]
    row = _circulate(lead, workspace)
    comments = f"/api/v1/workspaces/{workspace}/circulations/{row['id']}/comments"
    comment = lead.call("POST", comments, {"text": "Wrong date"}).get_json()
    outsider = inspectorate(session, client, "hmcpsi", embargoed_copy=True)
    assert outsider.call("GET", comments).status_code == 404
    assert outsider.call("POST", comments, {"text": "Planted"}).status_code == 404
    answer = {"outcome": "accepted", "response": "Hijacked"}
    assert outsider.call("PUT", f"{comments}/{comment['id']}/response", answer).status_code == 404
    # A comment named under another circulation of the same inspection is not found either.
    other = _circulate(lead, workspace, recipient="Omar Khan")
    elsewhere = f"/api/v1/workspaces/{workspace}/circulations/{other['id']}/comments"
    assert lead.call("PUT", f"{elsewhere}/{comment['id']}/response", answer).status_code == 404
    # An inspection the outsider leads has its own comments; ours are not among them.
    own = outsider.call(
        "POST", "/api/v1/workspaces", {"title": "Own", "participants": ["hmiprisons"]}
    ).get_json()["id"]
    browser = app.test_client()
    sign_in(browser, outsider.user)
    page = browser.get(f"/workspaces/{workspace}/circulations/{row['id']}")
    assert page.status_code == 404 and "Wrong date" not in page.get_data(as_text=True)
    assert browser.get(f"/workspaces/{own}/circulations/{row['id']}").status_code == 404
    [kept] = lead.call("GET", comments).get_json()
    assert kept["text"] == "Wrong date" and kept["outcome"] is None


def test_the_circulation_page_records_comments_and_responses(app: Flask, trio, workspace) -> None:
    travel(date(2027, 1, 6))
    lead = trio[0]
    row = _circulate(lead, workspace)
    browser = app.test_client()
    sign_in(browser, lead.user)
    overview = browser.get(f"/workspaces/{workspace}/publication").get_data(as_text=True)
    assert f"/workspaces/{workspace}/circulations/{row['id']}" in overview
    page = f"/workspaces/{workspace}/circulations/{row['id']}"
    empty = browser.post(page, data={"action": "comment", "text": " "})
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    assert "There is a problem" in html and "Write the comment as it was made" in html
    added = browser.post(
        page,
        data={"action": "comment", "text": "120 men, not 102", "reference": "2.3"},
    )
    assert added.status_code == 302
    [comment] = lead.call(
        "GET", f"/api/v1/workspaces/{workspace}/circulations/{row['id']}/comments"
    ).get_json()
    missing = browser.post(
        page,
        data={"action": "respond", "comment_id": comment["id"], "response": "Corrected"},
    )
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert "Say whether the comment is accepted, partially or not" in html
    assert ">Corrected</textarea>" in html  # what was typed is shown again
    missing = browser.post(
        page, data={"action": "respond", "comment_id": comment["id"], "outcome": "accepted"}
    )
    assert missing.status_code == 422
    assert "Write the response to the comment: say what changes" in missing.get_data(as_text=True)
    answered = browser.post(
        page,
        data={
            "action": "respond",
            "comment_id": comment["id"],
            "outcome": "accepted",
            "response": "Corrected in 2.3",
        },
    )
    assert answered.status_code == 302
    shown = browser.get(page).get_data(as_text=True)
    assert "120 men, not 102" in shown and "Corrected in 2.3" in shown
    assert "Accepted: the draft is changed" in shown and lead.user.name in shown
    assert "Ann Bell, HMP Manchester, received 6 January 2027" in shown
    assert browser.post(page, data={"action": "respond", "comment_id": "x"}).status_code == 404


def test_the_publication_page_refuses_a_circulation_with_its_field_marked(
    app: Flask, trio, workspace
) -> None:

    lead = trio[0]
    draft = _draft(lead, workspace)
    browser = app.test_client()
    sign_in(browser, lead.user)
    page = f"/workspaces/{workspace}/publication"
    typed = {
        "action": "circulate",
        "document_id": str(draft),
        "recipient": "Ann Bell",
        "organisation": "HMP Manchester",
        "kind": "inspected_body",
        "sent_on": "",
        "working_days": "10",
    }
    refused = browser.post(page, data=typed)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "There is a problem" in html and 'href="#sent_on"' in html
    assert 'id="sent_on-error"' in html and 'value="Ann Bell"' in html
    assert '<option value="inspected_body" selected>' in html
    bad_days = browser.post(page, data={**typed, "sent_on": "2026-12-01", "working_days": "²"})
    assert bad_days.status_code == 422 and 'href="#working_days"' in bad_days.get_data(as_text=True)
    no_one = browser.post(page, data={**typed, "sent_on": "2026-12-01", "recipient": " "})
    assert no_one.status_code == 422 and 'id="recipient-error"' in no_one.get_data(as_text=True)
    assert lead.call("GET", f"/api/v1/workspaces/{workspace}/circulations").get_json() == []
    done = browser.post(page, data={**typed, "sent_on": "2026-12-01"})
    assert done.status_code == 302
