"""One joint inspection led by HMI Probation with HMI Prisons and HMICFRS, from stage 1 to
publication through the API: every gate blocks before its condition and opens after it.

Each inspectorate has the people a joint inspection names (001 §6): a lead inspector, its
senior oversight, a development group representative, its HMI / chief inspector and a records
manager, each holding only their own role, so an answer by the wrong person is refused. The
walk runs on the app's clock, pinned to a fixed day, never on the real date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.clock import LONDON, clock
from app.db import set_context
from app.mail import OutboxMailer
from shared_workspace.models import WorkspaceRole
from tenants import auth
from tenants.models import Role
from tests.shared_workspace.fixtures import Inspectorate
from tests.tenants.fixtures import create_tenant, create_user

#: The walk's first day (a Monday), whatever the real date is.
DAY_ONE = date(2027, 1, 11)

#: Who each inspectorate names, with the one tenant role and workspace role each holds.
PEOPLE = {
    "lead": (Role.LEAD_INSPECTOR, WorkspaceRole.LEAD_INSPECTOR),
    "oversight": (Role.SENIOR_OVERSIGHT, WorkspaceRole.SENIOR_OVERSIGHT),
    "rep": (Role.DEVELOPMENT_GROUP_REP, WorkspaceRole.DEVELOPMENT_GROUP_REP),
    "chief": (Role.CHIEF_INSPECTOR, WorkspaceRole.CHIEF_INSPECTOR),
    "records": (Role.RECORDS_MANAGER, WorkspaceRole.RECORDS_MANAGER),
}
#: What answer() says to someone without the kind's approver role.
ONLY_REPS = "Only your inspectorate's development group rep for this inspection can answer"
ONLY_CHIEFS = "Only your inspectorate's chief inspector for this inspection can answer"
ONLY_LEADS_OR_OVERSIGHT = (
    "Only your inspectorate's lead inspector or senior oversight for this inspection can answer"
)


def travel(day: date) -> date:
    """Put the app's clock at 9am London time on ``day``."""
    clock.reset()
    clock.advance(datetime.combine(day, time(9), LONDON) - clock.now())
    assert clock.today() == day
    return day


@dataclass
class Team:
    """One inspectorate's people in the inspection."""

    slug: str
    lead: Inspectorate
    oversight: Inspectorate
    rep: Inspectorate
    chief: Inspectorate
    records: Inspectorate

    def name_people(self, ws: int, *who: str) -> None:
        """The lead inspector names each of ``who`` (all by default) in their one role."""
        for key in who or PEOPLE:
            person: Inspectorate = getattr(self, key)
            response = self.lead.call(
                "POST",
                f"/api/v1/workspaces/{ws}/members",
                {"user_id": person.user.id, "role": PEOPLE[key][1].value},
            )
            assert response.status_code == 201, response.get_json()


def _person(  # type: ignore[no-untyped-def]
    session: Session, client: FlaskClient, tenant, slug: str, roles: list[Role]
) -> Inspectorate:
    """A user holding exactly ``roles``, with a read/write token lasting the whole walk."""
    label = "all roles" if len(roles) > 1 else roles[0].label
    user = create_user(session, tenant, roles=roles, name=f"{slug} {label}")
    set_context(session, tenant_id=tenant.id, user_id=user.id)
    _row, token = auth.create_token(
        session, user, name="api", scopes={"read", "write"}, days=auth.MAX_TOKEN_DAYS
    )
    session.commit()
    return Inspectorate(slug, tenant, user, token, client, {"Authorization": f"Bearer {token}"})


def team(session: Session, client: FlaskClient, slug: str, senior_oversight_title: str) -> Team:
    tenant = create_tenant(session, slug, senior_oversight_title=senior_oversight_title)
    return Team(
        slug,
        **{
            key: _person(session, client, tenant, slug, [role]) for key, (role, _) in PEOPLE.items()
        },
    )


@pytest.fixture
def day_one() -> date:
    """The app's clock on the walk's first day (conftest resets it after the test)."""
    return travel(DAY_ONE)


