"""Demo data: a joint inspection led by HMI Probation with HMI Prisons and HMICFRS, part-way
through stage 2 (terms of reference agreed and published, letters awaiting authority)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import Actor
from app.clock import clock
from app.db import set_context
from shared_workspace import decisions, plan, reminders, service
from shared_workspace.documents import demo as document_demo
from shared_workspace.models import BodyType, Workspace, WorkspaceRole
from shared_workspace.publication import letters
from shared_workspace.stakeholders import demo as stakeholder_demo
from tenants.models import Tenant, User

TITLE = "Joint thematic inspection of resettlement support for people leaving prison"
PEOPLE = {
    "lead.inspector": WorkspaceRole.LEAD_INSPECTOR,
    "senior.oversight": WorkspaceRole.SENIOR_OVERSIGHT,
    "development.group.rep": WorkspaceRole.DEVELOPMENT_GROUP_REP,
    "chief.inspector": WorkspaceRole.CHIEF_INSPECTOR,
    "communications.officer": WorkspaceRole.COMMUNICATIONS_OFFICER,
    "records.manager": WorkspaceRole.RECORDS_MANAGER,
    "inspector": WorkspaceRole.TEAM_MEMBER,
}
TERMS = {
    "background": "Too many people leave prison without settled accommodation, and probation "
    "and prison services share responsibility for their resettlement.",
    "aims": "To assess how well prisons and probation services work together to prepare "
    "people for release, and how police use information about them on release.",
    "question": "How effectively do criminal justice agencies support resettlement?",
    "criteria": [
        "Leadership and partnership",
        "Pre-release planning",
        "Accommodation on release",
        "Information sharing with police",
    ],
    "methodology": ["File examination", "Interviews", "Focus groups", "Surveys", "Data"],
    "timetable": "Fieldwork in two areas over the spring; publication in the autumn.",
}


#: The project plan: (stage, milestone, owning inspectorate, days from today, done).
MILESTONES = [
    (1, "Scope circulated to development group reps (§8)", "hmiprobation", -40, True),
    (1, "Terms of reference published (§9)", "hmiprobation", -20, True),
    (2, "Letters authorised by every development group rep (§17)", "hmiprobation", 3, False),
    (2, "Data request sent to HMP Manchester", "hmiprisons", 20, False),
    (3, "Case sample drawn for Greater Manchester", "hmiprobation", 45, False),
    (4, "Police information-sharing interviews", "hmicfrs", 72, False),
    (5, "Emerging findings meeting (§29)", "hmiprobation", 110, False),
    (6, "Draft report to development group reps (§37)", "hmiprobation", 170, False),
    (7, "Press notice agreed (§45)", "hmiprobation", 230, False),
]


LETTER = (
    "<p>We are writing to tell you that HM Inspectorate of Probation, HM Inspectorate of "
    "Prisons and HM Inspectorate of Constabulary and Fire &amp; Rescue Services will carry out "
    "a joint thematic inspection of resettlement support for people leaving prison.</p>"
    "<p>Our fieldwork at HMP Manchester is planned for twelve weeks from now. The lead "
    "inspector will contact you to agree the arrangements and the documents we would like to "
    "see beforehand.</p>"
)


def _act(session: Session, user: User) -> User:
    set_context(session, tenant_id=user.tenant_id, user_id=user.id)
    session.info["actor"] = Actor(user.id, user.tenant_id, user.email)
    return user


def _user(session: Session, tenant: Tenant, local: str) -> User:
    set_context(session, tenant_id=tenant.id)
    user = session.scalar(select(User).where(User.email == f"{local}@{tenant.domains[0]}"))
    assert user is not None, f"demo user {local} of {tenant.slug} is missing"
    return user


def seed_demo_workspace(session: Session, demo: bool) -> list[str]:
    """Create the demo inspection once; running it again changes nothing."""
    if not demo:
        return []
    tenants = {t.slug: t for t in session.scalars(select(Tenant))}
    probation, prisons, cfrs = (tenants[s] for s in ("hmiprobation", "hmiprisons", "hmicfrs"))
    lead = _act(session, _user(session, probation, "lead.inspector"))
    if session.scalar(select(Workspace.id).where(Workspace.title == TITLE)) is not None:
        set_context(session, tenant_id=None, platform_admin=True)
        return [f"demo joint inspection already present: {TITLE}"]
    today = clock.today()
    workspace = service.create_workspace(
        session,
        title=TITLE,
        lead=lead,
        participants=[prisons, cfrs],
        publication_date=today + timedelta(days=240),
    )
    for tenant in (probation, prisons, cfrs):
        for local, role in PEOPLE.items():
            person = _user(session, tenant, local)
            _act(session, person)
            service.name_member(session, workspace, person=person, role=role, named_by=person)
    _act(session, lead)
    terms = document_demo.terms_of_reference(session, workspace, lead, TERMS)
    tor = decisions.propose(session, workspace, kind="terms_of_reference", subject=terms, user=lead)
    for tenant in (probation, prisons, cfrs):
        rep = _act(session, _user(session, tenant, "development.group.rep"))
        decisions.answer(session, workspace, tor, rep, approve=True)
    _act(session, lead)
    service.publish_terms_of_reference(session, workspace, lead)
    service.advance_stage(session, workspace, lead)
    service.add_site(
        session,
        workspace,
        name="Greater Manchester probation delivery unit",
        body_type=BodyType.PROBATION_DELIVERY_UNIT,
        fieldwork_starts_on=today + timedelta(days=70),
        fieldwork_ends_on=today + timedelta(days=74),
        user=lead,
    )
    prison = service.add_site(
        session,
        workspace,
        name="HMP Manchester",
        body_type=BodyType.PRISON,
        fieldwork_starts_on=today + timedelta(days=84),
        fieldwork_ends_on=today + timedelta(days=88),
        user=lead,
    )
    letter = letters.create_letter(
        session,
        workspace,
        lead,
        addressee_name="Ann Bell",
        addressee_role="Governor, HMP Manchester",
        addressee_email="ann.bell@justice.example.gov.uk",
        title="Joint thematic inspection of resettlement",
        body=LETTER,
        site=prison,
    )
    letter_decision = letters.request_authority(session, workspace, letter, lead)
    letter_decision.due_on = today + timedelta(days=3)
    rep = _act(session, _user(session, probation, "development.group.rep"))
    decisions.answer(session, workspace, letter_decision, rep, approve=True)
    _act(session, lead)
    method = decisions.create_subject(
        session,
        workspace,
        kind="methodology",
        title="Methodology",
        content={"methods": TERMS["methodology"]},
        user=lead,
    )
    method_decision = decisions.propose(
        session,
        workspace,
        kind="methodology",
        subject=method,
        user=lead,
        due_on=today + timedelta(days=14),
    )
    decisions.answer(session, workspace, method_decision, lead, approve=True)
    _act(session, lead)
    for stage, title, owner, days, done in MILESTONES:
        milestone = plan.add_milestone(
            session,
            workspace,
            lead,
            stage=stage,
            title=title,
            due_on=today + timedelta(days=days),
            owner_tenant_id=tenants[owner].id,
        )
        if done:
            plan.update_milestone(session, workspace, milestone, lead, done=True)
    document_demo.joint_report(session, workspace, tenants, _act, _user)
    stakeholder_demo.seed(session, workspace, tenants, _act, _user)
    from shared_workspace.evidence.demo import seed_demo_evidence

    seed_demo_evidence(session, workspace, _act(session, _user(session, prisons, "inspector")))
    set_context(session, tenant_id=None)
    reminders.send_reminders(session, today)
    set_context(session, tenant_id=None, platform_admin=True)
    return [
        f"demo joint inspection: {TITLE}",
        "  letters await authority from the HMI Prisons and HMICFRS development group reps,",
        "  e.g. development.group.rep@hmiprisons.example.gov.uk",
    ]
