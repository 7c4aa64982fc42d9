"""The rules of co-editing: every save is a version; a save on an old version is merged
three-way when its edits do not overlap the newer ones, and otherwise kept whole, waiting for
its writer to resolve the conflict. Only a section's owning inspectorate edits it; others
suggest. Decisions about a document bind to its exact version through its decision subject.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from shared_workspace import decisions
from shared_workspace.documents import richtext
from shared_workspace.documents.merge import Conflict, MergeResult, Section, Version, merge, resolve
from shared_workspace.documents.models import (
    DOCUMENT_KINDS,
    MARKINGS,
    Document,
    DocumentVersion,
    PendingSave,
    SectionOwner,
)
from shared_workspace.models import Subject, Workspace
from tenants.models import User

MAX_SECTIONS = 200
MAX_TITLE = 300
#: Decision subjects of documents are named after the decision kind that usually binds them.
SUBJECT_KIND = {
    "terms_of_reference": "terms_of_reference",
    "methodology": "methodology",
    "een": "evidence_approach",
    "emerging_findings": "emerging_findings",
    "report": "final_report",
    "media_strategy": "media_strategy",
    "press_notice": "press_materials",
    "letter": "commissioning_letters",
}


class DocumentError(ValueError):
    """A co-editing rule was broken; the message says what to do instead."""

    def __init__(self, message: str, field: str = "_rule") -> None:
        super().__init__(message)
        self.field = field


class StaleVersion(DocumentError):
    """The save names a version that does not exist (forged, or of another document)."""


@dataclass(frozen=True)
class Saved:
    """The outcome of a save: the new version, or the pending save holding a conflict."""

    version: DocumentVersion | None
    pending: PendingSave | None = None
    merged_with: int | None = None

    @property
    def conflicted(self) -> bool:
        return self.pending is not None


def content_hash(sections: Sequence[Section]) -> str:
    """SHA-256 of the sections in order: what decisions about a version bind to."""
    payload = [[s.key, s.title, s.body] for s in sections]
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def as_version(rows: Iterable[Mapping[str, Any]]) -> Version:
    return tuple(Section(row["key"], row["title"], row["body"]) for row in rows)


def as_rows(sections: Iterable[Section]) -> list[dict[str, str]]:
    return [{"key": s.key, "title": s.title, "body": s.body} for s in sections]


def new_key() -> str:
    return uuid.uuid4().hex


def clean_sections(
    raw: Sequence[Mapping[str, Any]], known: frozenset[str] | set[str] = frozenset()
) -> Version:
    """Validate and sanitise sections sent by a writer; errors name the section to fix.

    Bodies in ``known`` (the stored, already clean bodies of the version the writer started
    from) are kept as they are: a save that changes one section cleans one section."""
    if len(raw) > MAX_SECTIONS:
        raise DocumentError(
            f"A document can have at most {MAX_SECTIONS} sections; split it into two documents",
            "sections",
        )
    seen: set[str] = set()
    sections = []
    for index, row in enumerate(raw, start=1):
        key = str(row.get("key") or new_key())
        title = str(row.get("title") or "").strip()
        if not title:
            raise DocumentError(f"Section {index} needs a title", "sections")
        if len(title) > MAX_TITLE:
            raise DocumentError(
                f"The title of section {index} is over {MAX_TITLE} characters", "sections"
            )
        if len(key) > 64 or not all(c.isalnum() or c in "-_" for c in key):
            raise DocumentError(f"Section {index} has a malformed key", "sections")
        if key in seen:
            raise DocumentError(f"Two sections share the key {key}", "sections")
        seen.add(key)
        body = str(row.get("body") or "")
        try:
            body = body if body in known else richtext.clean_section(body)
        except richtext.SectionTooLarge as exc:
            raise DocumentError(f"“{title}”: {exc}", "sections") from None
        sections.append(Section(key, title, body))
    return tuple(sections)


def create_document(
    session: Session,
    workspace: Workspace,
    user: User,
    *,
    kind: str,
    title: str,
    sections: Sequence[Mapping[str, Any]],
    marking: str = "OFFICIAL",
) -> Document:
    """A new document at version 1, with a decision subject bound to that version."""
    if kind not in DOCUMENT_KINDS:
        raise DocumentError(f"Unknown kind of document {kind!r}", "kind")
    if marking not in MARKINGS:
        raise DocumentError("Mark the document OFFICIAL or OFFICIAL-SENSITIVE", "marking")
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        raise DocumentError(f"Give the document a title of up to {MAX_TITLE} characters", "title")
    if kind == "een" and not sections:
        sections = framework_sections(session, workspace)
    if not sections:
        raise DocumentError("Give the document at least one section", "sections")
    version = clean_sections(sections)
    document = Document(
        workspace_id=workspace.id,
        kind=kind,
        title=title,
        marking=marking,
        head_number=1,
        created_by_id=user.id,
    )
    session.add(document)
    session.flush()
    row = _add_version(session, document, user, version, base_number=0, note="")
    subject = decisions.create_subject(
        session,
        workspace,
        kind=SUBJECT_KIND[kind],
        title=title,
        content=_subject_content(document, row),
        user=user,
    )
    document.subject_id = subject.id
    session.flush()
    from retention.service import schedule_document

    schedule_document(session, document)
    return document


def _subject_content(document: Document, row: DocumentVersion) -> dict[str, Any]:
    return {"document_id": document.id, "version": row.number, "hash": row.content_hash}


def _add_version(
    session: Session,
    document: Document,
    user: User,
    sections: Version,
    *,
    base_number: int,
    note: str,
) -> DocumentVersion:
    row = DocumentVersion(
        document_id=document.id,
        workspace_id=document.workspace_id,
        number=document.head_number,
        base_number=base_number,
        sections=as_rows(sections),
        content_hash=content_hash(sections),
        author_id=user.id,
        tenant_id=user.tenant_id,
        note=note[:300],
    )
    session.add(row)
    return row


def version(session: Session, document: Document, number: int) -> DocumentVersion:
    """One version of the document, or StaleVersion when it has no such version."""
    row = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == number
        )
    )
    if row is None:
        raise StaleVersion(
            f"Version {number} of this document does not exist; reload the document", "base"
        )
    return row


def head(session: Session, document: Document) -> DocumentVersion:
    return version(session, document, document.head_number)


def owners(session: Session, document: Document) -> dict[str, int]:
    """Section key → the tenant that drafts it; sections not listed are open to everyone."""
    rows = session.execute(
        select(SectionOwner.section_key, SectionOwner.tenant_id).where(
            SectionOwner.document_id == document.id
        )
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def _check_may_edit(
    session: Session,
    workspace: Workspace,
    document: Document,
    user: User,
    old: Version,
    new: Version,
) -> None:
    """Only a section's owning inspectorate edits it (others suggest, §6); only the lead adds,
    removes or reorders sections."""
    owned = owners(session, document)
    before = {s.key: s for s in old}
    after = {s.key: s for s in new}
    lead = user.tenant_id == workspace.lead_tenant_id
    if not lead and (set(before) != set(after) or [s.key for s in old] != [s.key for s in new]):
        raise DocumentError(
            "Only the lead inspectorate adds, removes or reorders sections; suggest it instead",
            "sections",
        )
    for key, section in after.items():
        owner = owned.get(key)
        if owner is None or owner == user.tenant_id or before.get(key) == section:
            continue
        raise DocumentError(
            f"“{section.title}” is drafted by another inspectorate: suggest your edit instead",
            "sections",
        )


def _lock(session: Session, document: Document) -> Document:
    """Serialise saves of one document: each reads the head it merges onto under this lock."""
    locked = session.scalar(
        select(Document)
        .where(Document.id == document.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked


def save(
    session: Session,
    workspace: Workspace,
    document: Document,
    user: User,
    *,
    base_number: int,
    sections: Sequence[Mapping[str, Any]] | Version,
    note: str = "",
) -> Saved:
    """Save the writer's whole document, made on ``base_number``.

    On the head: a new version. On an older version: merged with everything saved since when
    the edits do not overlap; otherwise nothing is saved and a PendingSave keeps the writer's
    text with both sides of every conflicting section until they resolve it."""
    document = _lock(session, document)
    if document.destroyed_at is not None:
        raise DocumentError(
            "This document was destroyed under the retention rules and cannot be written to",
            "base",
        )
    if base_number < 1 or base_number > document.head_number:
        raise StaleVersion(
            f"Version {base_number} of this document does not exist; reload the document", "base"
        )
    base_row = version(session, document, base_number)
    base = as_version(base_row.sections)
    pending_version = (
        sections  # type: ignore[assignment]
        if _is_version(sections)
        else clean_sections(sections, known={s.body for s in base})  # type: ignore[arg-type]
    )
    _check_may_edit(session, workspace, document, user, base, pending_version)
    if base_number == document.head_number:
        if content_hash(pending_version) == base_row.content_hash:
            return Saved(base_row)  # nothing changed: no new version
        return Saved(_commit(session, document, user, pending_version, base_number, note))
    head_row = head(session, document)
    result = merge(base, as_version(head_row.sections), pending_version)
    if result.clean:
        merged_note = note or f"merged with version {head_row.number}"
        row = _commit(session, document, user, result.sections, base_number, merged_note)
        return Saved(row, merged_with=head_row.number)
    pending = PendingSave(
        document_id=document.id,
        workspace_id=document.workspace_id,
        tenant_id=user.tenant_id,
        author_id=user.id,
        base_number=base_number,
        head_number=head_row.number,
        sections=as_rows(pending_version),
        conflicts=[conflict_row(c) for c in result.conflicts],
    )
    session.add(pending)
    session.flush()
    return Saved(None, pending=pending)


def _is_version(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(s, Section) for s in value)


def conflict_row(conflict: Conflict) -> dict[str, Any]:
    return {
        "key": conflict.key,
        "title": conflict.title,
        "kind": conflict.kind.value,
        "base_body": conflict.base_body,
        "head_body": conflict.head_body,
        "pending_body": conflict.pending_body,
        "base_title": conflict.base_title,
        "head_title": conflict.head_title,
        "pending_title": conflict.pending_title,
    }


def _commit(
    session: Session,
    document: Document,
    user: User,
    sections: Version,
    base_number: int,
    note: str,
) -> DocumentVersion:
    document.head_number += 1
    document.updated_at = utcnow()
    row = _add_version(session, document, user, sections, base_number=base_number, note=note)
    session.flush()
    if document.subject_id is not None:
        subject = session.get(Subject, document.subject_id)
        if subject is not None:
            decisions.update_subject(session, subject, _subject_content(document, row), user)
    return row


def resolve_pending(
    session: Session,
    workspace: Workspace,
    pending: PendingSave,
    user: User,
    resolutions: Mapping[str, str | None],
    titles: Mapping[str, str] | None = None,
) -> Saved:
    """Save the writer's choice for each conflicting section. If someone saved again in the
    meantime, the resolved text is merged onto that too (and may conflict again)."""
    if pending.author_id != user.id:
        raise DocumentError("Only the writer of a pending save can resolve it")
    if pending.resolved_at is not None:
        raise DocumentError(
            f"This conflict was already resolved as version {pending.resolved_number}"
        )
    document = session.get(Document, pending.document_id)
    assert document is not None
    base = as_version(version(session, document, pending.base_number).sections)
    theirs = as_version(version(session, document, pending.head_number).sections)
    result: MergeResult = merge(base, theirs, as_version(pending.sections))
    cleaned = {
        key: (richtext.clean_section(body) if body is not None else None)
        for key, body in resolutions.items()
    }
    try:
        chosen = resolve(result, cleaned, titles)
    except ValueError as exc:
        raise DocumentError(str(exc), "resolutions") from None
    saved = save(
        session,
        workspace,
        document,
        user,
        base_number=pending.head_number,
        sections=chosen,
        note=f"resolved a conflict with version {pending.head_number}",
    )
    # Either way this pending save is finished: resolved into a version, or carried whole
    # into the new pending save (which holds the writer's resolution against the newer head).
    # Leaving it open would offer the writer an obsolete conflict to resolve again.
    pending.resolved_at = utcnow()
    pending.resolved_number = saved.version.number if saved.version is not None else None
    if saved.pending is not None:
        pending.superseded_by_id = saved.pending.id
    session.flush()
    return saved


def restore(
    session: Session, workspace: Workspace, document: Document, user: User, number: int
) -> DocumentVersion:
    """Make an old version the newest again, as a new version (the lead only)."""
    if user.tenant_id != workspace.lead_tenant_id:
        raise DocumentError("Only the lead inspectorate restores old versions")
    old = version(session, document, number)
    saved = save(
        session,
        workspace,
        document,
        user,
        base_number=document.head_number,
        sections=as_version(old.sections),
        note=f"restored version {number}",
    )
    assert saved.version is not None
    return saved.version


def assign_owner(
    session: Session,
    workspace: Workspace,
    document: Document,
    user: User,
    section_key: str,
    tenant_id: int | None,
) -> None:
    """The lead says which inspectorate drafts a section (001 §6); None opens it to all."""
    if user.tenant_id != workspace.lead_tenant_id:
        raise DocumentError("Only the lead inspectorate assigns sections")
    keys = {row["key"] for row in head(session, document).sections}
    if section_key not in keys:
        raise DocumentError("There is no such section in the latest version", "section_key")
    if tenant_id is not None and tenant_id not in {p.tenant_id for p in workspace.participants}:
        raise DocumentError("Assign sections to a participating inspectorate", "tenant")
    row = session.scalar(
        select(SectionOwner).where(
            SectionOwner.document_id == document.id, SectionOwner.section_key == section_key
        )
    )
    if tenant_id is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(
            SectionOwner(
                document_id=document.id,
                workspace_id=document.workspace_id,
                section_key=section_key,
                tenant_id=tenant_id,
            )
        )
    else:
        row.tenant_id = tenant_id
    session.flush()


def history(session: Session, document: Document, limit: int = 200) -> list[DocumentVersion]:
    """Newest first; the sections themselves are not loaded."""
    from sqlalchemy.orm import defer

    return list(
        session.scalars(
            select(DocumentVersion)
            .options(defer(DocumentVersion.sections))
            .where(DocumentVersion.document_id == document.id)
            .order_by(DocumentVersion.number.desc())
            .limit(limit)
        )
    )


def open_pending(session: Session, document: Document, user: User) -> list[PendingSave]:
    return list(
        session.scalars(
            select(PendingSave)
            .where(
                PendingSave.document_id == document.id,
                PendingSave.author_id == user.id,
                PendingSave.resolved_at.is_(None),
            )
            .order_by(PendingSave.id.desc())
        )
    )


def discard_pending(session: Session, pending: PendingSave, user: User) -> None:
    """The writer may give up a pending save explicitly; nothing else ever removes one."""
    if pending.author_id != user.id:
        raise DocumentError("Only the writer of a pending save can discard it")
    session.execute(
        update(PendingSave)
        .where(PendingSave.id == pending.id)
        .values(resolved_at=utcnow(), resolved_number=None)
    )
    session.flush()


#: Annex 3's sections, in order, as the terms of reference document starts.
TERMS_SECTIONS = [
    ("background", "Background"),
    ("aims", "Aims"),
    ("question", "The inspection question"),
    ("criteria", "Criteria and sub-questions"),
    ("sites", "Site selection"),
    ("methodology", "Methodology"),
    ("timetable", "Timetable"),
]


def start_terms_of_reference(session: Session, workspace: Workspace, user: User) -> Document:
    """The workspace's terms of reference document, created in annex 3's structure if new."""
    existing = session.scalar(
        select(Document)
        .where(Document.workspace_id == workspace.id, Document.kind == "terms_of_reference")
        .order_by(Document.id)
    )
    if existing is not None:
        return existing
    return create_document(
        session,
        workspace,
        user,
        kind="terms_of_reference",
        title=f"Terms of reference: {workspace.title}"[:MAX_TITLE],
        sections=[{"key": key, "title": title, "body": ""} for key, title in TERMS_SECTIONS],
    )


class _Criteria(HTMLParser):
    """The list items of a cleaned criteria section as (numbering, text), nested items
    numbered under their parent (1, 1.1, 1.2, 2 ...); paragraphs count as top-level items
    when the section holds no list."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[tuple[int, ...], list[str]]] = []
        self.paragraphs: list[list[str]] = []
        self.path: list[int] = []
        self.counts: list[int] = [0]
        self.open: list[list[str]] = []
        self.in_paragraph = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            self.counts.append(0)
        elif tag == "li":
            self.counts[-1] += 1
            number = tuple(self.path + [self.counts[-1]])
            text: list[str] = []
            self.items.append((number, text))
            self.open.append(text)
            self.path.append(self.counts[-1])
        elif tag == "p" and not self.open:
            self.in_paragraph = True
            self.paragraphs.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and len(self.counts) > 1:
            self.counts.pop()
        elif tag == "li" and self.open:
            self.open.pop()
            self.path.pop()
        elif tag == "p":
            self.in_paragraph = False

    def handle_data(self, data: str) -> None:
        if self.open:
            self.open[-1].append(data)
        elif self.in_paragraph:
            self.paragraphs[-1].append(data)


