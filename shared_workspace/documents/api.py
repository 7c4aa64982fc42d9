"""JSON API for co-edited documents. Saves carry the version they started from in If-Match;
a stale one is merged, or answered 409 with both texts of every conflicting section."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Response, redirect, request
from sqlalchemy import select

from app import audit
from app.api import api, dump, operation, parse_body
from app.api.errors import ApiError
from app.db import commit_despite_status, get_session
from app.jobs import enqueue
from app.storage import get_storage
from shared_workspace.api import _in, _me, _rules, _tenant, _workspace
from shared_workspace.documents import exports, review, service
from shared_workspace.documents.diff import diff_versions
from shared_workspace.documents.models import (
    Comment,
    Document,
    DocumentExport,
    PendingSave,
    RedLine,
    Suggestion,
)
from shared_workspace.documents.schemas import (
    CommentCreateSchema,
    CommentSchema,
    DocumentCreateSchema,
    DocumentSaveSchema,
    DocumentSchema,
    DocumentSummarySchema,
    ExportCreateSchema,
    ExportSchema,
    OwnerSchema,
    PresenceInSchema,
    PresenceSchema,
    RedLineCreateSchema,
    RedLineSchema,
    ReplySchema,
    ResolveSchema,
    ResolveThreadSchema,
    SectionDiffSchema,
    SuggestionCreateSchema,
    SuggestionDecisionSchema,
    SuggestionSchema,
    VersionSchema,
    VersionSummarySchema,
)
from shared_workspace.models import Workspace

TAGS = ["documents"]
DOC = "/workspaces/<int:workspace_id>/documents/<int:document_id>"
ETAG = re.compile(r'^(?:W/)?"(\d{1,10})-(\d{1,10})"$')


@contextmanager
def _doc_rules() -> Iterator[None]:
    try:
        with _rules():
            yield
    except service.StaleVersion as exc:
        raise ApiError(
            412, "Precondition Failed", str(exc), errors={"If-Match": [str(exc)]}
        ) from None
    except service.DocumentError as exc:
        raise ApiError(
            422, "Unprocessable Content", str(exc), errors={exc.field: [str(exc)]}
        ) from None


def _etag(document: Document) -> str:
    return f'"{document.id}-{document.head_number}"'


def _document_body(document: Document, merged_with: int | None = None) -> dict:  # type: ignore[type-arg]
    db = get_session()
    owned = service.owners(db, document)
    counts = review.open_counts(db, document)
    names = {p.tenant_id: p.tenant.slug for p in _workspace(document.workspace_id).participants}
    sections = [
        {
            **row,
            "owner": names.get(owned[row["key"]]) if row["key"] in owned else None,
            "open_comments": counts.get(row["key"], 0),
        }
        for row in service.head(db, document).sections
    ]
    return {
        "id": document.id,
        "kind": document.kind,
        "title": document.title,
        "marking": document.marking,
        "head_number": document.head_number,
        "subject_id": document.subject_id,
        "updated_at": document.updated_at,
        "sections": sections,
        "merged_with": merged_with,
    }


def _with_etag(response: Response, document: Document) -> Response:
    response.headers["ETag"] = _etag(document)
    return response


def _base_from_if_match(document: Document) -> int:
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise ApiError(
            428,
            "Precondition Required",
            "Send If-Match with the ETag of the version your edit started from, so that "
            "nobody's work is overwritten.",
        )
    match = ETAG.match(header)
    if match is None or int(match.group(1)) != document.id:
        raise ApiError(
            412,
            "Precondition Failed",
            "If-Match does not name a version of this document; reload it and edit again.",
            errors={"If-Match": ["Not a version of this document"]},
        )
    return int(match.group(2))


def _document(workspace: Workspace, document_id: int) -> Document:
    document: Document = _in(Document, workspace, document_id)
    if document.destroyed_at is not None:
        raise ApiError(410, "Gone", destroyed_message(document))
    return document


def destroyed_message(document: Document) -> str:
    """What a destroyed document's URLs answer: it is gone for good, and why."""
    assert document.destroyed_at is not None
    return (
        f"“{document.title}” was destroyed on {document.destroyed_at:%d %B %Y} under the "
        "retention rules; its text cannot be recovered. The destruction certificate is "
        "with your records manager"
    )


