"""One joint inspection led by HMI Probation with HMI Prisons and HMICFRS, from stage 1 to
publication through the API: every gate blocks before its condition and opens after it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shared_workspace.models import WorkspaceRole
from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone


@pytest.fixture
def parties(client: FlaskClient, session: Session) -> dict[str, Inspectorate]:
    return {
        slug: inspectorate(session, client, slug, senior_oversight_title=title)
        for slug, title in [
            ("hmiprobation", "Head of Thematic and Joint Inspection"),
            ("hmiprisons", "Team Leader"),
            ("hmicfrs", "Portfolio Director / Assistant Portfolio Director"),
            ("hmcpsi", "Deputy Chief Inspector"),
        ]
    }


def _blocked(response, *phrases: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 409, response.get_json()
    body = response.get_json()
    assert body["mimetype"] if False else True
    text = " ".join(body["errors"]["gate"])
    for phrase in phrases:
        assert phrase in text, (phrase, text)


def _ok(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _agree(ws: int, kind: str, subject: int, voters: list[Inspectorate]) -> dict:
    lead = voters[0]
    decision = _ok(
        lead.call(
            "POST", f"/api/v1/workspaces/{ws}/decisions", {"kind": kind, "subject_id": subject}
        ),
        201,
    )
    for party in voters:
        decision = _ok(
            party.call(
                "POST",
                f"/api/v1/workspaces/{ws}/decisions/{decision['id']}/answer",
                {"approve": True},
            )
        )
    assert decision["status"] == "agreed", decision
    return decision


def _subject(lead: Inspectorate, ws: int, kind: str, content: dict) -> int:
    return _ok(
        lead.call(
            "POST",
            f"/api/v1/workspaces/{ws}/subjects",
            {"kind": kind, "title": kind.replace("_", " "), "content": content},
        ),
        201,
    )["id"]


def test_a_joint_inspection_from_planning_to_publication(parties) -> None:  # noqa: PLR0915
    probation, prisons, cfrs, cps = (
        parties[s] for s in ("hmiprobation", "hmiprisons", "hmicfrs", "hmcpsi")
    )
    everyone = [probation, prisons, cfrs]
    ws_body = _ok(
        probation.call(
            "POST",
            "/api/v1/workspaces",
            {
                "title": "Joint thematic inspection of resettlement",
                "participants": ["hmiprisons", "hmicfrs"],
                "publication_date": "2027-09-01",
            },
        ),
        201,
    )
    ws = ws_body["id"]
    assert ws_body["lead"] == "hmiprobation" and len(ws_body["participants"]) == 3
    assert ws_body["recommendations_word"] == "recommendations"

    # Stage 1 cannot be left until every participant names its lead inspector and oversight.
    _blocked(
        probation.call("POST", f"/api/v1/workspaces/{ws}/stage"),
        "HMIPRISONS has not named its lead inspector",
        "Team Leader",
        "Portfolio Director",
    )
    name_everyone(ws, probation, prisons)
    _blocked(
        probation.call("POST", f"/api/v1/workspaces/{ws}/stage"),
        "HMICFRS has not named its lead inspector",
    )
    name_everyone(ws, cfrs)

    # Terms of reference are published only once every inspectorate has agreed them (§9).
    terms = _subject(
        probation,
        ws,
        "terms_of_reference",
        {"background": "Why now", "aims": "What for", "question": "Is resettlement effective?"},
    )
    _blocked(
        probation.call("POST", f"/api/v1/workspaces/{ws}/terms-of-reference/publish"),
        "terms of reference and scope decision is not agreed",
    )
    _agree(ws, "terms_of_reference", terms, everyone)
    assert _ok(probation.call("POST", f"/api/v1/workspaces/{ws}/terms-of-reference/publish"))[
        "terms_published_at"
    ]
    assert _ok(probation.call("POST", f"/api/v1/workspaces/{ws}/stage"))["stage"] == 2

    # Letters need every development group representative's authority (§17) and six weeks'
    # notice before that site's fieldwork (§16).
    start = date.today() + timedelta(days=60)
    site = _ok(
        probation.call(
            "POST",
            f"/api/v1/workspaces/{ws}/sites",
            {
                "name": "HMP Example",
                "body_type": "prison",
                "fieldwork_starts_on": start.isoformat(),
                "fieldwork_ends_on": (start + timedelta(days=4)).isoformat(),
            },
        ),
        201,
    )["id"]
    letters = f"/api/v1/workspaces/{ws}/sites/{site}/letters"
    soon = (start - timedelta(days=41)).isoformat()
    in_time = (start - timedelta(days=42)).isoformat()
    _blocked(
        probation.call("POST", letters, {"send_on": in_time}),
        "commissioning letters decision is not agreed",
    )
    letter_subject = _subject(probation, ws, "commissioning_letters", {"site": site, "body": "…"})
    decision = _ok(
        probation.call(
            "POST",
            f"/api/v1/workspaces/{ws}/decisions",
            {"kind": "commissioning_letters", "subject_id": letter_subject},
        ),
        201,
    )
    for party in [probation, prisons]:
        party.call(
            "POST", f"/api/v1/workspaces/{ws}/decisions/{decision['id']}/answer", {"approve": True}
        )
    _blocked(
        probation.call("POST", letters, {"send_on": in_time}),
        "commissioning letters decision is not agreed",
    )
    cfrs.call(
        "POST", f"/api/v1/workspaces/{ws}/decisions/{decision['id']}/answer", {"approve": True}
    )
    _blocked(probation.call("POST", letters, {"send_on": soon}), "less than six weeks")
    assert _ok(probation.call("POST", letters, {"send_on": in_time}))["letters_sent_on"] == in_time

    for expected in (3, 4, 5):
        assert _ok(probation.call("POST", f"/api/v1/workspaces/{ws}/stage"))["stage"] == expected

    # Drafting opens only after the emerging findings meeting and joint QA (§35).
    _blocked(
        probation.call("POST", f"/api/v1/workspaces/{ws}/stage"),
        "emerging findings meeting has not been recorded",
        "joint quality assurance",
    )
    _ok(
        probation.call(
            "POST", f"/api/v1/workspaces/{ws}/facts", {"emerging_findings_meeting_on": "2027-04-01"}
        )
    )
    _blocked(probation.call("POST", f"/api/v1/workspaces/{ws}/stage"), "joint quality assurance")
    _ok(
        probation.call(
            "POST", f"/api/v1/workspaces/{ws}/facts", {"joint_qa_concluded_on": "2027-04-08"}
        )
    )
    assert _ok(probation.call("POST", f"/api/v1/workspaces/{ws}/stage"))["stage"] == 6

    # The draft reaches HMIs/CIs after development group agreement (§37), and stakeholders
    # after HMI/CI approval (§38).
    draft = _subject(probation, ws, "report", {"version": "draft 1"})
    share = f"/api/v1/workspaces/{ws}/draft/share"
    _blocked(probation.call("POST", share, {"audience": "hmis"}), "draft report to hmis")
    _agree(ws, "draft_to_hmis", draft, everyone)
    shared = _ok(probation.call("POST", share, {"audience": "hmis"}))
    assert shared["draft_to_hmis_at"] and shared["draft_to_stakeholders_at"] is None
    _blocked(
        probation.call("POST", share, {"audience": "stakeholders"}), "draft report to stakeholders"
    )
    _agree(ws, "draft_to_stakeholders", draft, everyone)
    shared = _ok(probation.call("POST", share, {"audience": "stakeholders"}))
    assert shared["draft_to_stakeholders_at"] >= shared["draft_to_hmis_at"]

    # Publication needs the final report signed off by each HMI/CI (§40), the media strategy and
    # press materials agreed (principle 8) and the retention agreement agreed (§48).
    assert _ok(probation.call("POST", f"/api/v1/workspaces/{ws}/stage"))["stage"] == 7
    publish = f"/api/v1/workspaces/{ws}/publish"
    _blocked(
        probation.call("POST", publish),
        "final report decision",
        "media strategy",
        "press materials",
        "retention agreement",
    )
    for kind in ("final_report", "press_materials"):
        _agree(ws, kind, _subject(probation, ws, kind, {"v": 1}), everyone)
    # The media strategy must refer to or quote every participating chief inspector (§44).
    strategy_url = f"/api/v1/workspaces/{ws}/media-strategy"
    strategy = _ok(probation.call("PUT", strategy_url, {"quoted": ["hmiprobation", "hmiprisons"]}))
    left_out = probation.call(
        "POST",
        f"/api/v1/workspaces/{ws}/decisions",
        {"kind": "media_strategy", "subject_id": strategy["subject_id"]},
    )
    assert left_out.status_code == 422 and "Missing:" in left_out.get_json()["detail"]
    quoted = ["hmiprobation", "hmiprisons", "hmicfrs"]
    strategy = _ok(probation.call("PUT", strategy_url, {"quoted": quoted}))
    _agree(ws, "media_strategy", strategy["subject_id"], everyone)
    _blocked(probation.call("POST", publish), "retention agreement")
    _agree(
        ws,
        "retention_agreement",
        _subject(probation, ws, "retention_agreement", {"v": 1}),
        everyone,
    )
    assert _ok(probation.call("POST", publish))["published_at"]
    assert _ok(probation.call("POST", f"/api/v1/workspaces/{ws}/stage"))["stage"] == 8

    # A non-participating inspectorate sees nothing of it.
    assert cps.call("GET", f"/api/v1/workspaces/{ws}").status_code == 404
    assert cps.call("GET", f"/api/v1/workspaces/{ws}/decisions").status_code == 404
    assert ws not in {w["id"] for w in cps.call("GET", "/api/v1/workspaces").get_json()}


def test_only_the_lead_moves_stages_and_publishes(parties) -> None:
    probation, prisons = parties["hmiprobation"], parties["hmiprisons"]
    ws = _ok(
        probation.call(
            "POST", "/api/v1/workspaces", {"title": "T", "participants": ["hmiprisons"]}
        ),
        201,
    )["id"]
    name_everyone(
        ws, probation, prisons, roles=(WorkspaceRole.LEAD_INSPECTOR, WorkspaceRole.SENIOR_OVERSIGHT)
    )
    response = prisons.call("POST", f"/api/v1/workspaces/{ws}/stage")
    assert response.status_code == 422
    assert "Only the lead inspectorate" in response.get_json()["detail"]


def test_published_terms_of_reference_are_public_and_nothing_else_is(parties, app) -> None:
    probation, prisons, cfrs = (parties[s] for s in ("hmiprobation", "hmiprisons", "hmicfrs"))
    ws = _ok(
        probation.call(
            "POST",
            "/api/v1/workspaces",
            {"title": "Public thematic", "participants": ["hmiprisons", "hmicfrs"]},
        ),
        201,
    )["id"]
    hidden = _ok(
        probation.call(
            "POST",
            "/api/v1/workspaces",
            {"title": "Unpublished secret thematic", "participants": ["hmiprisons"]},
        ),
        201,
    )["id"]
    name_everyone(ws, probation, prisons, cfrs)
    terms = _subject(
        probation,
        ws,
        "terms_of_reference",
        {"background": "Why now", "question": "Does it work?", "methodology": ["Interviews"]},
    )
    anonymous = app.test_client()
    assert anonymous.get(f"/inspections-in-progress/{ws}").status_code == 404
    _agree(ws, "terms_of_reference", terms, [probation, prisons, cfrs])
    _ok(probation.call("POST", f"/api/v1/workspaces/{ws}/terms-of-reference/publish"))
    listing = anonymous.get("/inspections-in-progress").get_data(as_text=True)
    assert "Public thematic" in listing and "Unpublished secret" not in listing
    page = anonymous.get(f"/inspections-in-progress/{ws}")
    assert page.status_code == 200
    assert "Does it work?" in page.get_data(as_text=True)
    assert anonymous.get(f"/inspections-in-progress/{hidden}").status_code == 404
    # Later edits do not leak: the public page shows the version that was agreed.
    probation.call(
        "PUT",
        f"/api/v1/workspaces/{ws}/subjects/{terms}",
        {"content": {"question": "A draft nobody agreed"}},
    )
    assert "A draft nobody agreed" not in anonymous.get(f"/inspections-in-progress/{ws}").get_data(
        as_text=True
    )


def test_terms_of_reference_export_to_pdf_and_docx_audited(parties, app, session) -> None:
    import io
    import zipfile

    from sqlalchemy import select

    from app.audit import AuditEvent
    from app.db import set_context
    from tests.tenants.fixtures import sign_in

    probation, prisons = parties["hmiprobation"], parties["hmiprisons"]
    ws = _ok(
        probation.call(
            "POST",
            "/api/v1/workspaces",
            {"title": "Exported thematic", "participants": ["hmiprisons"]},
        ),
        201,
    )["id"]
    _subject(
        probation,
        ws,
        "terms_of_reference",
        {"background": "Why now", "question": "Does it work?", "criteria": ["One", "Two"]},
    )
    browser = app.test_client()
    sign_in(browser, prisons.user)
    pdf = browser.get(f"/workspaces/{ws}/terms-of-reference.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"
    docx = browser.get(f"/workspaces/{ws}/terms-of-reference.docx")
    document = zipfile.ZipFile(io.BytesIO(docx.data)).read("word/document.xml").decode()
    assert "Does it work?" in document and "Exported thematic" in document
    set_context(session, tenant_id=prisons.tenant.id)
    downloads = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "terms_of_reference.downloaded")
    ).all()
    assert {d.changes["format"] for d in downloads} == {"pdf", "docx"}
    outsider = app.test_client()
    sign_in(outsider, parties["hmcpsi"].user)
    assert outsider.get(f"/workspaces/{ws}/terms-of-reference.pdf").status_code == 404