def framework_sections(session: Session, workspace: Workspace) -> list[dict[str, str]]:
    """The evidence and evaluation note's sections: one per criterion and sub-criterion of the
    inspection framework, as the terms of reference's "Criteria and sub-questions" state it
    (`000`: the EEN records the evidence and its evaluation against each criterion)."""
    terms = session.scalar(
        select(Document)
        .where(Document.workspace_id == workspace.id, Document.kind == "terms_of_reference")
        .order_by(Document.id)
    )
    body = ""
    if terms is not None:
        body = next(
            (s["body"] for s in head(session, terms).sections if s["key"] == "criteria"), ""
        )
    parser = _Criteria()
    parser.feed(body)
    found = [(n, " ".join("".join(t).split())) for n, t in parser.items]
    if not found:
        found = [((i,), " ".join("".join(t).split())) for i, t in enumerate(parser.paragraphs, 1)]
    found = [(n, text) for n, text in found if text]
    if not found:
        raise DocumentError(
            "The evidence and evaluation note has a section per criterion of the framework: "
            "write the criteria and sub-questions in the terms of reference first (one list "
            "item each, sub-criteria as a list inside their criterion)",
            "kind",
        )
    sections = []
    for number, text in found[:MAX_SECTIONS]:
        label = ".".join(str(n) for n in number)
        title = f"{label} {text}"
        if len(title) > MAX_TITLE:
            title = title[: MAX_TITLE - 1].rstrip() + "…"
        sections.append(
            {
                "key": "criterion-" + "-".join(str(n) for n in number),
                "title": title,
                "body": "<h3>Evidence</h3><p></p><h3>Evaluation</h3><p></p>",
            }
        )
    return sections


def subject_sections(session: Session, content: Mapping[str, Any]) -> list[dict[str, str]] | None:
    """The sections of the document version a decision subject names, or None when the
    subject is not a document."""
    if "document_id" not in content:
        return None
    row = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == content["document_id"],
            DocumentVersion.number == content["version"],
        )
    )
    if row is None:
        return []
    return [{"key": s["key"], "title": s["title"], "body": s["body"]} for s in row.sections]
