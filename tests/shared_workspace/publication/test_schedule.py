"""The publication plan (001 §42-43, `000`): embargoed copies five working days before
publication for inspectorates whose policy says so, the press notice to the inspected body
three working days before, the send job with the clock moved, warnings for a publication
date that is not a working day, the calendar view and the ICS export."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy.orm import Session

from app.clock import clock
from app.workdays import add_working_days, is_working_day
from shared_workspace.publication import schedule
from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone
from tests.shared_workspace.publication.helpers import (
    decision_of,
    new_mail,
    nominate,
    outbox,
    person,
    sign_off_report,
    travel,
)
from tests.tenants.fixtures import sign_in

#: Tuesday 5 January 2027: five working days back skip New Year's Day, Boxing Day (observed
#: Monday 28 December) and Christmas Day, so embargoed copies go on Thursday 24 December
#: and the press notice on Wednesday 30 December.
PUBLICATION = date(2027, 1, 5)
EMBARGO_DAY = date(2026, 12, 24)
PRESS_DAY = date(2026, 12, 30)

JANE = person("Jane", "Smith", "Ministry of Justice", "jane.smith@justice.gov.uk",
              "sponsoring_department")  # fmt: skip
PRIYA = person("Priya", "Shah", "Attorney General's Office", "priya.shah@ago.gov.uk",
               "sponsoring_department")  # fmt: skip
TOM = person("Tom", "Reid", "Ministry of Justice", "tom.reid@justice.gov.uk",
             "sponsoring_department")  # fmt: skip
RAJ = person("Raj", "Mehta", "Home Office", "raj.mehta@homeoffice.gov.uk",
             "sponsoring_department")  # fmt: skip
ANN = person("Ann", "Bell", "HMP Manchester", "ann.bell@justice.gov.uk", "inspected_body")


@pytest.fixture
def four(client: FlaskClient, session: Session) -> list[Inspectorate]:
    """Every founding policy: HMI Probation (lead), HMI Prisons and HMCPSI send embargoed
    copies to their sponsoring departments; HMICFRS does not (DOMAIN.md)."""
    return [
        inspectorate(session, client, "hmiprobation", embargoed_copy=True),
        inspectorate(session, client, "hmiprisons", embargoed_copy=True),
        inspectorate(session, client, "hmcpsi", embargoed_copy=True),
        inspectorate(session, client, "hmicfrs", embargoed_copy=False),
    ]


@pytest.fixture
def planned(four: list[Inspectorate]) -> int:
    """A joint inspection publishing on PUBLICATION whose four lists are consolidated: HMI
    Probation and HMI Prisons both nominate the same MoJ official, HMI Prisons another."""
    lead, prisons, cps, cfrs = four
    ws = lead.call(
        "POST",
        "/api/v1/workspaces",
        {"title": "Resettlement", "participants": ["hmiprisons", "hmcpsi", "hmicfrs"]},
    ).get_json()["id"]
    name_everyone(ws, *four)
    dated = lead.call(
        "PUT",
        f"/api/v1/workspaces/{ws}/publication-date",
        {"publication_date": str(PUBLICATION)},
    )
    assert dated.status_code == 200, dated.get_json()
    nominate(lead, ws, [JANE, ANN])
    nominate(prisons, ws, [JANE, TOM])
    nominate(cps, ws, [PRIYA])
    nominate(cfrs, ws, [RAJ])
    built = lead.call("POST", f"/api/v1/workspaces/{ws}/stakeholders/list/build")
    assert built.status_code in (200, 202), built.get_json()
    made = lead.call("POST", f"/api/v1/workspaces/{ws}/publication-schedule")
    assert made.status_code == 200, made.get_json()
    return ws


def _send_job(app: Flask) -> int:
    """Run the periodic send job as a worker would, in the app (and the test's transaction)."""
    with app.app_context():
        return schedule.send_scheduled()


def _sends(party: Inspectorate, ws: int, kind: str) -> list[dict]:  # type: ignore[type-arg]
    body = party.call("GET", f"/api/v1/workspaces/{ws}/publication-schedule").get_json()
    return [s for s in body["sends"] if s["kind"] == kind]


def _to(messages) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(m["To"] for m in messages)


def test_embargoed_copies_follow_each_senders_policy_five_working_days_before(
    app: Flask, four, planned
) -> None:
    lead = four[0]
    embargoes = _sends(lead, planned, "embargoed_copy")
    # HMI Probation, HMI Prisons and HMCPSI send to the departments they nominated; Jane
    # Smith, nominated by HMI Probation and HMI Prisons, gets one copy; HMICFRS's Home Office
    # contact gets none.
    assert sorted((s["recipient_name"], s["sender"], s["send_on"]) for s in embargoes) == [
        ("Jane Smith", "hmiprobation", str(EMBARGO_DAY)),
        ("Priya Shah", "hmcpsi", str(EMBARGO_DAY)),
        ("Tom Reid", "hmiprisons", str(EMBARGO_DAY)),
    ]
    assert str(add_working_days(PUBLICATION, -5)) == str(EMBARGO_DAY)

    before = outbox(app).messages()
    travel(EMBARGO_DAY - timedelta(days=1))
    assert _send_job(app) == 0  # the job: nothing is due the day before
    assert new_mail(app, before) == []

    travel(EMBARGO_DAY)
    assert _send_job(app) == 0  # the report is not signed off: nothing goes, nothing is lost
    assert new_mail(app, before) == []
    assert {s["delivery"] for s in _sends(lead, planned, "embargoed_copy")} == {
        "waiting: every inspectorate's chief inspector must sign off the final report first (§40)"
    }
    sign_off_report(four, planned)
    assert _send_job(app) == 3
    sent = new_mail(app, before)
    assert _to(sent) == [
        "jane.smith@justice.gov.uk",
        "priya.shah@ago.gov.uk",
        "tom.reid@justice.gov.uk",
    ]
    assert all(m["Subject"] == "Embargoed copy: Resettlement" for m in sent)
    assert (
        "under embargo until its publication on 5 January 2027" in sent[0].get_body().get_content()
    )
    for message in sent:
        assert [p.get_filename() for p in message.iter_attachments()] == [f"report-{planned}.pdf"]
    assert [s["status"] for s in _sends(lead, planned, "embargoed_copy")] == ["sent"] * 3
    assert _send_job(app) == 0  # once only
    assert len(new_mail(app, before)) == 3


def test_a_tenant_policy_change_moves_who_sends_embargoed_copies(four, planned, session) -> None:
    from app.db import set_context

    lead, _prisons, cps, cfrs = four
    set_context(session, tenant_id=None, platform_admin=True)
    cps.tenant.embargoed_copy = False
    cfrs.tenant.embargoed_copy = True
    session.commit()
    lead.call("POST", f"/api/v1/workspaces/{planned}/publication-schedule")
    assert sorted(
        (s["recipient_name"], s["sender"]) for s in _sends(lead, planned, "embargoed_copy")
    ) == [("Jane Smith", "hmiprobation"), ("Raj Mehta", "hmicfrs"), ("Tom Reid", "hmiprisons")]


def _agree_press_notice(four: list[Inspectorate], ws: int) -> None:
    lead = four[0]
    notice = lead.call("POST", f"/api/v1/workspaces/{ws}/media-strategy/press-notice")
    assert notice.status_code == 201, notice.get_json()
    proposed = lead.call(
        "POST",
        f"/api/v1/workspaces/{ws}/decisions",
        {"kind": "press_materials", "subject_id": notice.get_json()["subject_id"]},
    )
    assert proposed.status_code == 201, proposed.get_json()
    for party in four:
        answered = party.call(
            "POST",
            f"/api/v1/workspaces/{ws}/decisions/{proposed.get_json()['id']}/answer",
            {"approve": True},
        )
        assert answered.status_code == 200, answered.get_json()
    assert decision_of(lead, ws, "press_materials")["status"] == "agreed"


def test_the_press_notice_goes_to_the_inspected_body_three_working_days_before(
    app: Flask, four, planned
) -> None:
    lead = four[0]
    [press] = _sends(lead, planned, "press_notice")
    assert (press["recipient_name"], press["sender"], press["send_on"]) == (
        "Ann Bell",
        "hmiprobation",
        str(PRESS_DAY),
    )
    before = outbox(app).messages()
    travel(PRESS_DAY - timedelta(days=1))
    _send_job(app)
    assert "ann.bell@justice.gov.uk" not in _to(new_mail(app, before))

    travel(PRESS_DAY)
    _send_job(app)  # no press notice drafted yet: it waits, nothing goes to Ann
    assert "ann.bell@justice.gov.uk" not in _to(new_mail(app, before))
    [waiting] = _sends(lead, planned, "press_notice")
    assert waiting["status"] == "scheduled"
    assert waiting["delivery"] == (
        "waiting: the lead has not drafted the press notice (publication page)"
    )
    lead.call("POST", f"/api/v1/workspaces/{planned}/media-strategy/press-notice")
    _send_job(app)
    assert _sends(lead, planned, "press_notice")[0]["delivery"] == (
        "waiting: every inspectorate must agree the press notice first (§45)"
    )
    assert "ann.bell@justice.gov.uk" not in _to(new_mail(app, before))

    _agree_press_notice(four, planned)
    assert _send_job(app) == 1
    [message] = [m for m in new_mail(app, before) if m["To"] == "ann.bell@justice.gov.uk"]
    assert message["Subject"] == "Press notice to the inspected body: Resettlement"
    assert [p.get_filename() for p in message.iter_attachments()] == [f"press-notice-{planned}.pdf"]
    assert _sends(lead, planned, "press_notice")[0]["status"] == "sent"
    sign_off_report(four, planned)
    travel(PUBLICATION)
    _send_job(app)
    to_ann = [m for m in new_mail(app, before) if m["To"] == "ann.bell@justice.gov.uk"]
    assert [m["Subject"] for m in to_ann] == [
        "Press notice to the inspected body: Resettlement",
        "Report on publication: Resettlement",
    ]


def test_on_publication_day_everyone_gets_the_report_once(app: Flask, four, planned) -> None:
    lead = four[0]
    publication = _sends(lead, planned, "publication")
    assert sorted(s["recipient_name"] for s in publication) == [
        "Ann Bell",
        "Jane Smith",
        "Priya Shah",
        "Raj Mehta",
        "Tom Reid",
    ]
    assert {s["send_on"] for s in publication} == {str(PUBLICATION)}
    sign_off_report(four, planned)
    before = outbox(app).messages()
    travel(PUBLICATION)
    _send_job(app)
    reports = [m for m in new_mail(app, before) if m["Subject"].startswith("Report on")]
    assert all(
        [p.get_filename() for p in m.iter_attachments()] == [f"report-{planned}.pdf"]
        for m in reports
    )
    assert _to(reports) == [
        "ann.bell@justice.gov.uk",
        "jane.smith@justice.gov.uk",
        "priya.shah@ago.gov.uk",
        "raj.mehta@homeoffice.gov.uk",
        "tom.reid@justice.gov.uk",
    ]


def test_interviewees_are_thanked_on_publication_day(app, trio, workspace, session) -> None:
    lead = trio[0]
    travel(date(2027, 1, 4))
    lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/publication-date",
        {"publication_date": str(clock.today() + timedelta(days=30))},
    )
    nominate(
        lead,
        workspace,
        [person("Ann", "Bell", "HMP Manchester", "ann@x.org", "other")],
        purpose="both",
    )
    lead.call("POST", f"/api/v1/workspaces/{workspace}/stakeholders/list/build")
    lead.call("POST", f"/api/v1/workspaces/{workspace}/publication-schedule")
    sign_off_report(trio, workspace)
    with app.app_context():
        assert schedule.send_due(session, clock.today()) == 0
        day = clock.today() + timedelta(days=30)
        assert schedule.send_due(session, day) == 2  # the report and a thank-you (engaged)
        assert schedule.send_due(session, day) == 0


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2027, 1, 9), "Saturday"),
        (date(2027, 1, 10), "Sunday"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 28), "Boxing Day (observed)"),  # the 26th is a Saturday
        (date(2027, 5, 3), "May Day"),
        (date(2027, 8, 30), "Late Summer Bank Holiday"),
    ],
)
def test_a_publication_date_that_is_not_a_working_day_is_warned_about(
    app: Flask, trio, workspace, day: date, reason: str
) -> None:
    set_date = trio[0].call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/publication-date",
        {"publication_date": str(day)},
    )
    assert set_date.status_code == 200, set_date.get_json()
    body = trio[0].call("GET", f"/api/v1/workspaces/{workspace}/publication-schedule").get_json()
    assert body["warning"] == (
        f"{day:%-d %B %Y} is not a working day ({reason}): choose a weekday that is not a bank "
        "holiday"
    )
    browser = app.test_client()
    sign_in(browser, trio[0].user)
    page = browser.get(f"/workspaces/{workspace}/publication").get_data(as_text=True)
    assert f"is not a working day ({reason})" in page


