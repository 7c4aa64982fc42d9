"""Reviewing a document together: comment threads, suggested edits that the section's owner
accepts or rejects, factual-accuracy comments (001 §39), red lines (§5) and presence."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from shared_workspace.documents import richtext
from shared_workspace.documents.merge import Section
from shared_workspace.documents.models import (
    Comment,
    Document,
    Presence,
    RedLine,
    Suggestion,
)
from shared_workspace.documents.service import (
    DocumentError,
    as_version,
    head,
    owners,
    save,
)
from shared_workspace.models import Workspace
from tenants.models import User

MAX_COMMENT = 10_000
MAX_QUOTE = 2_000
PRESENCE_WINDOW = timedelta(seconds=60)


def _text(value: str, limit: int, what: str, field: str) -> str:
    value = value.strip()
    if len(value) > limit:
        raise DocumentError(f"Keep the {what} to {limit:,} characters or fewer", field)
    if any(ch < " " and ch not in "\n\t" for ch in value):
        raise DocumentError(f"The {what} contains control characters", field)
    return value


def _section_keys(session: Session, document: Document) -> dict[str, str]:
    return {row["key"]: row["title"] for row in head(session, document).sections}


def add_comment(
    session: Session,
    document: Document,
    user: User,
    *,
    section_key: str,
    body: str,
    quote: str = "",
    kind: str = "comment",
    source: str = "",
) -> Comment:
    """Open a thread on a section (and a quoted passage of it)."""
    if section_key not in _section_keys(session, document):
        raise DocumentError("There is no such section in the latest version", "section_key")
    if kind not in ("comment", "factual_accuracy"):
        raise DocumentError("A comment is a comment or a factual-accuracy comment", "kind")
    body = _text(body, MAX_COMMENT, "comment", "body")
    if not body:
        raise DocumentError("Write the comment", "body")
    source = _text(source, 300, "source", "source")
    if kind == "factual_accuracy" and not source:
        raise DocumentError(
            "Say who raised the factual-accuracy point, e.g. “Inspected body: HMP Manchester”",
            "source",
        )
    comment = Comment(
        document_id=document.id,
        workspace_id=document.workspace_id,
        section_key=section_key,
        quote=_text(quote, MAX_QUOTE, "quoted passage", "quote"),
        body=body,
        kind=kind,
        source=source,
        author_id=user.id,
        tenant_id=user.tenant_id,
    )
    session.add(comment)
    session.flush()
    return comment


def reply(session: Session, parent: Comment, user: User, body: str) -> Comment:
    if parent.parent_id is not None:
        raise DocumentError("Reply to the thread's first comment", "parent")
    if parent.resolved_at is not None:
        raise DocumentError("This thread is resolved; reopen it to reply")
    body = _text(body, MAX_COMMENT, "reply", "body")
    if not body:
        raise DocumentError("Write the reply", "body")
    comment = Comment(
        document_id=parent.document_id,
        workspace_id=parent.workspace_id,
        section_key=parent.section_key,
        body=body,
        parent_id=parent.id,
        kind=parent.kind,
        author_id=user.id,
        tenant_id=user.tenant_id,
    )
    session.add(comment)
    session.flush()
    return comment


def resolve_thread(
    session: Session, comment: Comment, user: User, *, response: str = "", reopen: bool = False
) -> Comment:
    """Resolve (or reopen) a thread; a factual-accuracy point records the team's response."""
    if comment.parent_id is not None:
        raise DocumentError("Resolve the thread from its first comment", "comment")
    if reopen:
        comment.resolved_at, comment.resolved_by_id = None, None
    else:
        response = _text(response, MAX_COMMENT, "response", "response")
        if comment.kind == "factual_accuracy" and not (response or comment.response):
            raise DocumentError(
                "Record the response to the factual-accuracy point before resolving it",
                "response",
            )
        if response:
            comment.response = response
        comment.resolved_at, comment.resolved_by_id = utcnow(), user.id
    session.flush()
    return comment


