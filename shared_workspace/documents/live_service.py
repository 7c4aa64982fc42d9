"""The rules of live co-editing, as plain functions on a session: who may read or write a
section live, storing each update as it arrives, and compacting the live text into a version
of the document through ``service.save`` (so merging, section owners, history, diffs, comments,
exports and decision subjects all work on it as on any other save).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from pycrdt import Doc
from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.db import set_context, utcnow
from shared_workspace.documents import live_content, richtext, service
from shared_workspace.documents.merge import merge
from shared_workspace.documents.models import Document, PendingSave, SectionOwner
from shared_workspace.models import Participant, Workspace
from tenants.models import User

from .live_models import LiveSection, LiveUpdate

log = logging.getLogger(__name__)

#: Squash a section's compacted updates into one row once there are this many.
SQUASH_AFTER = 400
#: Names listed in a live version's note before "and N others".
NOTE_NAMES = 4


class Access(enum.Enum):
    EDIT = "edit"
    READ = "read"
    NONE = "none"


@dataclass(frozen=True)
class Identity:
    """Who is on a socket, fixed when it opened."""

    user_id: int
    tenant_id: int
    session_version: int
    name: str
    inspectorate: str
    colour: str


@dataclass(frozen=True)
class Target:
    workspace_id: int
    document_id: int
    section_key: str


@dataclass(frozen=True)
class Compacted:
    #: The version the live text went into, when a new one was made.
    version_number: int | None = None
    #: A server update the live document must take (another save changed the section).
    server_update: bytes | None = None
    #: The section is no longer in the document, or cannot be edited live any more.
    closed_reason: str = ""


def act_as(session: Session, user_id: int, tenant_id: int, label: str = "") -> None:
    """Scope the session to a user as a request would (both isolation walls, the audit log)."""
    set_context(session, tenant_id=tenant_id, user_id=user_id)
    session.info["actor"] = audit.Actor(user_id, tenant_id, label or f"user {user_id}")


def identity_of(user: User) -> Identity:
    return Identity(
        user_id=user.id,
        tenant_id=user.tenant_id,
        session_version=user.session_version,
        name=user.name,
        inspectorate=user.tenant.short_name,
        colour=user.tenant.colour if _is_colour(user.tenant.colour) else "#1d70b8",
    )


def _is_colour(value: str) -> bool:
    return (
        len(value) == 7
        and value[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in value[1:])
    )


def access(session: Session, who: Identity, target: Target) -> Access:
    """What ``who`` may do in the section now: one query, run at open and on every update.

    NONE when the user was deactivated, signed out everywhere, or their inspectorate no longer
    takes part in the workspace; READ when another inspectorate drafts the section."""
    users, participants = User.__table__, Participant.__table__
    documents, owners = Document.__table__, SectionOwner.__table__
    row = (
        session.connection()
        .execute(
            select(
                users.c.active,
                users.c.session_version,
                exists()
                .where(
                    participants.c.workspace_id == target.workspace_id,
                    participants.c.tenant_id == who.tenant_id,
                )
                .label("participates"),
                exists()
                .where(
                    documents.c.id == target.document_id,
                    documents.c.workspace_id == target.workspace_id,
                    documents.c.destroyed_at.is_(None),
                )
                .label("document"),
                select(owners.c.tenant_id)
                .where(
                    owners.c.document_id == target.document_id,
                    owners.c.section_key == target.section_key,
                )
                .scalar_subquery()
                .label("owner"),
            ).where(users.c.id == who.user_id, users.c.tenant_id == who.tenant_id)
        )
        .first()
    )
    if row is None or not row.active or row.session_version != who.session_version:
        return Access.NONE
    if not row.participates or not row.document:
        return Access.NONE
    return Access.EDIT if row.owner in (None, who.tenant_id) else Access.READ


def open_section(session: Session, document: Document, section_key: str) -> LiveSection:
    """The live state of a section, created from the latest version's body on first use."""
    row = _find(session, document.id, section_key)
    if row is not None:
        return row
    head = service.head(session, document)
    body = next((s["body"] for s in head.sections if s["key"] == section_key), None)
    if body is None:
        raise LookupError(section_key)
    seed = live_content.seed_update(body)
    try:
        with session.begin_nested():
            row = LiveSection(
                document_id=document.id,
                workspace_id=document.workspace_id,
                section_key=section_key,
                synced_number=head.number,
            )
            session.add(row)
            session.flush()
            session.add(
                LiveUpdate(
                    live_section_id=row.id,
                    workspace_id=row.workspace_id,
                    payload=seed,
                    compacted=True,
                )
            )
            session.flush()
    except IntegrityError:
        # Another process seeded it first; its seed is the one everybody builds on.
        row = _find(session, document.id, section_key)
        assert row is not None
    return row