def test_a_working_day_publication_date_has_no_warning(trio, workspace) -> None:
    trio[0].call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/publication-date",
        {"publication_date": str(PUBLICATION)},
    )
    body = trio[0].call("GET", f"/api/v1/workspaces/{workspace}/publication-schedule").get_json()
    assert body["warning"] is None


def test_only_the_lead_builds_the_schedule_and_it_needs_a_date_and_a_list(trio, workspace) -> None:
    lead, prisons, _cfrs = trio
    no_date = lead.call("POST", f"/api/v1/workspaces/{workspace}/publication-schedule")
    assert no_date.status_code == 409 and "publication date" in no_date.get_json()["detail"]
    lead.call(
        "PUT",
        f"/api/v1/workspaces/{workspace}/publication-date",
        {"publication_date": str(PUBLICATION)},
    )
    no_list = lead.call("POST", f"/api/v1/workspaces/{workspace}/publication-schedule")
    assert no_list.status_code == 409 and "Consolidate" in no_list.get_json()["detail"]
    refused = prisons.call("POST", f"/api/v1/workspaces/{workspace}/publication-schedule")
    assert refused.status_code == 422


def test_the_calendar_view_shows_each_send_on_its_day(app: Flask, four, planned) -> None:
    browser = app.test_client()
    sign_in(browser, four[2].user)  # any participant sees it
    response = browser.get(f"/workspaces/{planned}/publication/calendar")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "December 2026</caption>" in html and "January 2027</caption>" in html

    def cell(day: date) -> str:
        start = html.index(f'id="day-{day.isoformat()}"')
        return html[start : html.index("</td>", start)]

    assert "Embargoed copy: 3" in cell(EMBARGO_DAY)
    assert "Press notice to the inspected body: 1" in cell(PRESS_DAY)
    assert "Publication" in cell(PUBLICATION) and "Report on publication: 5" in cell(PUBLICATION)
    assert "Christmas Day" in html and "New Year" in html
    assert html.count('id="day-') == 3  # only days with something on them are anchored
    page = browser.get(f"/workspaces/{planned}/publication").get_data(as_text=True)
    assert f"/workspaces/{planned}/publication/calendar" in page