@pytest.fixture
def teams(client: FlaskClient, session: Session, day_one: date) -> dict[str, Team]:
    return {
        slug: team(session, client, slug, title)
        for slug, title in [
            ("hmiprobation", "Head of Thematic and Joint Inspection"),
            ("hmiprisons", "Team Leader"),
            ("hmicfrs", "Portfolio Director / Assistant Portfolio Director"),
        ]
    }


@pytest.fixture
def outsider(client: FlaskClient, session: Session, day_one: date) -> Inspectorate:
    """HMCPSI, not taking part, with one user holding every role it could hold."""
    tenant = create_tenant(session, "hmcpsi", senior_oversight_title="Deputy Chief Inspector")
    return _person(session, client, tenant, "hmcpsi", list(Role))


def _blocked(response, *missing: str, key: str = "gate") -> list[str]:  # type: ignore[no-untyped-def]
    """The action was refused as a closed gate (409) naming exactly ``missing``, in order: one
    phrase per thing still needed, nothing more, nothing less."""
    body = response.get_json()
    assert response.status_code == 409, body
    assert response.mimetype == "application/problem+json", response.mimetype
    reasons = body["errors"][key]
    assert len(reasons) == len(missing), (missing, reasons)
    for phrase, reason in zip(missing, reasons, strict=True):
        assert phrase in reason, (phrase, reason)
        assert reason in body["detail"], (reason, body["detail"])
    return reasons


