"""The recommendations tracker (001 §33, §46): recommendations (concerns when HMI Prisons
leads) and issues to address, each organisation's response and progress updates, a quarterly
export (CSV, XLSX) and a public read-only page once the report is published."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_workspace.models import Workspace
from shared_workspace.publication.models import Recommendation, RecommendationResponse
from shared_workspace.stakeholders.directory import neutralise
from tenants.models import User

STATUSES = {
    "accepted": "Accepted",
    "partially_accepted": "Partially accepted",
    "rejected": "Rejected",
    "update": "Progress update",
}
#: Recommendations (concerns when HMI Prisons leads) come first; issues to address are
#: recorded alongside them with lower priority (`000`).
PRIORITY = {"recommendation": "priority", "concern": "priority", "issue_to_address": "lower"}
KIND_NAMES = {
    "recommendation": "recommendation",
    "recommendations": "recommendation",
    "concern": "concern",
    "concerns": "concern",
    "issue to address": "issue_to_address",
    "issues to address": "issue_to_address",
    "issue_to_address": "issue_to_address",
}
COLUMNS = [
    "number",
    "kind",
    "priority",
    "recommendation",
    "organisation",
    "responsible",
    "measure",
    "due",
    "response",
    "action_taken",
    "responded_on",
    "latest_progress",
]


class TrackerError(ValueError):
    def __init__(self, message: str, field: str = "_rule") -> None:
        super().__init__(message)
        self.field = field


def add(
    session: Session,
    workspace: Workspace,
    user: User,
    *,
    text: str,
    organisation: str,
    responsible_tenant_id: int | None = None,
    kind: str | None = None,
    measure: str = "",
    due_on: date | None = None,
    evidence: str = "",
    report_section: str = "",
) -> Recommendation:
    """Add a recommendation (numbered in order); SMART needs a measure and a date (§33)."""
    if user.tenant_id not in {p.tenant_id for p in workspace.participants}:
        raise TrackerError("Your inspectorate does not take part in this inspection")
    default = "concern" if workspace.recommendations_word == "concerns" else "recommendation"
    kind = kind or default
    if kind not in ("recommendation", "concern", "issue_to_address"):
        raise TrackerError("A recommendation, a concern or an issue to address", "kind")
    text, organisation = text.strip(), organisation.strip()
    if not text:
        raise TrackerError(f"Write the {kind.replace('_', ' ')}", "text")
    if not organisation:
        raise TrackerError("Say which organisation it is for", "organisation")
    if kind != "issue_to_address" and not (measure.strip() and due_on):
        raise TrackerError(
            "Make it SMART: say how progress will be measured and by when (§33)", "measure"
        )
    responsible = responsible_tenant_id or workspace.lead_tenant_id
    if responsible not in {p.tenant_id for p in workspace.participants}:
        raise TrackerError("The responsible inspectorate must take part", "responsible")
    number = (
        session.scalar(
            select(func.max(Recommendation.number)).where(
                Recommendation.workspace_id == workspace.id
            )
        )
        or 0
    ) + 1
    row = Recommendation(
        workspace_id=workspace.id,
        number=number,
        kind=kind,
        text=text[:5000],
        organisation=organisation[:300],
        responsible_tenant_id=responsible,
        measure=measure.strip()[:5000],
        due_on=due_on,
        evidence=evidence.strip()[:5000],
        report_section=report_section.strip()[:300],
    )
    session.add(row)
    session.flush()
    return row


def respond(
    session: Session,
    recommendation: Recommendation,
    *,
    status: str,
    action_taken: str,
    responded_on: date,
) -> RecommendationResponse:
    """Record the organisation's response, or a later progress update (status "update")."""
    if status not in STATUSES:
        raise TrackerError("Accepted, partially accepted, rejected or a progress update", "status")
    if not action_taken.strip():
        raise TrackerError("Say what action was taken or is planned", "action_taken")
    row = RecommendationResponse(
        workspace_id=recommendation.workspace_id,
        recommendation_id=recommendation.id,
        status=status,
        action_taken=action_taken.strip()[:5000],
        responded_on=responded_on,
        progress=status == "update",
    )
    session.add(row)
    session.flush()
    return row


def rows(
    session: Session, workspace_id: int
) -> list[tuple[Recommendation, list[RecommendationResponse]]]:
    """Every recommendation with its responses: recommendations (or concerns) in number
    order, then the lower-priority issues to address (two queries)."""
    items = sorted(
        session.scalars(select(Recommendation).where(Recommendation.workspace_id == workspace_id)),
        key=lambda r: (PRIORITY[r.kind] != "priority", r.number),
    )
    responses: dict[int, list[RecommendationResponse]] = {}
    for response in session.scalars(
        select(RecommendationResponse)
        .where(RecommendationResponse.workspace_id == workspace_id)
        .order_by(RecommendationResponse.responded_on, RecommendationResponse.id)
    ):
        responses.setdefault(response.recommendation_id, []).append(response)
    return [(item, responses.get(item.id, [])) for item in items]


def _flat(item: Recommendation, responses: Sequence[RecommendationResponse]) -> list[Any]:
    answer = next((r for r in reversed(responses) if not r.progress), None)
    progress = next((r for r in reversed(responses) if r.progress), None)
    return [
        item.number,
        item.kind.replace("_", " "),
        PRIORITY[item.kind],
        item.text,
        item.organisation,
        item.responsible.short_name,
        item.measure,
        item.due_on.isoformat() if item.due_on else "",
        STATUSES[answer.status] if answer else "Awaiting response",
        answer.action_taken if answer else "",
        answer.responded_on.isoformat() if answer else "",
        f"{progress.responded_on.isoformat()}: {progress.action_taken}" if progress else "",
    ]


def to_csv(data: Iterable[tuple[Recommendation, Sequence[RecommendationResponse]]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for item, responses in data:
        writer.writerow([neutralise(str(v)) for v in _flat(item, responses)])
    return "\ufeff" + buffer.getvalue()


def to_xlsx(
    workspace: Workspace, data: Iterable[tuple[Recommendation, Sequence[RecommendationResponse]]]
) -> bytes:
    """The quarterly tracker as a workbook; cells are text, never formulas."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Tracker"
    sheet.append(COLUMNS)
    for item, responses in data:
        values = _flat(item, responses)
        sheet.append([v if isinstance(v, int) else neutralise(str(v)) for v in values])
        for cell in sheet[sheet.max_row]:
            cell.data_type = "n" if isinstance(cell.value, int) else "s"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parse_import(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Recommendations from CSV (text, organisation, measure, due, and optionally kind:
    recommendation, concern or issue to address); malformed rows named, never guessed."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"text", "organisation"} <= set(reader.fieldnames):
        return [], ["The first row must name the columns text, organisation, measure, due"]
    good, problems = [], []
    for line, row in enumerate(reader, start=2):
        if not (row.get("text") or "").strip() or not (row.get("organisation") or "").strip():
            problems.append(f"line {line}: text and organisation are needed")
            continue
        named = " ".join((row.get("kind") or "").split()).casefold()
        if named and named not in KIND_NAMES:
            problems.append(
                f"line {line}: kind must be recommendation, concern or issue to address, "
                f"not {row['kind']!r}"
            )
            continue
        due = (row.get("due") or "").strip()
        if due:
            try:
                date.fromisoformat(due)
            except ValueError:
                problems.append(f"line {line}: due must be a date like 2027-03-31, not {due!r}")
                continue
        good.append({**row, "kind": KIND_NAMES.get(named, "")})
    return good, problems