def test_the_calendar_is_empty_before_anything_is_planned(app: Flask, trio, workspace) -> None:
    browser = app.test_client()
    sign_in(browser, trio[0].user)
    html = browser.get(f"/workspaces/{workspace}/publication/calendar").get_data(as_text=True)
    assert "Nothing scheduled yet" in html


def test_the_ics_export_has_an_event_per_day_and_kind_of_send(app: Flask, four, planned) -> None:
    browser = app.test_client()
    sign_in(browser, four[0].user)
    response = browser.get(f"/workspaces/{planned}/publication.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"BEGIN:VCALENDAR\r\n")
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["VERSION"]) == "2.0" and "CJJI" in str(calendar["PRODID"])
    events = {(str(e["SUMMARY"]), e.decoded("DTSTART")): e for e in calendar.walk("VEVENT")}
    assert sorted(events) == [
        ("Embargoed copy: Resettlement (3)", EMBARGO_DAY),
        ("Press notice to the inspected body: Resettlement (1)", PRESS_DAY),
        ("Publication: Resettlement", PUBLICATION),
        ("Report on publication: Resettlement (5)", PUBLICATION),
    ]
    embargo = events[("Embargoed copy: Resettlement (3)", EMBARGO_DAY)]
    assert str(embargo["DESCRIPTION"]).splitlines() == [
        "Jane Smith <jane.smith@justice.gov.uk>",
        "Priya Shah <priya.shah@ago.gov.uk>",
        "Tom Reid <tom.reid@justice.gov.uk>",
    ]
    for event in events.values():
        assert event.decoded("DTEND") == event.decoded("DTSTART") + timedelta(days=1)
        assert is_working_day(event.decoded("DTSTART"))
    uids = [str(e["UID"]) for e in events.values()]
    assert len(set(uids)) == len(uids) and all(u.endswith("@cjji.example.gov.uk") for u in uids)


