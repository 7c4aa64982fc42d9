"""Demo documents: the terms of reference as a co-edited document, and a joint report being
drafted, with sections owned by each inspectorate, red lines, comments and a suggestion."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from sqlalchemy.orm import Session

from shared_workspace.documents import review, service
from shared_workspace.models import Subject, Workspace
from tenants.models import Tenant, User

REPORT_SECTIONS = [
    ("summary", "Summary", None),
    ("leadership", "Leadership and partnership", "hmiprobation"),
    ("planning", "Pre-release planning", "hmiprisons"),
    ("accommodation", "Accommodation on release", None),
    ("information", "Information sharing with police", "hmicfrs"),
    ("recommendations", "Recommendations", None),
]
REPORT_TEXT = {
    "summary": "<p>Too many people still leave prison without a settled place to live.</p>"
    "<p>Prison and probation staff work hard, but their plans start too late.</p>",
    "leadership": "<p>Leaders in the region share a resettlement strategy, but it has no "
    'measures of success.<span class="footnote">Regional reducing reoffending plan, 2025.'
    "</span></p>",
    "planning": "<p>Pre-release planning began twelve weeks before release in most cases we "
    "examined.</p><ul><li>Accommodation needs were recorded in 41 of 60 cases.</li>"
    "<li>Referrals to local councils were late in 19 cases.</li></ul>",
    "accommodation": "<table><thead><tr><th>Outcome on release</th><th>Cases</th></tr></thead>"
    "<tbody><tr><td>Settled accommodation</td><td>27</td></tr>"
    "<tr><td>Temporary accommodation</td><td>21</td></tr>"
    "<tr><td>No fixed abode</td><td>12</td></tr></tbody></table>",
    "information": "<p>Police received release information in time in most cases.</p>",
    "recommendations": "<p>To be drafted after the emerging findings meeting.</p>",
}
RED_LINES = {
    "hmiprobation": "The report judges probation practice against our published standards.",
    "hmiprisons": "No individual prisoner or member of staff can be identified.",
    "hmicfrs": "Police findings are attributed to the forces inspected, not to all policing.",
}


def _html(value: Any) -> str:
    if isinstance(value, list):
        return "<ul>" + "".join(f"<li>{escape(str(v))}</li>" for v in value) + "</ul>"
    return f"<p>{escape(str(value))}</p>" if value else ""


def terms_of_reference(
    session: Session, workspace: Workspace, lead: User, terms: dict[str, Any]
) -> Subject:
    """The terms of reference document, filled in; returns its decision subject."""
    document = service.start_terms_of_reference(session, workspace, lead)
    sections = [
        {"key": key, "title": title, "body": _html(terms.get(key))}
        for key, title in service.TERMS_SECTIONS
    ]
    service.save(session, workspace, document, lead, base_number=1, sections=sections)
    subject = session.get(Subject, document.subject_id)
    assert subject is not None
    return subject


def joint_report(
    session: Session,
    workspace: Workspace,
    tenants: dict[str, Tenant],
    act: Callable[[Session, User], User],
    user: Callable[[Session, Tenant, str], User],
) -> None:
    """A first draft of the joint report, its red lines, a comment and a suggestion."""
    probation, prisons, cfrs = (tenants[s] for s in ("hmiprobation", "hmiprisons", "hmicfrs"))
    lead = act(session, user(session, probation, "lead.inspector"))
    report = service.create_document(
        session,
        workspace,
        lead,
        kind="report",
        title="Resettlement: a joint thematic inspection (draft report)",
        marking="OFFICIAL-SENSITIVE",
        sections=[
            {"key": key, "title": title, "body": REPORT_TEXT[key]}
            for key, title, _owner in REPORT_SECTIONS
        ],
    )
    for key, _title, owner in REPORT_SECTIONS:
        if owner:
            service.assign_owner(session, workspace, report, lead, key, tenants[owner].id)
    for slug, text in RED_LINES.items():
        act(session, user(session, tenants[slug], "lead.inspector"))
        review.add_red_line(
            session, workspace, user(session, tenants[slug], "lead.inspector"), text
        )
    # The evidence and evaluation note: a section per criterion of the terms of reference.
    service.create_document(
        session,
        workspace,
        lead,
        kind="een",
        title="Evidence and evaluation note",
        marking="OFFICIAL-SENSITIVE",
        sections=[],
    )
    prisons_lead = act(session, user(session, prisons, "lead.inspector"))
    review.add_comment(
        session,
        report,
        prisons_lead,
        section_key="summary",
        quote="their plans start too late",
        body="Can we say how late? Our case files show a median of six weeks.",
    )
    cfrs_lead = act(session, user(session, cfrs, "lead.inspector"))
    review.suggest(
        session,
        report,
        cfrs_lead,
        section_key="summary",
        operation="replace",
        quote="work hard",
        text="are committed",
        reason="Plainer and fairer to staff.",
    )
    act(session, lead)
