"""Stakeholder directories (import with a row-by-row report, export with formulas
neutralised, privacy) and consolidated lists (each person once, decisions remembered)."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shared_workspace.stakeholders import directory
from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone
from tests.tenants.fixtures import sign_in

HEADER = "title,given_name,family_name,role,organisation,emails,phones,category,notes\n"


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


def _upload(party: Inspectorate, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return party.client.post(
        "/api/v1/stakeholders/imports",
        data={"file": (io.BytesIO(data), name)},
        headers=party.headers,
        content_type="multipart/form-data",
    )


def _import(party: Inspectorate, text: str) -> dict:  # type: ignore[type-arg]
    preview = _upload(party, "list.csv", (HEADER + text).encode())
    assert preview.status_code == 201, preview.get_json()
    committed = party.call(
        "POST", f"/api/v1/stakeholders/imports/{preview.get_json()['id']}/commit"
    )
    assert committed.status_code == 200
    return committed.get_json()


def test_an_import_reports_every_row_and_drops_nothing_silently(trio) -> None:
    rows = (
        "Ms,Jane,Smith,Chief Executive,Ministry of Justice,"
        "jane.smith@justice.gov.uk,020 3334 3555,sponsoring_department,\n"
        "Mr,Bob,Jones,Head of Unit,HMPPS,not-an-email,,criminal_justice_partner,\n"
        "Dr,Amy,Lee,Researcher,University,amy@uni.ac.uk,12345,academic,\n"
        ",,,,,,,,\n"
        "Ms,Jane,Smith,Chief Executive,Ministry of Justice,"
        "jane.smith@justice.gov.uk,,sponsoring_department,\n"
        'Mr,Sam,Hill,Press officer,=HYPERLINK("http://evil"),sam@press.example.org,,media,\n'
        "Mx,Kim,Ray,Clerk,Court,kim@court.example.org,,unknown_category,\n"
    )
    preview = _upload(trio[0], "list.csv", (HEADER + rows).encode()).get_json()
    by_line = {r["line"]: r for r in preview["rows"]}
    assert sorted(by_line) == [2, 3, 4, 6, 7, 8]  # the blank line 5 holds nothing to import
    assert by_line[2]["errors"] == []
    assert "not a valid address" in " ".join(by_line[3]["errors"])
    assert "not a valid phone number" in " ".join(by_line[4]["errors"])
    assert "the same stakeholder as line 2" in " ".join(by_line[6]["errors"])
    assert "never run as a formula" in " ".join(by_line[7]["warnings"])
    assert "not one of" in " ".join(by_line[8]["errors"])
    assert (preview["accepted"], preview["rejected"]) == (2, 4)
    committed = trio[0].call("POST", f"/api/v1/stakeholders/imports/{preview['id']}/commit")
    assert committed.get_json()["imported"] == 2
    again = trio[0].call("POST", f"/api/v1/stakeholders/imports/{preview['id']}/commit")
    assert again.status_code == 422


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("list.csv", b"name,address\nx,y\n", 422, "The first row must name the columns"),
        ("list.csv", b"", 422, "empty"),
        ("list.pdf", b"%PDF-1.4", 422, "Upload a .csv or .xlsx file"),
        ("list.xlsx", b"PK\x03\x04 not really", 422, "not a readable .xlsx"),
        ("big.csv", b"x" * (directory.MAX_IMPORT_BYTES + 1), 413, "the limit is 10 MB"),
    ],
)
def test_bad_files_are_refused_with_a_reason(trio, name, data, status, message) -> None:
    response = _upload(trio[0], name, data)
    assert response.status_code == status
    assert message in response.get_json()["detail"]


def test_a_200_mb_file_is_refused_before_it_is_read_with_the_import_limit(trio) -> None:
    """A 200 MB body is refused from its Content-Length, by the API and by the page, and
    both say the import limit (not the app's general one)."""
    declared = {"CONTENT_LENGTH": str(200 * 1024 * 1024)}
    party = trio[0]
    response = party.client.post(
        "/api/v1/stakeholders/imports",
        data={"file": (io.BytesIO(b"given_name\n"), "huge.csv")},
        headers=party.headers,
        content_type="multipart/form-data",
        environ_overrides=declared,
    )
    assert response.status_code == 413
    assert "larger than 10 MB" in response.get_json()["detail"]
    from tests.tenants.fixtures import sign_in

    sign_in(party.client, party.user)
    page = party.client.post(
        "/stakeholders/import",
        data={"file": (io.BytesIO(b"given_name\n"), "huge.csv")},
        content_type="multipart/form-data",
        environ_overrides=declared,
    )
    assert page.status_code == 413
    assert "larger than 10 MB" in page.get_data(as_text=True)


def test_stray_quotes_and_windows_text_are_reported_not_guessed(trio) -> None:
    data = (HEADER + 'Ms,Zoë,Brontë,Director,"Unclosed org,zoe@x.org,,other,\n').encode("cp1252")
    preview = _upload(trio[0], "list.csv", data).get_json()
    notes = [r for r in preview["rows"] if r["line"] == 0][0]["warnings"]
    assert "read as Windows-1252" in notes[0]
    assert all(r["line"] == 0 or r["errors"] for r in preview["rows"])


def test_a_stray_quote_costs_its_own_line_and_every_later_row_is_read(trio) -> None:
    rows = (
        'Ms,Zoe,Bronte,Director,"Unclosed org,zoe@x.org,,other,\n'
        "Mr,Ade,Okafor,Clerk,Court,ade@court.example.org,,other,\n"
        'Dr,Amy,Lee,Researcher,University,amy@uni.ac.uk,,academic,"Flat 2\n10 High Street"\n'
        'Ms,Ann,"Bad"quote,Clerk,Court,ann@court.example.org,,other,\n'
        "Mx,Kim,Ray,Clerk,Court,kim@court.example.org,,other,\n"
    )
    preview = _upload(trio[0], "list.csv", (HEADER + rows).encode()).get_json()
    by_line = {r["line"]: r for r in preview["rows"] if r["line"]}
    assert sorted(by_line) == [2, 3, 4, 6, 7]  # line 5 is the address's second line
    assert "never closed" in " ".join(by_line[2]["errors"])
    assert "check its quotes" in " ".join(by_line[6]["errors"])
    assert [by_line[n]["errors"] for n in (3, 4, 7)] == [[], [], []]
    assert preview["accepted"] == 3 and preview["rejected"] == 2


def test_xlsx_imports_like_csv(trio) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["given_name", "family_name", "organisation", "emails", "category"])
    sheet.append(["Priya", "Patel", "CPS London North", "priya.patel@cps.gov.uk", "inspected_body"])
    buffer = io.BytesIO()
    book.save(buffer)
    preview = _upload(trio[0], "list.xlsx", buffer.getvalue()).get_json()
    assert preview["accepted"] == 1