@api.get("/workspaces/<int:workspace_id>/documents")
@operation(
    summary="Documents of a joint inspection", tags=TAGS, response=DocumentSummarySchema, many=True
)
def list_documents(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    rows = get_session().scalars(
        select(Document).where(Document.workspace_id == workspace.id).order_by(Document.id)
    )
    return dump(DocumentSummarySchema(many=True), list(rows))


@api.post("/workspaces/<int:workspace_id>/documents")
@operation(
    summary="Create a document (version 1)",
    tags=TAGS,
    body=DocumentCreateSchema,
    response=DocumentSchema,
    status=201,
    scope="write",
)
def create_document(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(DocumentCreateSchema())
    with _doc_rules():
        document = service.create_document(get_session(), workspace, _me(), **data)
    return _with_etag(dump(DocumentSchema(), _document_body(document), 201), document)


@api.get(DOC)
@operation(
    summary="The latest version of a document, with its ETag", tags=TAGS, response=DocumentSchema
)
def get_document(workspace_id: int, document_id: int) -> Response:
    document = _document(_workspace(workspace_id), document_id)
    return _with_etag(dump(DocumentSchema(), _document_body(document)), document)


@api.put(DOC)
@operation(
    summary="Save the document; If-Match names the version the edit started from",
    tags=TAGS,
    body=DocumentSaveSchema,
    response=DocumentSchema,
    scope="write",
)
def save_document(workspace_id: int, document_id: int) -> Response:
    workspace = _workspace(workspace_id)
    document = _document(workspace, document_id)
    base = _base_from_if_match(document)
    data = parse_body(DocumentSaveSchema())
    with _doc_rules():
        saved = service.save(
            get_session(), workspace, document, _me(), base_number=base, sections=data["sections"]
        )
    if saved.pending is not None:
        raise _conflict(saved.pending)
    return _with_etag(dump(DocumentSchema(), _document_body(document, saved.merged_with)), document)


def _conflict(pending: PendingSave) -> ApiError:
    commit_despite_status()
    names = ", ".join(f"“{c['title']}”" for c in pending.conflicts)
    return ApiError(
        409,
        "Conflict",
        f"Someone else changed the same passages since version {pending.base_number}: {names}. "
        "Nothing was overwritten and your text is kept: choose what to keep for each section "
        f"and send it to the resolve link.",
        errors={"sections": [f"{c['title']}: edited by both" for c in pending.conflicts]},
        extensions={
            "pending_id": pending.id,
            "head_version": pending.head_number,
            "conflicts": pending.conflicts,
            "resolve": f"/api/v1/workspaces/{pending.workspace_id}/documents/"
            f"{pending.document_id}/pending/{pending.id}/resolve",
        },
    )


@api.post(DOC + "/pending/<int:pending_id>/resolve")
@operation(
    summary="Resolve a conflicting save: the text to keep for each conflicting section",
    tags=TAGS,
    body=ResolveSchema,
    response=DocumentSchema,
    scope="write",
)
def resolve_pending(workspace_id: int, document_id: int, pending_id: int) -> Response:
    workspace = _workspace(workspace_id)
    document = _document(workspace, document_id)
    pending = _in(PendingSave, workspace, pending_id)
    if pending.document_id != document.id:
        raise ApiError(404, "Not Found")
    data = parse_body(ResolveSchema())
    with _doc_rules():
        saved = service.resolve_pending(
            get_session(), workspace, pending, _me(), data["resolutions"], data["titles"]
        )
    if saved.pending is not None:
        raise _conflict(saved.pending)
    return _with_etag(dump(DocumentSchema(), _document_body(document)), document)


@api.get(DOC + "/versions")
@operation(
    summary="Every version, newest first", tags=TAGS, response=VersionSummarySchema, many=True
)
def list_versions(workspace_id: int, document_id: int) -> Response:
    document = _document(_workspace(workspace_id), document_id)
    return dump(VersionSummarySchema(many=True), service.history(get_session(), document))


@api.get(DOC + "/versions/<int:number>")
@operation(summary="One version of a document", tags=TAGS, response=VersionSchema)
def get_version(workspace_id: int, document_id: int, number: int) -> Response:
    document = _document(_workspace(workspace_id), document_id)
    with _doc_rules():
        row = service.version(get_session(), document, number)
    return dump(VersionSchema(), row)


@api.get(DOC + "/diff")
@operation(
    summary="A readable diff between two versions (?from=&to=)",
    tags=TAGS,
    response=SectionDiffSchema,
    many=True,
)
def diff(workspace_id: int, document_id: int) -> Response:
    document = _document(_workspace(workspace_id), document_id)
    numbers = []
    for name in ("from", "to"):
        value = request.args.get(name, "")
        if not value.isdecimal() or len(value) > 10:
            raise ApiError(
                422,
                "Unprocessable Content",
                f"Give ?{name}= a version number",
                errors={name: ["A version number"]},
            )
        numbers.append(int(value))
    db = get_session()
    with _doc_rules():
        old, new = (service.as_version(service.version(db, document, n).sections) for n in numbers)
    return dump(SectionDiffSchema(many=True), diff_versions(old, new))


@api.post(DOC + "/versions/<int:number>/restore")
@operation(
    summary="Restore an old version as a new one (lead only)",
    tags=TAGS,
    response=DocumentSchema,
    scope="write",
)
def restore_version(workspace_id: int, document_id: int, number: int) -> Response:
    workspace = _workspace(workspace_id)
    document = _document(workspace, document_id)
    with _doc_rules():
        service.restore(get_session(), workspace, document, _me(), number)
    return _with_etag(dump(DocumentSchema(), _document_body(document)), document)


@api.put(DOC + "/sections/<section_key>/owner")
@operation(
    summary="Say which inspectorate drafts a section (lead only, §6)",
    tags=TAGS,
    body=OwnerSchema,
    response=DocumentSchema,
    scope="write",
)
def assign_owner(workspace_id: int, document_id: int, section_key: str) -> Response:
    workspace = _workspace(workspace_id)
    document = _document(workspace, document_id)
    data = parse_body(OwnerSchema())
    tenant_id = _tenant(data["tenant"]).id if data["tenant"] else None
    with _doc_rules():
        service.assign_owner(get_session(), workspace, document, _me(), section_key[:64], tenant_id)
    return dump(DocumentSchema(), _document_body(document))


@api.get(DOC + "/comments")
@operation(summary="Comment threads and replies", tags=TAGS, response=CommentSchema, many=True)
def list_comments(workspace_id: int, document_id: int) -> Response:
    document = _document(_workspace(workspace_id), document_id)
    rows = [
        c for thread, replies in review.threads(get_session(), document) for c in [thread, *replies]
    ]
    return dump(CommentSchema(many=True), rows)


@api.post(DOC + "/comments")
@operation(
    summary="Comment on a section (or a factual-accuracy point with its source, §39)",
    tags=TAGS,
    body=CommentCreateSchema,
    response=CommentSchema,
    status=201,
    scope="write",
)
def add_comment(workspace_id: int, document_id: int) -> Response:
    document = _document(_workspace(workspace_id), document_id)
    data = parse_body(CommentCreateSchema())
    with _doc_rules():
        comment = review.add_comment(get_session(), document, _me(), **data)
    return dump(CommentSchema(), comment, 201)


@api.post(DOC + "/comments/<int:comment_id>/replies")
@operation(
    summary="Reply in a thread",
    tags=TAGS,
    body=ReplySchema,
    response=CommentSchema,
    status=201,
    scope="write",
)
def reply(workspace_id: int, document_id: int, comment_id: int) -> Response:
    workspace = _workspace(workspace_id)
    document = _document(workspace, document_id)
    parent = _in(Comment, workspace, comment_id)
    if parent.document_id != document.id:
        raise ApiError(404, "Not Found")
    data = parse_body(ReplySchema())
    with _doc_rules():
        comment = review.reply(get_session(), parent, _me(), data["body"])
    return dump(CommentSchema(), comment, 201)


@api.post(DOC + "/comments/<int:comment_id>/resolve")
@operation(
    summary="Resolve or reopen a thread (a factual-accuracy point records the response)",
    tags=TAGS,
    body=ResolveThreadSchema,
    response=CommentSchema,
    scope="write",
)
def resolve_thread(workspace_id: int, document_id: int, comment_id: int) -> Response:
    workspace = _workspace(workspace_id)
    document = _document(workspace, document_id)
    comment = _in(Comment, workspace, comment_id)
    if comment.document_id != document.id:
        raise ApiError(404, "Not Found")
    data = parse_body(ResolveThreadSchema())
    with _doc_rules():
        review.resolve_thread(get_session(), comment, _me(), **data)
    return dump(CommentSchema(), comment)


@api.get(DOC + "/suggestions")
@operation(summary="Open suggested edits", tags=TAGS, response=SuggestionSchema, many=True)
def list_suggestions(workspace_id: int, document_id: int) -> Response:
    document = _document(_workspace(workspace_id), document_id)
    return dump(SuggestionSchema(many=True), review.open_suggestions(get_session(), document))


@api.post(DOC + "/suggestions")
@operation(
    summary="Suggest an insert, delete or replace in a section",
    tags=TAGS,
    body=SuggestionCreateSchema,
    response=SuggestionSchema,
    status=201,
    scope="write",
)
def suggest(workspace_id: int, document_id: int) -> Response:
    document = _document(_workspace(workspace_id), document_id)
    data = parse_body(SuggestionCreateSchema())
    with _doc_rules():
        suggestion = review.suggest(get_session(), document, _me(), **data)
    return dump(SuggestionSchema(), suggestion, 201)


@api.post(DOC + "/suggestions/<int:suggestion_id>/decision")
@operation(
    summary="Accept or reject a suggestion (the section's owning inspectorate)",
    tags=TAGS,
    body=SuggestionDecisionSchema,
    response=SuggestionSchema,
    scope="write",
)
def decide_suggestion(workspace_id: int, document_id: int, suggestion_id: int) -> Response:
    workspace = _workspace(workspace_id)
    document = _document(workspace, document_id)
    suggestion = _in(Suggestion, workspace, suggestion_id)
    if suggestion.document_id != document.id:
        raise ApiError(404, "Not Found")
    data = parse_body(SuggestionDecisionSchema())
    with _doc_rules():
        review.decide(get_session(), workspace, document, suggestion, _me(), accept=data["accept"])
    return dump(SuggestionSchema(), suggestion)


@api.post(DOC + "/presence")
@operation(
    summary="Say you have the document (a section) open; answers who else has",
    tags=TAGS,
    body=PresenceInSchema,
    response=PresenceSchema,
    many=True,
    scope="read",
)
def presence(workspace_id: int, document_id: int) -> Response:
    document = _document(_workspace(workspace_id), document_id)
    data = parse_body(PresenceInSchema())
    db = get_session()
    review.here(db, document, _me(), data["section_key"])
    return dump(PresenceSchema(many=True), review.present(db, document, _me()))


@api.get("/workspaces/<int:workspace_id>/red-lines")
@operation(
    summary="Every inspectorate's drafting red lines (§5)",
    tags=TAGS,
    response=RedLineSchema,
    many=True,
)
def list_red_lines(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    return dump(RedLineSchema(many=True), review.red_lines(get_session(), workspace))


@api.post("/workspaces/<int:workspace_id>/red-lines")
@operation(
    summary="Record one of your inspectorate's red lines",
    tags=TAGS,
    body=RedLineCreateSchema,
    response=RedLineSchema,
    status=201,
    scope="write",
)
def add_red_line(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(RedLineCreateSchema())
    with _doc_rules():
        row = review.add_red_line(get_session(), workspace, _me(), data["text"])
    return dump(RedLineSchema(), row, 201)


@api.delete("/workspaces/<int:workspace_id>/red-lines/<int:red_line_id>")
@operation(
    summary="Withdraw one of your red lines", tags=TAGS, response=RedLineSchema, scope="write"
)
def withdraw_red_line(workspace_id: int, red_line_id: int) -> Response:
    workspace = _workspace(workspace_id)
    row = _in(RedLine, workspace, red_line_id)
    with _doc_rules():
        review.withdraw_red_line(get_session(), row, _me())
    return dump(RedLineSchema(), row)


@api.post(DOC + "/exports")
@operation(
    summary="Export a version to PDF or DOCX (runs as a job; poll its progress)",
    tags=TAGS,
    body=ExportCreateSchema,
    response=ExportSchema,
    status=202,
    scope="read",
)
def request_document_export(workspace_id: int, document_id: int) -> Response:
    workspace = _workspace(workspace_id)
    document = _document(workspace, document_id)
    data = parse_body(ExportCreateSchema())
    with _doc_rules():
        export = start_export(workspace, document, data["format"], data.get("version"))
    return dump(ExportSchema(), export, 202)


def start_export(
    workspace: Workspace, document: Document, fmt: str, number: int | None
) -> DocumentExport:
    """Record the request (audited) and queue the job once the request commits."""
    db = get_session()
    me = _me()
    row = service.version(db, document, number or document.head_number)
    export = DocumentExport(
        document_id=document.id,
        workspace_id=workspace.id,
        tenant_id=me.tenant_id,
        requested_by_id=me.id,
        version_number=row.number,
        format=fmt,
        draft=exports.is_draft(db, workspace, document),
    )
    db.add(export)
    db.flush()
    audit.record(
        db,
        tenant_id=me.tenant_id,
        action="document.export_requested",
        object_type="document",
        object_id=document.id,
        changes={"format": fmt, "version": row.number, "export_id": export.id},
    )
    enqueue(exports.build_export, export.id, me.tenant_id)
    return export


@api.get("/workspaces/<int:workspace_id>/document-exports/<int:document_export_id>")
@operation(summary="An export's progress", tags=TAGS, response=ExportSchema)
def get_document_export(workspace_id: int, document_export_id: int) -> Response:
    export = _in(DocumentExport, _workspace(workspace_id), document_export_id)
    get_session().refresh(export)
    return dump(ExportSchema(), export)


@api.get("/workspaces/<int:workspace_id>/document-exports/<int:document_export_id>/download")
@operation(summary="Download a finished export (a link valid for 60 seconds; audited)", tags=TAGS)
def download_document_export(workspace_id: int, document_export_id: int) -> Response:
    return download(_workspace(workspace_id), document_export_id)


def download(workspace: Workspace, document_export_id: int) -> Response:
    db = get_session()
    export = _in(DocumentExport, workspace, document_export_id)
    if export.status == "failed":
        raise ApiError(410, "Gone", export.error or "The export failed: make a new one")
    if export.status != "done":
        raise ApiError(409, "Conflict", f"The export is {export.status}, not ready yet")
    document = db.get(Document, export.document_id)
    assert document is not None
    if document.destroyed_at is not None:
        raise ApiError(410, "Gone", destroyed_message(document))
    audit.record(
        db,
        tenant_id=export.tenant_id,
        action="document.export_downloaded",
        object_type="document",
        object_id=export.document_id,
        changes={"format": export.format, "version": export.version_number},
    )
    slug = re.sub(r"[^a-z0-9]+", "-", document.title.lower()).strip("-")[:60] or "document"
    filename = f"{slug}-v{export.version_number}.{export.format}"
    url = get_storage().presign_get(export.storage_key, expires=60, filename=filename)
    response = redirect(url, 302)
    response.headers["Cache-Control"] = "no-store"
    return response
