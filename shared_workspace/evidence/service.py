"""Evidence items: recording them, the rules on their source and visibility, finding them.

Services take the session and explicit arguments and only flush; the request or job that
calls them commits.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, defaultload

from app.audit import AuditEvent
from shared_workspace.evidence.models import (
    MARKINGS,
    RETENTION_CLASSES,
    EvidenceCriterion,
    EvidenceFile,
    EvidenceItem,
    FileState,
    Method,
    Visibility,
)
from shared_workspace.models import Site, Workspace
from tenants.models import User

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
#: Totals are counted up to this many items; beyond it the list says "more than".
COUNT_CAP = 1000
MAX_CRITERIA = 50


class EvidenceError(ValueError):
    """An evidence rule was broken; ``field`` names the input at fault when there is one."""

    def __init__(self, message: str, field: str = "_rule", status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


class NotYours(EvidenceError):
    """Only the owning inspectorate (or the uploader) may do this."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=403)


# -- sources by role, never by name (000, EEN) -----------------------------------------------

_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Lord|Lady|Rev)\b\.?\s+[A-Z]")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:['-][A-Za-z]+)*\b")
#: Capitalised words that make a phrase a role, a team or a place rather than a person.
ROLE_WORDS = frozenset(
    [
        "acting",
        "advocate",
        "analyst",
        "area",
        "assistant",
        "barrister",
        "borough",
        "business",
        "case",
        "chair",
        "chief",
        "city",
        "clerk",
        "constable",
        "coordinator",
        "council",
        "county",
        "court",
        "crown",
        "custody",
        "deputy",
        "detective",
        "director",
        "district",
        "east",
        "executive",
        "family",
        "focus",
        "force",
        "forensic",
        "governor",
        "greater",
        "group",
        "head",
        "health",
        "housing",
        "inspector",
        "investigator",
        "judge",
        "key",
        "lead",
        "leader",
        "liaison",
        "magistrate",
        "manager",
        "member",
        "mental",
        "national",
        "north",
        "nurse",
        "offender",
        "officer",
        "operations",
        "partnership",
        "peer",
        "police",
        "policy",
        "practitioner",
        "prison",
        "probation",
        "prosecutor",
        "psychologist",
        "quality",
        "regional",
        "resettlement",
        "safeguarding",
        "senior",
        "sergeant",
        "service",
        "solicitor",
        "south",
        "specialist",
        "staff",
        "superintendent",
        "supervisor",
        "support",
        "team",
        "user",
        "victim",
        "volunteer",
        "west",
        "witness",
        "worker",
        "youth",
    ]
)


def looks_like_a_name(text: str) -> bool:
    """Whether ``text`` seems to name a person (a warning, never a refusal)."""
    if _HONORIFIC.search(text):
        return True
    run = 0
    for word in re.findall(r"[A-Za-z][A-Za-z'-]*", text):
        if _CAPITALISED.fullmatch(word) and word.lower() not in ROLE_WORDS:
            run += 1
            if run >= 2:
                return True
        else:
            run = 0
    return False


NAME_WARNING = (
    "The source looks like a person's name. Record the source's role or job title "
    "(for example 'Senior probation officer'), never their name"
)


# -- items -----------------------------------------------------------------------------------


def _search_text(item: EvidenceItem) -> str:
    return " ".join([item.title, item.source, item.inspected_body]).lower()


def _clean_criteria(criteria: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(c.strip() for c in criteria if c.strip()))
    if len(cleaned) > MAX_CRITERIA:
        raise EvidenceError(f"Link at most {MAX_CRITERIA} criteria", "criteria")
    if any(len(c) > 300 for c in cleaned):
        raise EvidenceError("Each criterion must be 300 characters or fewer", "criteria")
    return cleaned