def test_export_neutralises_formulas(trio) -> None:
    _import(trio[0], 'Mr,Sam,Hill,Press officer,"=1+2",sam@press.example.org,,media,\n')
    browser = trio[0].client
    from tests.tenants.fixtures import sign_in

    sign_in(browser, trio[0].user)
    text = browser.get("/stakeholders/export.csv").get_data(as_text=True)
    assert "'=1+2" in text and ",=1+2" not in text


def test_directories_are_private_and_nominations_share_only_sending_fields(trio, workspace) -> None:
    lead, prisons, _ = trio
    _import(prisons, "Ms,Jane,Smith,Chief Executive,MoJ,jane@justice.gov.uk,,other,SECRET NOTE\n")
    assert lead.call("GET", "/api/v1/stakeholders").get_json() == []
    entry = prisons.call("GET", "/api/v1/stakeholders").get_json()[0]
    assert lead.call("GET", f"/api/v1/stakeholders/{entry['id']}").status_code == 404
    prisons.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/stakeholders/nominations",
        {"entry_ids": [entry["id"]]},
    )
    seen = lead.call("GET", f"/api/v1/workspaces/{workspace}/stakeholders/nominations")
    assert "SECRET NOTE" not in seen.get_data(as_text=True)
    assert seen.get_json()[0]["name"] == "Ms Jane Smith"
    foreign = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/stakeholders/nominations",
        {"entry_ids": [entry["id"]]},
    )
    assert foreign.status_code == 422  # not in the lead's own directory


def test_do_not_contact_entries_cannot_be_nominated(trio, workspace) -> None:
    entry = (
        trio[0]
        .call(
            "POST",
            "/api/v1/stakeholders",
            {"given_name": "Al", "family_name": "Ng", "do_not_contact": True},
        )
        .get_json()
    )
    response = trio[0].call(
        "POST",
        f"/api/v1/workspaces/{workspace}/stakeholders/nominations",
        {"entry_ids": [entry["id"]]},
    )
    assert response.status_code == 422 and "do not contact" in response.get_json()["detail"]