def _find(session: Session, document_id: int, section_key: str) -> LiveSection | None:
    return session.scalar(
        select(LiveSection).where(
            LiveSection.document_id == document_id, LiveSection.section_key == section_key
        )
    )


def updates(session: Session, live_section_id: int) -> list[bytes]:
    """Every stored update of the section, oldest first: applied in turn they give its text."""
    return list(
        session.scalars(
            select(LiveUpdate.payload)
            .where(LiveUpdate.live_section_id == live_section_id)
            .order_by(LiveUpdate.id)
        )
    )


def store_update(
    session: Session, who: Identity, target: Target, live_section_id: int, payload: bytes
) -> Access:
    """Store an update from ``who`` if they may edit the section now; answers their access
    (nothing is stored unless it is EDIT)."""
    allowed = access(session, who, target)
    if allowed is Access.EDIT:
        session.execute(
            insert(LiveUpdate).values(
                live_section_id=live_section_id,
                workspace_id=target.workspace_id,
                user_id=who.user_id,
                tenant_id=who.tenant_id,
                payload=payload,
                compacted=False,
                created_at=utcnow(),
            )
        )
    return allowed


def compact(session: Session, live_section_id: int) -> Compacted:
    """Make a version of the live text when it changed since the last one, merged with anything
    saved meanwhile by other means; bring the live text up to versions saved by other means.

    Idempotent and safe from any process: compactions of one section are serialised on its row,
    saves of one document on the document's row."""
    section = session.scalar(
        select(LiveSection)
        .where(LiveSection.id == live_section_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if section is None:
        return Compacted(closed_reason="This section is no longer edited live")
    rows = session.execute(
        select(
            LiveUpdate.id,
            LiveUpdate.payload,
            LiveUpdate.user_id,
            LiveUpdate.tenant_id,
            LiveUpdate.compacted,
        )
        .where(LiveUpdate.live_section_id == section.id)
        .order_by(LiveUpdate.id)
    ).all()
    document = session.scalar(
        select(Document)
        .where(Document.id == section.document_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if document is None:
        return Compacted(closed_reason="This document no longer exists")
    doc = Doc()
    for row in rows:
        doc.apply_update(row.payload)
    head = service.head(session, document)
    head_body = _body(head.sections, section.section_key)
    if head_body is None:
        return Compacted(closed_reason="This section was removed from the document")
    fresh = [row for row in rows if not row.compacted]
    number = None
    if fresh:
        try:
            body = live_content.body_of(doc)
        except richtext.SectionTooLarge as exc:
            return Compacted(closed_reason=str(exc))
        base = service.version(session, document, section.synced_number)
        if body != _body(base.sections, section.section_key):
            number = _save(session, section, document, head, base, body, fresh)
        session.execute(
            update(LiveUpdate)
            .where(LiveUpdate.live_section_id == section.id, LiveUpdate.id <= fresh[-1].id)
            .values(compacted=True)
        )
        head = service.head(session, document)
        head_body = _body(head.sections, section.section_key) or ""
    server_update = None
    before = doc.get_state()
    changed = live_content.apply_body(doc, head_body)
    if changed:
        server_update = doc.get_update(before)
        session.add(
            LiveUpdate(
                live_section_id=section.id,
                workspace_id=section.workspace_id,
                payload=server_update,
                compacted=True,
            )
        )
    section.synced_number = head.number
    section.compacted_at = utcnow()
    session.flush()
    _squash(session, section, rows, doc)
    return Compacted(number, server_update)


def _body(sections: list[dict[str, str]], key: str) -> str | None:
    return next((s["body"] for s in sections if s["key"] == key), None)


def _save(session, section, document, head, base, body, fresh) -> int:  # type: ignore[no-untyped-def]
    """Save the live body as a version by the inspectorates who typed it."""
    workspace = session.get(Workspace, document.workspace_id)
    authors = _authors(
        session, [(row.user_id, row.tenant_id) for row in fresh if row.user_id is not None]
    )
    owner = service.owners(session, document).get(section.section_key)
    allowed = [u for u in authors if owner in (None, u.tenant_id)]
    if not allowed:
        raise service.DocumentError("Nobody who typed this text may still edit the section")
    author = allowed[-1]
    act_as(session, author.id, author.tenant_id, author.email)
    names = [f"{u.name} ({u.tenant.short_name})" for u in authors]
    shown = names[:NOTE_NAMES] + (
        [f"{len(names) - NOTE_NAMES} others"] if len(names) > NOTE_NAMES else []
    )
    note = "live editing by " + (
        " and ".join(shown) if len(shown) < 3 else ", ".join(shown[:-1]) + " and " + shown[-1]
    )
    mine = [{**s, "body": body} if s["key"] == section.section_key else s for s in base.sections]
    merged = (
        None
        if head.number == base.number
        else merge(
            service.as_version(base.sections),
            service.as_version(head.sections),
            service.as_version(mine),
        )
    )
    if merged is None or merged.clean:
        base_number, sections = base.number, mine
    else:
        # Someone saved an overlapping change to this section by other means. The live text,
        # which everyone in the room sees and is typing into, becomes the version; the other
        # writer's text is not overwritten: it goes back to them as a pending save showing
        # both texts side by side, for them to resolve like any conflicting save.
        note += (
            f"; text saved meanwhile by other means (up to version {head.number}) overlapped "
            "and was returned to its writer to resolve"
        )
        base_number = head.number
        sections = [
            {**s, "body": body} if s["key"] == section.section_key else s for s in head.sections
        ]
    saved = service.save(
        session, workspace, document, author, base_number=base_number, sections=sections, note=note
    )
    assert saved.version is not None and saved.pending is None
    if merged is not None and not merged.clean:
        _return_to_writer(session, section.section_key, document, base, head, saved.version)
    return saved.version.number


def _return_to_writer(session, key, document, base, head, live) -> None:  # type: ignore[no-untyped-def]
    """Give each writer who changed this section by form or API since the live sync base
    (while it was being typed live) a pending save of their version, conflicting with the
    live version, to resolve like any conflicting save."""
    previous = base
    given: set[int] = set()
    for number in range(base.number + 1, head.number + 1):
        version = service.version(session, document, number)
        changed = _body(version.sections, key) != _body(previous.sections, key)
        previous = version
        if not changed or version.author_id is None or version.author_id in given:
            continue
        result = merge(
            service.as_version(base.sections),
            service.as_version(live.sections),
            service.as_version(version.sections),
        )
        if result.clean:
            continue
        given.add(version.author_id)
        label = version.author.email if version.author else ""
        act_as(session, version.author_id, version.tenant_id, label)
        session.add(
            PendingSave(
                document_id=document.id,
                workspace_id=document.workspace_id,
                tenant_id=version.tenant_id,
                author_id=version.author_id,
                base_number=base.number,
                head_number=live.number,
                sections=list(version.sections),
                conflicts=[service.conflict_row(c) for c in result.conflicts],
            )
        )
        session.flush()


def _authors(session: Session, senders: list[tuple[int, int]]) -> list[User]:
    """The users who sent the updates, in the order they first did; each is read under their
    own tenant's scope (people of one inspectorate need not be visible to another)."""
    ordered = list(dict.fromkeys(senders))
    found: dict[int, User] = {}
    for tenant_id in sorted({tenant_id for _user_id, tenant_id in ordered}):
        set_context(session, tenant_id=tenant_id)
        ids = [user_id for user_id, tenant in ordered if tenant == tenant_id]
        for user in session.scalars(select(User).where(User.id.in_(ids))):
            found[user.id] = user
    return [found[user_id] for user_id, _tenant_id in ordered if user_id in found]


def _squash(session: Session, section: LiveSection, rows: list, doc: Doc) -> None:  # type: ignore[type-arg]
    """Replace the many small updates just compacted by one holding the same document (built
    from exactly them): the text and its CRDT identities are the same, so clients holding the
    old updates still converge, and the next load applies one update instead of thousands."""
    if len(rows) < SQUASH_AFTER:
        return
    session.execute(delete(LiveUpdate).where(LiveUpdate.id.in_([row.id for row in rows])))
    session.add(
        LiveUpdate(
            live_section_id=section.id,
            workspace_id=section.workspace_id,
            payload=doc.get_update(),
            compacted=True,
        )
    )
    session.flush()


def uncompacted_sections(session: Session) -> list[int]:
    """Live sections of the current tenant's workspaces with updates not yet in a version."""
    return list(
        session.scalars(
            select(LiveUpdate.live_section_id)
            .where(LiveUpdate.compacted.is_(False))
            .group_by(LiveUpdate.live_section_id)
            .having(func.count() > 0)
        )
    )