def _check_choices(values: dict[str, Any], session: Session, workspace: Workspace) -> None:
    if "method" in values and values["method"] not in {m.value for m in Method}:
        raise EvidenceError("Choose one of the evidence-gathering methods", "method")
    if values.get("protective_marking", MARKINGS[0]) not in MARKINGS:
        raise EvidenceError("Choose OFFICIAL or OFFICIAL-SENSITIVE", "protective_marking")
    if values.get("visibility", "workspace") not in {v.value for v in Visibility}:
        raise EvidenceError("Choose who can see it", "visibility")
    if values.get("retention_class", "standard") not in RETENTION_CLASSES:
        raise EvidenceError("Choose a retention class", "retention_class")
    site_id = values.get("site_id")
    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None or site.workspace_id != workspace.id:
            raise EvidenceError("Choose a site of this inspection", "site_id")


def create_item(
    session: Session,
    workspace: Workspace,
    user: User,
    *,
    title: str,
    method: str,
    site_id: int | None = None,
    inspected_body: str = "",
    source: str = "",
    protective_marking: str = "OFFICIAL",
    visibility: str = Visibility.WORKSPACE.value,
    retention_class: str = "standard",
    criteria: list[str] | None = None,
) -> tuple[EvidenceItem, list[str]]:
    """Record an item owned by the user's inspectorate; returns it and any warnings."""
    values = {
        "method": method,
        "site_id": site_id,
        "protective_marking": protective_marking,
        "visibility": visibility,
        "retention_class": retention_class,
    }
    _check_choices(values, session, workspace)
    if not title.strip():
        raise EvidenceError("Enter a title", "title")
    item = EvidenceItem(
        workspace_id=workspace.id,
        tenant_id=user.tenant_id,
        title=title.strip(),
        inspected_body=inspected_body.strip(),
        source=source.strip(),
        collected_by_id=user.id,
        **values,
    )
    item.search_text = _search_text(item)
    item.criteria = [
        EvidenceCriterion(
            workspace_id=workspace.id,
            tenant_id=user.tenant_id,
            visibility=visibility,
            criterion=criterion,
        )
        for criterion in _clean_criteria(criteria or [])
    ]
    session.add(item)
    session.flush()
    return item, [NAME_WARNING] if looks_like_a_name(item.source) else []


EDITABLE = (
    "title",
    "method",
    "site_id",
    "inspected_body",
    "source",
    "protective_marking",
    "visibility",
    "retention_class",
)


def update_item(
    session: Session, item: EvidenceItem, user: User, changes: dict[str, Any]
) -> list[str]:
    """Change an item (owning inspectorate only); its files and links follow its visibility."""
    if user.tenant_id != item.tenant_id:
        raise NotYours("Only the inspectorate that recorded this evidence can change it")
    workspace = session.get(Workspace, item.workspace_id)
    assert workspace is not None
    _check_choices(changes, session, workspace)
    for name in EDITABLE:
        if name in changes:
            value = changes[name]
            setattr(item, name, value.strip() if isinstance(value, str) else value)
    if "criteria" in changes:
        wanted = _clean_criteria(changes["criteria"])
        kept = [c for c in item.criteria if c.criterion in wanted]
        have = {c.criterion for c in kept}
        item.criteria = kept + [
            EvidenceCriterion(
                workspace_id=item.workspace_id,
                tenant_id=item.tenant_id,
                visibility=item.visibility,
                criterion=c,
            )
            for c in wanted
            if c not in have
        ]
    for link in item.criteria:
        link.visibility = item.visibility
    for row in session.scalars(select(EvidenceFile).where(EvidenceFile.item_id == item.id)):
        row.visibility = item.visibility
    item.search_text = _search_text(item)
    session.flush()
    _reschedule_files(session, item)
    return [NAME_WARNING] if looks_like_a_name(item.source) else []


def _reschedule_files(session: Session, item: EvidenceItem) -> None:
    """Method, marking and retention class decide which retention rule applies."""
    from retention.service import schedule_evidence_file

    for file in session.scalars(
        select(EvidenceFile).where(
            EvidenceFile.item_id == item.id, EvidenceFile.state == FileState.CLEAN.value
        )
    ):
        schedule_evidence_file(session, file)