def _nominate_all(party: Inspectorate, ws: int) -> None:
    ids = [e["id"] for e in party.call("GET", "/api/v1/stakeholders").get_json()]
    response = party.call(
        "POST", f"/api/v1/workspaces/{ws}/stakeholders/nominations", {"entry_ids": ids}
    )
    assert response.status_code == 201


def _build(party: Inspectorate, ws: int) -> list[dict]:  # type: ignore[type-arg]
    assert party.call("POST", f"/api/v1/workspaces/{ws}/stakeholders/list/build").status_code == 202
    state = party.call("GET", f"/api/v1/workspaces/{ws}/stakeholders/list").get_json()
    assert state["status"] == "ready", state
    return party.call("GET", f"/api/v1/workspaces/{ws}/stakeholders/recipients").get_json()


def test_the_consolidated_list_has_each_person_once(trio, workspace) -> None:
    lead, prisons, cfrs = trio
    _import(
        lead,
        "Mrs,Jane,Smith,Chief Executive,Ministry of Justice,"
        "jane.smith@justice.gov.uk,,sponsoring_department,lead notes\n",
    )
    _import(
        prisons,
        "Ms,JANE,SMITH,Chief executive,MoJ,Jane.Smith@Justice.gov.uk,,"
        "sponsoring_department,prisons notes\n",
    )
    _import(
        cfrs,
        "Mr,John,Smith,Chief Constable,Greater Manchester Police,"
        "john.smith@gmp.police.uk,,criminal_justice_partner,\n",
    )
    for party in trio:
        _nominate_all(party, workspace)
    recipients = _build(lead, workspace)
    assert len(recipients) == 2
    jane = next(r for r in recipients if "Jane" in r["name"] or "JANE" in r["name"])
    assert {s["tenant_id"] for s in jane["sources"]} == {lead.tenant.id, prisons.tenant.id}
    assert jane["sender"] == "hmiprobation"  # the lead sends to everyone by default
    assert jane["reasons"] and jane["reasons"][0]["reasons"]
    body = str(recipients)
    assert "notes" not in body and "tags" not in body


def test_each_inspectorate_sends_to_its_own_when_agreed(trio, workspace) -> None:
    lead, prisons, _ = trio
    _import(
        prisons, "Ms,Ann,Bell,Governor,HMP Manchester,ann.bell@justice.gov.uk,,inspected_body,\n"
    )
    _nominate_all(prisons, workspace)
    refused = prisons.call(
        "PUT", f"/api/v1/workspaces/{workspace}/stakeholders/list/mode", {"mode": "each_sends_own"}
    )
    assert refused.status_code == 422
    lead.call(
        "PUT", f"/api/v1/workspaces/{workspace}/stakeholders/list/mode", {"mode": "each_sends_own"}
    )
    assert _build(lead, workspace)[0]["sender"] == "hmiprisons"


def test_review_decisions_are_remembered_and_never_asked_again(trio, workspace) -> None:
    lead, prisons, _ = trio
    _import(
        lead,
        "Dr,Robert,Brown,Head of Research,University of Leeds,r.brown@leeds.ac.uk,,academic,\n",
    )
    _import(prisons, "Dr,Bob,Brown,Researcher,Leeds University,,,academic,\n")
    _nominate_all(lead, workspace)
    _nominate_all(prisons, workspace)
    recipients = _build(lead, workspace)
    queue = lead.call("GET", f"/api/v1/workspaces/{workspace}/stakeholders/review").get_json()
    # Same family name and initial, organisation alias, no shared email: a person decides.
    assert (len(recipients), len(queue)) == (2, 1), (recipients, queue)
    pair = queue[0]
    decided = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/stakeholders/decisions",
        {"left_id": pair["left"]["id"], "right_id": pair["right"]["id"], "same": True},
    )
    assert decided.status_code == 204
    assert len(_build(lead, workspace)) == 1
    assert lead.call("GET", f"/api/v1/workspaces/{workspace}/stakeholders/review").get_json() == []