def open_counts(session: Session, document: Document) -> dict[str, int]:
    """Open threads per section key."""
    rows = session.execute(
        select(Comment.section_key, func.count())
        .where(
            Comment.document_id == document.id,
            Comment.parent_id.is_(None),
            Comment.resolved_at.is_(None),
        )
        .group_by(Comment.section_key)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def threads(session: Session, document: Document) -> list[tuple[Comment, list[Comment]]]:
    """Every thread with its replies, oldest first."""
    rows = session.scalars(
        select(Comment).where(Comment.document_id == document.id).order_by(Comment.id)
    ).all()
    replies: dict[int, list[Comment]] = {}
    for row in rows:
        if row.parent_id is not None:
            replies.setdefault(row.parent_id, []).append(row)
    return [(row, replies.get(row.id, [])) for row in rows if row.parent_id is None]


def suggest(
    session: Session,
    document: Document,
    user: User,
    *,
    section_key: str,
    operation: str,
    quote: str = "",
    text: str = "",
    reason: str = "",
) -> Suggestion:
    """Suggest inserting ``text`` after ``quote`` (at the end when empty), deleting ``quote``,
    or replacing ``quote`` with ``text``; quotes are plain text as the page shows it."""
    if section_key not in _section_keys(session, document):
        raise DocumentError("There is no such section in the latest version", "section_key")
    if operation not in ("insert", "delete", "replace"):
        raise DocumentError("Suggest an insert, a delete or a replace", "operation")
    quote = _text(quote, MAX_QUOTE, "quoted passage", "quote")
    text = _text(text, MAX_COMMENT, "suggested text", "text")
    if operation in ("delete", "replace") and not quote:
        raise DocumentError("Quote the passage to change", "quote")
    if operation in ("insert", "replace") and not text:
        raise DocumentError("Write the text to put in", "text")
    suggestion = Suggestion(
        document_id=document.id,
        workspace_id=document.workspace_id,
        section_key=section_key,
        operation=operation,
        quote=quote,
        text=text,
        reason=_text(reason, MAX_COMMENT, "reason", "reason"),
        version_number=document.head_number,
        author_id=user.id,
        tenant_id=user.tenant_id,
    )
    session.add(suggestion)
    session.flush()
    return suggestion


def _may_decide(session: Session, workspace: Workspace, document: Document, key: str, user: User):  # type: ignore[no-untyped-def]
    owner = owners(session, document).get(key, workspace.lead_tenant_id)
    if user.tenant_id != owner:
        raise DocumentError("Only the inspectorate that drafts this section can decide")


def _apply(body: str, suggestion: Suggestion) -> str:
    """The body with the suggestion applied, or DocumentError when its passage has gone."""
    if suggestion.operation == "insert" and not suggestion.quote:
        return body + f"<p>{escape(suggestion.text)}</p>"
    quoted = escape(suggestion.quote, quote=False)
    if quoted not in body:
        raise DocumentError(
            "The quoted passage is no longer in the section (or spans formatting); "
            "edit the section by hand and reject the suggestion",
            "quote",
        )
    new = escape(suggestion.text, quote=False)
    if suggestion.operation == "insert":
        replacement = quoted + (" " if new and not new.startswith(" ") else "") + new
    elif suggestion.operation == "delete":
        replacement = ""
    else:
        replacement = new
    return body.replace(quoted, replacement, 1)


def decide(
    session: Session,
    workspace: Workspace,
    document: Document,
    suggestion: Suggestion,
    user: User,
    *,
    accept: bool,
) -> Suggestion:
    """The section's owner accepts (making a new version) or rejects a suggestion."""
    if suggestion.status != "open":
        raise DocumentError(f"This suggestion was already {suggestion.status}")
    _may_decide(session, workspace, document, suggestion.section_key, user)
    if accept:
        current = head(session, document)
        sections = list(as_version(current.sections))
        for index, section in enumerate(sections):
            if section.key == suggestion.section_key:
                body = richtext.clean_section(_apply(section.body, suggestion))
                sections[index] = Section(section.key, section.title, body)
                break
        else:
            raise DocumentError("The section was removed; reject the suggestion instead")
        saved = save(
            session,
            workspace,
            document,
            user,
            base_number=current.number,
            sections=tuple(sections),
            note=f"accepted a suggestion by {suggestion.author.name}",
        )
        assert saved.version is not None
        suggestion.result_number = saved.version.number
    suggestion.status = "accepted" if accept else "rejected"
    suggestion.decided_by_id, suggestion.decided_at = user.id, utcnow()
    session.flush()
    return suggestion


def open_suggestions(session: Session, document: Document) -> list[Suggestion]:
    return list(
        session.scalars(
            select(Suggestion)
            .where(Suggestion.document_id == document.id, Suggestion.status == "open")
            .order_by(Suggestion.id)
        )
    )


def add_red_line(session: Session, workspace: Workspace, user: User, text: str) -> RedLine:
    """An inspectorate records a drafting red line for the joint report (§5)."""
    text = _text(text, 2_000, "red line", "text")
    if not text:
        raise DocumentError("Write the red line", "text")
    row = RedLine(workspace_id=workspace.id, tenant_id=user.tenant_id, text=text, author_id=user.id)
    session.add(row)
    session.flush()
    return row


def withdraw_red_line(session: Session, red_line: RedLine, user: User) -> RedLine:
    if red_line.tenant_id != user.tenant_id:
        raise DocumentError("Only the inspectorate that set a red line can withdraw it")
    red_line.withdrawn_at = utcnow()
    session.flush()
    return red_line


def red_lines(session: Session, workspace: Workspace) -> list[RedLine]:
    return list(
        session.scalars(
            select(RedLine)
            .where(RedLine.workspace_id == workspace.id, RedLine.withdrawn_at.is_(None))
            .order_by(RedLine.tenant_id, RedLine.id)
        )
    )


def here(session: Session, document: Document, user: User, section_key: str = "") -> None:
    """Record that the person has the document (and a section of it) open now."""
    row = session.scalar(
        select(Presence).where(Presence.document_id == document.id, Presence.user_id == user.id)
    )
    if row is None:
        row = Presence(
            document_id=document.id,
            workspace_id=document.workspace_id,
            user_id=user.id,
            tenant_id=user.tenant_id,
        )
        session.add(row)
    row.section_key = section_key[:64]
    row.seen_at = utcnow()
    session.flush()


def present(session: Session, document: Document, user: User) -> list[Presence]:
    """Who else has had the document open in the last minute, and which section."""
    return list(
        session.scalars(
            select(Presence)
            .where(
                Presence.document_id == document.id,
                Presence.user_id != user.id,
                Presence.seen_at >= utcnow() - PRESENCE_WINDOW,
            )
            .order_by(Presence.seen_at.desc())
        )
    )