def _ok(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _answer(person: Inspectorate, ws: int, decision: int, approve: bool = True):  # type: ignore[no-untyped-def]
    return person.call(
        "POST", f"/api/v1/workspaces/{ws}/decisions/{decision}/answer", {"approve": approve}
    )


def _refused(person: Inspectorate, ws: int, decision: int, message: str) -> None:
    """``person`` holds no approver role for the decision: their approval is refused,
    nothing of theirs is recorded and the decision is not agreed."""
    response = _answer(person, ws, decision)
    assert response.status_code == 422, response.get_json()
    assert message in response.get_json()["detail"], response.get_json()
    (row,) = [
        d
        for d in _ok(person.call("GET", f"/api/v1/workspaces/{ws}/decisions"))
        if d["id"] == decision
    ]
    assert row["status"] != "agreed"
    assert person.user.id not in {a["user_id"] for a in row["approvals"]}


def _approve(ws: int, decision: int, voters: list[Inspectorate], *, agrees: bool = True) -> dict:  # type: ignore[type-arg]
    """Each voter approves in turn; the decision stays open until the last, whose approval
    agrees it when ``agrees`` (the last inspectorate to answer)."""
    for n, person in enumerate(voters, start=1):
        body = _ok(_answer(person, ws, decision))
        assert body["status"] == ("agreed" if agrees and n == len(voters) else "open"), body
    return body


def _propose(proposer: Inspectorate, ws: int, kind: str, subject: int) -> int:
    return _ok(
        proposer.call(
            "POST", f"/api/v1/workspaces/{ws}/decisions", {"kind": kind, "subject_id": subject}
        ),
        201,
    )["id"]


def _agree(ws: int, kind: str, subject: int, voters: list[Inspectorate]) -> int:
    """The first voter (of the lead inspectorate) proposes it; every voter approves."""
    decision = _propose(voters[0], ws, kind, subject)
    _approve(ws, decision, voters)
    return decision


def _subject(lead: Inspectorate, ws: int, kind: str, content: dict) -> int:  # type: ignore[type-arg]
    return _ok(
        lead.call(
            "POST",
            f"/api/v1/workspaces/{ws}/subjects",
            {"kind": kind, "title": kind.replace("_", " "), "content": content},
        ),
        201,
    )["id"]


def _edit(lead: Inspectorate, ws: int, subject: int, content: dict) -> None:  # type: ignore[type-arg]
    assert (
        _ok(lead.call("PUT", f"/api/v1/workspaces/{ws}/subjects/{subject}", {"content": content}))[
            "version"
        ]
        > 1
    )


def _voided(person: Inspectorate, ws: int, decision: int) -> str:
    (row,) = [
        d
        for d in _ok(person.call("GET", f"/api/v1/workspaces/{ws}/decisions"))
        if d["id"] == decision
    ]
    assert row["status"] == "open" and all(a["voided_at"] for a in row["approvals"]), row
    return row["voided_reason"]


# --- commissioning letters (001 §15-17): one letter per site and addressee ---------------


def _letter(lead: Inspectorate, ws: int, site: int, name: str, email: str) -> dict:  # type: ignore[type-arg]
    return _ok(
        lead.call(
            "POST",
            f"/api/v1/workspaces/{ws}/letters",
            {
                "site_id": site,
                "addressee_name": name,
                "addressee_role": "Governor",
                "addressee_email": email,
                "title": "Joint thematic inspection of resettlement",
                "body": "<p>We will inspect resettlement work at your establishment.</p>",
            },
        ),
        201,
    )


def _ask_authority(lead: Inspectorate, ws: int, letter: int) -> int:
    """Ask every development group representative to authorise the letter: its decision."""
    before = {d["id"] for d in _ok(lead.call("GET", f"/api/v1/workspaces/{ws}/decisions"))}
    _ok(lead.call("POST", f"/api/v1/workspaces/{ws}/letters/{letter}/authority"))
    (decision,) = [
        d
        for d in _ok(lead.call("GET", f"/api/v1/workspaces/{ws}/decisions"))
        if d["id"] not in before
    ]
    assert decision["kind"] == "commissioning_letters" and decision["status"] == "open"
    return decision["id"]


def _send(lead: Inspectorate, ws: int, letter: int):  # type: ignore[no-untyped-def]
    return lead.call("POST", f"/api/v1/workspaces/{ws}/letters/{letter}/send")


def _sent_to(app: Flask, email: str) -> int:
    """How many letters the mail backend holds for ``email``."""
    outbox = OutboxMailer(app.extensions["config"].instance_path / "outbox")
    return sum(email.encode() in path.read_bytes() for path in outbox.messages())


def test_a_joint_inspection_from_planning_to_publication(  # noqa: PLR0915
    app: Flask, teams: dict[str, Team], outsider: Inspectorate, day_one: date
) -> None:
    probation, prisons, cfrs = (teams[s] for s in ("hmiprobation", "hmiprisons", "hmicfrs"))
    lead = probation.lead  # the lead inspectorate's lead inspector runs the inspection
    ws_body = _ok(
        lead.call(
            "POST",
            "/api/v1/workspaces",
            {
                "title": "Joint thematic inspection of resettlement",
                "participants": ["hmiprisons", "hmicfrs"],
                "publication_date": str(day_one + timedelta(days=233)),
            },
        ),
        201,
    )
    ws = ws_body["id"]
    workspace = f"/api/v1/workspaces/{ws}"
    assert ws_body["lead"] == "hmiprobation" and len(ws_body["participants"]) == 3
    assert ws_body["recommendations_word"] == "recommendations"
    stage = f"{workspace}/stage"

    # Stage 1 cannot be left until every participant names its lead inspector and its senior
    # oversight, by the title that inspectorate uses (001 §6).
    _blocked(
        lead.call("POST", stage),
        "HMIPROBATION has not named its lead inspector",
        "HMIPROBATION has not named its Head of Thematic and Joint Inspection",
        "HMIPRISONS has not named its lead inspector",
        "HMIPRISONS has not named its Team Leader",
        "HMICFRS has not named its lead inspector",
        "HMICFRS has not named its Portfolio Director / Assistant Portfolio Director",
    )
    probation.name_people(ws)
    prisons.name_people(ws)
    cfrs.name_people(ws, "lead", "rep", "chief", "records")
    _blocked(lead.call("POST", stage), "HMICFRS has not named its Portfolio Director")
    cfrs.name_people(ws, "oversight")
    assert _ok(lead.call("POST", stage))["stage"] == 2
    # §48, agreed in advance: leaving stage 1, the product proposes the retention agreement
    # from every participant's rules, side by side.
    (retention_decision,) = [
        d
        for d in _ok(lead.call("GET", f"{workspace}/decisions"))
        if d["kind"] == "retention_agreement"
    ]
    assert retention_decision["status"] == "open"
    agreement = _ok(lead.call("POST", f"{workspace}/retention/agreement"), 201)
    assert agreement["decision_id"] == retention_decision["id"]
    assert len(agreement["content"]["tenants"]) == 3

    # Terms of reference are published only once every inspectorate's development group
    # representative has agreed them (§8-9).
    terms = _subject(
        lead,
        ws,
        "terms_of_reference",
        {"background": "Why now", "aims": "What for", "question": "Is resettlement effective?"},
    )
    publish_terms = f"{workspace}/terms-of-reference/publish"
    _blocked(
        lead.call("POST", publish_terms), "terms of reference and scope decision is not agreed"
    )
    decision = _propose(lead, ws, "terms_of_reference", terms)
    _refused(probation.lead, ws, decision, ONLY_REPS)
    _approve(ws, decision, [probation.rep, prisons.rep], agrees=False)
    _blocked(
        lead.call("POST", publish_terms), "terms of reference and scope decision is not agreed"
    )
    _approve(ws, decision, [cfrs.rep])
    assert _ok(lead.call("POST", publish_terms))["terms_published_at"]

    # The methodology is agreed by each inspectorate's lead inspector or senior oversight: its
    # development group representative or chief inspector cannot answer for it (§3-4).
    methodology = _subject(lead, ws, "methodology", {"methods": ["case reviews", "interviews"]})
    decision = _propose(lead, ws, "methodology", methodology)
    _refused(prisons.rep, ws, decision, ONLY_LEADS_OR_OVERSIGHT)
    _refused(cfrs.chief, ws, decision, ONLY_LEADS_OR_OVERSIGHT)
    _approve(ws, decision, [probation.lead, prisons.oversight, cfrs.lead])

    # Commissioning letters, one per site and addressee, go only with the authority of every
    # inspectorate's development group representative (§17) and at least six weeks before
    # that site's fieldwork (§16), counted from the day they are sent: today.
    def add_site(name: str, body_type: str, starts: date) -> int:
        return _ok(
            lead.call(
                "POST",
                f"{workspace}/sites",
                {
                    "name": name,
                    "body_type": body_type,
                    "fieldwork_starts_on": str(starts),
                    "fieldwork_ends_on": str(starts + timedelta(days=4)),
                },
            ),
            201,
        )["id"]

    prison = add_site("HMP Example", "prison", day_one + timedelta(days=60))
    # Fieldwork at the PDU starts in 41 days: one day short of six weeks.
    pdu = add_site(
        "Leeds probation delivery unit", "probation_delivery_unit", day_one + timedelta(days=41)
    )
    governor = _letter(lead, ws, prison, "Ann Bell", "ann.bell@example-prison.gov.uk")
    head = _letter(lead, ws, pdu, "Raj Patel", "raj.patel@example-pdu.gov.uk")
    assert governor["status"] == head["status"] == "draft"

    _blocked(_send(lead, ws, governor["id"]), "nobody has been asked to authorise it", key="send")
    authority = _ask_authority(lead, ws, governor["id"])
    # The lead inspector and a chief inspector hold no authority over letters.
    _refused(probation.lead, ws, authority, ONLY_REPS)
    _refused(cfrs.chief, ws, authority, ONLY_REPS)
    _approve(ws, authority, [probation.rep, prisons.rep], agrees=False)
    # Two of three is not enough, and the letter is in time: only HMICFRS's authority is missing.
    _blocked(
        _send(lead, ws, governor["id"]),
        "the development group representatives of HMICFRS have not authorised this version",
        key="send",
    )
    assert _sent_to(app, "ann.bell@example-prison.gov.uk") == 0
    _approve(ws, authority, [cfrs.rep])
    sent = _ok(_send(lead, ws, governor["id"]), 202)
    assert sent["dated_on"] == str(day_one)
    assert _sent_to(app, "ann.bell@example-prison.gov.uk") == 1

    # The PDU's letter is authorised by everyone but is a day late: six weeks alone blocks it.
    _approve(ws, _ask_authority(lead, ws, head["id"]), [prisons.rep, cfrs.rep, probation.rep])
    _blocked(
        _send(lead, ws, head["id"]),
        f"letters must go by {day_one - timedelta(days=1):%-d %B %Y}, six weeks before (§16)",
        key="send",
    )
    assert _sent_to(app, "raj.patel@example-pdu.gov.uk") == 0
    moved = _ok(
        lead.call(
            "PATCH",
            f"{workspace}/sites/{pdu}",
            {
                "fieldwork_starts_on": str(day_one + timedelta(days=42)),
                "fieldwork_ends_on": str(day_one + timedelta(days=46)),
            },
        )
    )
    assert moved["warnings"] == []
    assert _ok(_send(lead, ws, head["id"]), 202)["dated_on"] == str(day_one)
    assert _sent_to(app, "raj.patel@example-pdu.gov.uk") == 1
    register = _ok(lead.call("GET", f"{workspace}/letters"))
    assert {(r["site_id"], r["status"], r["dated_on"]) for r in register} == {
        (prison, "sent", str(day_one)),
        (pdu, "sent", str(day_one)),
    }
    sites = {s["id"]: s for s in _ok(lead.call("GET", f"{workspace}/plan"))["sites"]}
    assert sites[prison]["letters_sent_on"] == sites[pdu]["letters_sent_on"] == str(day_one)

    for expected in (3, 4, 5):
        assert _ok(lead.call("POST", stage))["stage"] == expected

    # Drafting opens only after the emerging findings meeting and joint QA (§35).
    _blocked(
        lead.call("POST", stage),
        "emerging findings meeting has not been recorded",
        "joint quality assurance",
    )
    meeting = travel(day_one + timedelta(days=80))
    _ok(lead.call("POST", f"{workspace}/facts", {"emerging_findings_meeting_on": str(meeting)}))
    _blocked(lead.call("POST", stage), "joint quality assurance")
    concluded = travel(meeting + timedelta(days=7))
    _ok(lead.call("POST", f"{workspace}/facts", {"joint_qa_concluded_on": str(concluded)}))
    assert _ok(lead.call("POST", stage))["stage"] == 6

    # The draft reaches HMIs/CIs after development group agreement (§37), and stakeholders
    # after HMI/CI approval (§38).
    travel(concluded + timedelta(days=28))
    draft = _subject(lead, ws, "report", {"version": "draft 1"})
    share = f"{workspace}/draft/share"
    _blocked(
        lead.call("POST", share, {"audience": "stakeholders"}),
        "draft report to hmis and chief inspectors decision is not agreed",
        "draft report to stakeholders and critical readers decision is not agreed",
    )
    _blocked(
        lead.call("POST", share, {"audience": "hmis"}),
        "draft report to hmis and chief inspectors decision is not agreed",
    )
    _agree(ws, "draft_to_hmis", draft, [probation.rep, prisons.rep, cfrs.rep])
    shared = _ok(lead.call("POST", share, {"audience": "hmis"}))
    assert shared["draft_to_hmis_at"] and shared["draft_to_stakeholders_at"] is None
    _blocked(
        lead.call("POST", share, {"audience": "stakeholders"}),
        "draft report to stakeholders and critical readers decision is not agreed",
    )
    decision = _propose(lead, ws, "draft_to_stakeholders", draft)
    _refused(prisons.rep, ws, decision, ONLY_CHIEFS)
    _approve(ws, decision, [probation.chief, prisons.chief, cfrs.chief])
    shared = _ok(lead.call("POST", share, {"audience": "stakeholders"}))
    assert shared["draft_to_stakeholders_at"] >= shared["draft_to_hmis_at"]

    # Publication needs the final report signed off by each HMI/CI (§40), the media strategy
    # and press materials agreed (principle 8) and the retention agreement agreed (§48). Each
    # condition blocks it alone.
    assert _ok(lead.call("POST", stage))["stage"] == 7
    publish = f"{workspace}/publish"
    final_report = "the final report decision is not agreed"
    strategy_missing = "the media strategy decision is not agreed"
    press_missing = "the press materials decision is not agreed"
    retention_missing = "the retention agreement decision is not agreed"
    _blocked(
        lead.call("POST", publish), final_report, strategy_missing, press_missing, retention_missing
    )

    report = _subject(lead, ws, "final_report", {"version": "final"})
    report_decision = _propose(lead, ws, "final_report", report)
    _refused(probation.lead, ws, report_decision, ONLY_CHIEFS)
    _refused(cfrs.rep, ws, report_decision, ONLY_CHIEFS)
    _refused(prisons.oversight, ws, report_decision, ONLY_CHIEFS)
    _approve(ws, report_decision, [probation.chief, prisons.chief], agrees=False)
    _blocked(
        lead.call("POST", publish), final_report, strategy_missing, press_missing, retention_missing
    )
    _approve(ws, report_decision, [cfrs.chief])

    press = _subject(lead, ws, "press_materials", {"press_release": "v1"})
    press_decision = _agree(
        ws, "press_materials", press, [probation.oversight, prisons.oversight, cfrs.oversight]
    )
    # The media strategy must refer to or quote every participating chief inspector (§44).
    strategy_url = f"{workspace}/media-strategy"
    strategy = _ok(lead.call("PUT", strategy_url, {"quoted": ["hmiprobation", "hmiprisons"]}))
    left_out = lead.call(
        "POST",
        f"{workspace}/decisions",
        {"kind": "media_strategy", "subject_id": strategy["subject_id"]},
    )
    assert left_out.status_code == 422 and "Missing:" in left_out.get_json()["detail"]
    quoted = ["hmiprobation", "hmiprisons", "hmicfrs"]
    strategy = _ok(lead.call("PUT", strategy_url, {"quoted": quoted}))
    strategy_decision = _agree(
        ws,
        "media_strategy",
        strategy["subject_id"],
        [probation.oversight, prisons.oversight, cfrs.oversight],
    )
    # Only the retention agreement is missing now.
    _blocked(lead.call("POST", publish), retention_missing)
    decision = retention_decision["id"]
    _refused(cfrs.chief, ws, decision, "records manager")
    _approve(ws, decision, [probation.records, prisons.records, cfrs.records])

    # A late change to any one of them voids its approvals, and that alone blocks publication.
    _edit(lead, ws, report, {"version": "final, corrected"})
    assert "every inspectorate must approve again" in _voided(lead, ws, report_decision)
    _blocked(lead.call("POST", publish), final_report)
    _approve(ws, report_decision, [probation.chief, prisons.chief, cfrs.chief])

    _ok(lead.call("PUT", strategy_url, {"key_messages": "Resettlement starts on day one"}))
    assert "every inspectorate must approve again" in _voided(lead, ws, strategy_decision)
    _blocked(lead.call("POST", publish), strategy_missing)
    _approve(ws, strategy_decision, [probation.oversight, prisons.oversight, cfrs.oversight])

    _edit(lead, ws, press, {"press_release": "v2"})
    assert "every inspectorate must approve again" in _voided(lead, ws, press_decision)
    _blocked(lead.call("POST", publish), press_missing)
    assert _ok(lead.call("GET", workspace))["published_at"] is None
    _approve(ws, press_decision, [probation.oversight, prisons.oversight, cfrs.oversight])

    published_on = travel(date.fromisoformat(ws_body["publication_date"]))
    assert _ok(lead.call("POST", publish))["published_at"].startswith(str(published_on))
    assert _ok(lead.call("POST", stage))["stage"] == 8
    # Confirmed at stage 8: on the rules still in force it stands, and the inspection closes.
    (standing,) = [
        d for d in _ok(lead.call("GET", f"{workspace}/decisions")) if d["id"] == decision
    ]
    assert standing["status"] == "agreed"
    closed = lead.call("POST", f"{workspace}/close", {})
    assert closed.status_code == 200, closed.get_json()

    # A non-participating inspectorate sees nothing of it.
    assert outsider.call("GET", workspace).status_code == 404
    assert outsider.call("GET", f"{workspace}/decisions").status_code == 404
    assert outsider.call("GET", f"{workspace}/letters").status_code == 404
    assert ws not in {w["id"] for w in _ok(outsider.call("GET", "/api/v1/workspaces"))}


def test_only_the_lead_moves_stages_and_publishes(teams: dict[str, Team]) -> None:
    probation, prisons = teams["hmiprobation"], teams["hmiprisons"]
    ws = _ok(
        probation.lead.call(
            "POST", "/api/v1/workspaces", {"title": "T", "participants": ["hmiprisons"]}
        ),
        201,
    )["id"]
    probation.name_people(ws, "lead", "oversight")
    prisons.name_people(ws, "lead", "oversight")
    for path in ("stage", "publish"):
        response = prisons.lead.call("POST", f"/api/v1/workspaces/{ws}/{path}")
        assert response.status_code == 422
        assert "Only the lead inspectorate" in response.get_json()["detail"]


def test_published_terms_of_reference_are_public_and_nothing_else_is(
    teams: dict[str, Team], app: Flask
) -> None:
    probation, prisons, cfrs = (teams[s] for s in ("hmiprobation", "hmiprisons", "hmicfrs"))
    lead = probation.lead
    ws = _ok(
        lead.call(
            "POST",
            "/api/v1/workspaces",
            {"title": "Public thematic", "participants": ["hmiprisons", "hmicfrs"]},
        ),
        201,
    )["id"]
    hidden = _ok(
        lead.call(
            "POST",
            "/api/v1/workspaces",
            {"title": "Unpublished secret thematic", "participants": ["hmiprisons"]},
        ),
        201,
    )["id"]
    for party in (probation, prisons, cfrs):
        party.name_people(ws)
    terms = _subject(
        lead,
        ws,
        "terms_of_reference",
        {"background": "Why now", "question": "Does it work?", "methodology": ["Interviews"]},
    )
    anonymous = app.test_client()
    assert anonymous.get(f"/inspections-in-progress/{ws}").status_code == 404
    _agree(ws, "terms_of_reference", terms, [probation.rep, prisons.rep, cfrs.rep])
    _ok(lead.call("POST", f"/api/v1/workspaces/{ws}/terms-of-reference/publish"))
    listing = anonymous.get("/inspections-in-progress").get_data(as_text=True)
    assert "Public thematic" in listing and "Unpublished secret" not in listing
    page = anonymous.get(f"/inspections-in-progress/{ws}")
    assert page.status_code == 200
    assert "Does it work?" in page.get_data(as_text=True)
    assert anonymous.get(f"/inspections-in-progress/{hidden}").status_code == 404
    # Later edits do not leak: the public page shows the version that was agreed.
    _edit(lead, ws, terms, {"question": "A draft nobody agreed"})
    assert "A draft nobody agreed" not in anonymous.get(f"/inspections-in-progress/{ws}").get_data(
        as_text=True
    )


def test_terms_of_reference_export_to_pdf_and_docx_audited(
    teams: dict[str, Team], outsider: Inspectorate, app: Flask, session: Session
) -> None:
    import io
    import zipfile

    from sqlalchemy import select

    from app.audit import AuditEvent
    from tests.tenants.fixtures import sign_in

    probation, prisons = teams["hmiprobation"], teams["hmiprisons"]
    ws = _ok(
        probation.lead.call(
            "POST",
            "/api/v1/workspaces",
            {"title": "Exported thematic", "participants": ["hmiprisons"]},
        ),
        201,
    )["id"]
    _subject(
        probation.lead,
        ws,
        "terms_of_reference",
        {"background": "Why now", "question": "Does it work?", "criteria": ["One", "Two"]},
    )
    browser = app.test_client()
    sign_in(browser, prisons.rep.user)
    pdf = browser.get(f"/workspaces/{ws}/terms-of-reference.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"
    docx = browser.get(f"/workspaces/{ws}/terms-of-reference.docx")
    document = zipfile.ZipFile(io.BytesIO(docx.data)).read("word/document.xml").decode()
    assert "Does it work?" in document and "Exported thematic" in document
    set_context(session, tenant_id=prisons.rep.tenant.id)
    downloads = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "terms_of_reference.downloaded")
    ).all()
    assert {d.changes["format"] for d in downloads} == {"pdf", "docx"}
    stranger = app.test_client()
    sign_in(stranger, outsider.user)
    assert stranger.get(f"/workspaces/{ws}/terms-of-reference.pdf").status_code == 404