@dataclass
class Filters:
    method: str | None = None
    site_id: int | None = None
    criterion: str | None = None
    tenant_id: int | None = None
    text: str | None = None

    def active(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass
class Page:
    items: list[EvidenceItem]
    #: Matching items, counted up to COUNT_CAP (``total_is_capped`` then says there are more).
    total: int
    next_cursor: str | None
    file_counts: dict[int, int] = field(default_factory=dict)
    total_is_capped: bool = False


def encode_cursor(item_id: int) -> str:
    return base64.urlsafe_b64encode(str(item_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a page starts below; a cursor that does not decode starts at the top."""
    if not cursor:
        return None
    try:
        value = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    return value if 0 < value < 2**31 else None


def _conditions(workspace: Workspace, filters: Filters) -> list[Any]:
    conditions: list[Any] = [EvidenceItem.workspace_id == workspace.id]
    if filters.method:
        conditions.append(EvidenceItem.method == filters.method)
    if filters.site_id:
        conditions.append(EvidenceItem.site_id == filters.site_id)
    if filters.tenant_id:
        conditions.append(EvidenceItem.tenant_id == filters.tenant_id)
    if filters.criterion:
        conditions.append(
            EvidenceItem.id.in_(
                select(EvidenceCriterion.item_id).where(
                    EvidenceCriterion.workspace_id == workspace.id,
                    EvidenceCriterion.criterion == filters.criterion,
                )
            )
        )
    if filters.text:
        conditions.append(EvidenceItem.search_text.contains(filters.text.lower(), autoescape=True))
    return conditions


def list_items(
    session: Session,
    workspace: Workspace,
    filters: Filters,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    with_file_counts: bool = True,
) -> Page:
    """One page of the items this inspectorate can see, newest first (keyset on id), with
    the total up to COUNT_CAP: at most four queries whatever the page size (total, items,
    their criteria, file counts), none of which reads more than COUNT_CAP + the page of rows."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    conditions = _conditions(workspace, filters)
    capped = select(EvidenceItem.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    counted = session.scalar(select(func.count()).select_from(capped)) or 0
    total = min(counted, COUNT_CAP)
    before = decode_cursor(cursor)
    # A list shows who collected each item, never their roles or tenant: not loaded.
    query = (
        select(EvidenceItem)
        .where(*conditions)
        .options(defaultload(EvidenceItem.collected_by).lazyload("*"))
    )
    if before is not None:
        query = query.where(EvidenceItem.id < before)
    rows = list(session.scalars(query.order_by(EvidenceItem.id.desc()).limit(limit + 1)).unique())
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    items = rows[:limit]
    counts: dict[int, int] = {}
    if items and with_file_counts:
        counts = dict(
            session.execute(
                select(EvidenceFile.item_id, func.count(EvidenceFile.id))
                .where(
                    EvidenceFile.item_id.in_([i.id for i in items]),
                    EvidenceFile.state == FileState.CLEAN.value,
                )
                .group_by(EvidenceFile.item_id)
            ).all()
        )
    return Page(items, total, next_cursor, counts, total_is_capped=counted > COUNT_CAP)


def files_of(session: Session, item: EvidenceItem) -> list[EvidenceFile]:
    return list(
        session.scalars(
            select(EvidenceFile).where(EvidenceFile.item_id == item.id).order_by(EvidenceFile.id)
        )
    )


def criteria_in_use(session: Session, workspace: Workspace) -> list[str]:
    return list(
        session.scalars(
            select(EvidenceCriterion.criterion)
            .where(EvidenceCriterion.workspace_id == workspace.id)
            .distinct()
            .order_by(EvidenceCriterion.criterion)
        )
    )


def audit_trail(
    session: Session, item: EvidenceItem, files: list[EvidenceFile]
) -> list[AuditEvent]:
    """What this inspectorate's audit log holds about the item and its files, oldest first."""
    file_ids = [str(f.id) for f in files]
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    (AuditEvent.object_type == "evidence_item")
                    & (AuditEvent.object_id == str(item.id)),
                    (AuditEvent.object_type == "evidence_file")
                    & AuditEvent.object_id.in_(file_ids),
                )
            )
            .order_by(AuditEvent.id)
            .limit(500)
        )
    )