def test_working_days_skip_weekends_and_england_and_wales_bank_holidays() -> None:
    assert add_working_days(date(2026, 12, 22), 3) == date(2026, 12, 29)
    assert add_working_days(date(2027, 1, 4), -5) == date(2026, 12, 23)
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 1)  # summer bank holiday
    # St Andrew's Day and St Patrick's Day are holidays elsewhere in the UK, not here.
    assert is_working_day(date(2026, 11, 30)) and is_working_day(date(2027, 3, 17))


def test_an_embargoed_copy_still_waiting_on_publication_day_is_not_sent_late(
    app: Flask, four, planned
) -> None:
    lead = four[0]
    before = outbox(app).messages()
    travel(PUBLICATION)  # the report was never signed off in time
    assert _send_job(app) == 0
    assert new_mail(app, before) == []
    embargoes = _sends(lead, planned, "embargoed_copy")
    assert {s["status"] for s in embargoes} == {"failed"}
    assert {s["delivery"] for s in embargoes} == {
        "not sent before publication on 5 January 2027: every inspectorate's chief inspector "
        "must sign off the final report first (§40)"
    }
    [press] = _sends(lead, planned, "press_notice")
    assert press["status"] == "failed" and "the lead has not drafted" in press["delivery"]
    # The report itself still waits for sign-off, then goes.
    assert {s["status"] for s in _sends(lead, planned, "publication")} == {"scheduled"}
    sign_off_report(four, planned)
    assert _send_job(app) == 5
    assert {m["Subject"] for m in new_mail(app, before)} == {"Report on publication: Resettlement"}