def test_a_large_import_is_checked_by_a_job_with_progress(trio) -> None:
    rows = "".join(
        f"Ms,Person{i},Family{i},Officer,Org {i % 50},p{i}@example.org,,other,\n"
        for i in range(6000)
    )
    data = (HEADER + rows + "Mr,Bad,Email,,Org,not-an-email,,other,\n").encode()
    assert len(data) > directory.SYNC_IMPORT_BYTES
    started = _upload(trio[0], "big.csv", data)
    assert started.status_code == 202
    assert started.get_json()["status"] == "reading"
    # The job ran when the request committed (in-process runner in tests).
    done = trio[0].call("GET", f"/api/v1/stakeholders/imports/{started.get_json()['id']}")
    body = done.get_json()
    assert (body["status"], body["progress"]) == ("previewed", 100)
    assert (body["accepted"], body["rejected"]) == (6000, 1)
    committed = trio[0].call(
        "POST", f"/api/v1/stakeholders/imports/{started.get_json()['id']}/commit"
    )
    assert committed.get_json()["imported"] == 6000


TAGGED_HEADER = "given_name,family_name,role,organisation,emails,category,tags,notes\n"


def test_other_inspectorates_never_see_tags_or_notes_of_a_nomination(trio, workspace) -> None:
    lead, prisons, _ = trio
    preview = _upload(
        prisons,
        "tagged.csv",
        (
            TAGGED_HEADER + "Ann,Bell,Governor,HMP Leeds,ann.bell@justice.gov.uk,inspected_body,"
            "vip;difficult-relationship,PRIVATE NOTE\n"
        ).encode(),
    ).get_json()
    prisons.call("POST", f"/api/v1/stakeholders/imports/{preview['id']}/commit")
    (entry,) = prisons.call("GET", "/api/v1/stakeholders").get_json()
    assert entry["tags"] == ["vip", "difficult-relationship"]  # the owner sees its own tags
    _nominate_all(prisons, workspace)
    _build(lead, workspace)
    sign_in(lead.client, lead.user)
    seen = "".join(
        lead.client.get(url).get_data(as_text=True)
        for url in (
            f"/workspaces/{workspace}/stakeholders",
            f"/workspaces/{workspace}/stakeholders.csv",
        )
    ) + "".join(
        lead.call("GET", f"/api/v1/workspaces/{workspace}/stakeholders/{what}").get_data(
            as_text=True
        )
        for what in ("nominations", "recipients", "review")
    )
    assert "Ann" in seen
    for private in ("vip", "difficult-relationship", "PRIVATE NOTE"):
        assert private not in seen


def test_the_consolidated_list_downloads_as_csv_with_formulas_neutralised(trio, workspace) -> None:
    lead, prisons, _ = trio
    _import(prisons, "Mr,Sam,Hill,\"=cmd|' /C calc'!A0\",Press,sam@press.example.org,,media,\n")
    _import(lead, "Ms,Ann,Bell,Governor,HMP Leeds,ann.bell@justice.gov.uk,,inspected_body,\n")
    _nominate_all(prisons, workspace)
    _nominate_all(lead, workspace)
    _build(lead, workspace)
    sign_in(lead.client, lead.user)
    response = lead.client.get(f"/workspaces/{workspace}/stakeholders.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["name", "role", "organisation", "email"]
    by_email = {row[3]: row for row in rows[1:]}
    assert set(by_email) == {"sam@press.example.org", "ann.bell@justice.gov.uk"}
    assert by_email["sam@press.example.org"][1].startswith("'=")  # never run as a formula
    assert by_email["sam@press.example.org"][7] == prisons.tenant.short_name


def test_changing_who_sends_moves_the_built_list_and_its_decision_subject(
    trio, workspace, session
) -> None:
    from sqlalchemy import select

    from shared_workspace.models import Subject
    from shared_workspace.stakeholders.models import DistributionList

    lead, prisons, _ = trio
    _import(prisons, "Ms,Ann,Bell,Governor,HMP Leeds,ann.bell@justice.gov.uk,,inspected_body,\n")
    _nominate_all(prisons, workspace)
    assert _build(lead, workspace)[0]["sender"] == "hmiprobation"
    listing = session.scalar(
        select(DistributionList).where(DistributionList.workspace_id == workspace)
    )
    before = session.get(Subject, listing.subject_id).content_hash
    changed = lead.call(
        "PUT", f"/api/v1/workspaces/{workspace}/stakeholders/list/mode", {"mode": "each_sends_own"}
    )
    assert changed.status_code == 200
    recipients = lead.call("GET", f"/api/v1/workspaces/{workspace}/stakeholders/recipients")
    assert recipients.get_json()[0]["sender"] == "hmiprisons"  # no rebuild needed
    session.expire_all()
    assert session.get(Subject, listing.subject_id).content_hash != before
