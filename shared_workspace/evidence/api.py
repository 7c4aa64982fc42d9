"""JSON API for evidence: items, uploads (presigned multipart and streamed), downloads and
zip exports. The browser's uploader uses the same rules through views.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Response, current_app, redirect, request
from flask_login import current_user
from sqlalchemy import select

from app import audit
from app.api import api, dump, operation, parse_body
from app.api.errors import ApiError
from app.db import commit_despite_status, get_session
from app.jobs import enqueue
from app.storage import get_storage
from app.storage.base import InvalidUpload
from app.storage.request_body import request_body
from app.tenancy import get_or_404
from shared_workspace.evidence import jobs, service, uploads
from shared_workspace.evidence.models import (
    EvidenceExport,
    EvidenceFile,
    EvidenceItem,
    FileState,
    Method,
)
from shared_workspace.evidence.schemas import (
    CompleteSchema,
    ExportSchema,
    FileResultSchema,
    ItemCreateSchema,
    ItemPageSchema,
    ItemResultSchema,
    ItemUpdateSchema,
    PartsRequestSchema,
    PartUrlsSchema,
    UploadStartedSchema,
    UploadStartSchema,
    UploadStatusSchema,
)
from shared_workspace.models import Workspace
from tenants.models import Tenant, User

TAGS = ["evidence"]
DOWNLOAD_SECONDS = 60


def me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def upload_settings() -> uploads.UploadSettings:
    return uploads.UploadSettings.from_config(current_app.extensions["config"])


def workspace_of(workspace_id: int) -> Workspace:
    return get_or_404(get_session(), Workspace, workspace_id)


def item_of(workspace_id: int, evidence_id: int) -> tuple[Workspace, EvidenceItem]:
    """The workspace and item, or 404 when either is not this inspectorate's to see."""
    workspace = workspace_of(workspace_id)
    item = get_or_404(get_session(), EvidenceItem, evidence_id)
    if item.workspace_id != workspace.id:
        raise ApiError(404, "Not Found")
    return workspace, item


def file_of(workspace_id: int, evidence_id: int, file_id: int) -> tuple[EvidenceItem, EvidenceFile]:
    _workspace, item = item_of(workspace_id, evidence_id)
    file = get_or_404(get_session(), EvidenceFile, file_id)
    if file.item_id != item.id:
        raise ApiError(404, "Not Found")
    return item, file


def export_of(workspace_id: int, export_id: int) -> EvidenceExport:
    workspace = workspace_of(workspace_id)
    export = get_or_404(get_session(), EvidenceExport, export_id)
    if export.workspace_id != workspace.id:
        raise ApiError(404, "Not Found")
    return export


@contextmanager
def evidence_rules() -> Iterator[None]:
    """A broken evidence rule becomes its problem answer (413, 415, 403, 409 or 422). An
    upload refused after it arrived keeps its rejected record (``UploadRefused``)."""
    try:
        yield
    except service.EvidenceError as exc:
        if isinstance(exc, uploads.UploadRefused):
            commit_despite_status()
        titles = {
            403: "Forbidden",
            409: "Conflict",
            411: "Length Required",
            413: "Content Too Large",
            415: "Unsupported Media Type",
        }
        raise ApiError(
            exc.status,
            titles.get(exc.status, "Unprocessable Content"),
            str(exc),
            errors={exc.field: [str(exc)]},
        ) from None
    except InvalidUpload:
        raise ApiError(
            409, "Conflict", "This upload is no longer in progress; start it again"
        ) from None


def after_upload(file: EvidenceFile, duplicates: list[EvidenceFile]) -> list[str]:
    """Queue the scan once the upload's transaction commits; warn about duplicates."""
    enqueue(jobs.scan_file, file.tenant_id, file.id)
    return [
        f"The same file is already evidence: “{d.filename}” (file {d.id} of item {d.item_id})"
        for d in duplicates
    ]


def filters_from(args) -> service.Filters:  # type: ignore[no-untyped-def]
    def number(name: str) -> int | None:
        value = args.get(name, "")
        return int(value) if value.isdecimal() and 0 < int(value) < 2**31 else None

    tenant_id = None
    slug = args.get("inspectorate", "").strip()
    if slug:
        found = get_session().scalar(select(Tenant.id).where(Tenant.slug == slug))
        tenant_id = found if found is not None else -1
    method = args.get("method", "").strip()
    return service.Filters(
        method=method if method in {m.value for m in Method} else None,
        site_id=number("site_id"),
        criterion=args.get("criterion", "").strip()[:300] or None,
        tenant_id=tenant_id,
        text=args.get("q", "").strip()[:200] or None,
    )


@api.get("/workspaces/<int:workspace_id>/evidence")
@operation(
    summary="Evidence this inspectorate can see, newest first, filtered and paged "
    "(method, site_id, criterion, inspectorate, q, cursor, limit)",
    tags=TAGS,
    response=ItemPageSchema,
    scope="read",
)
def list_evidence(workspace_id: int) -> Response:
    workspace = workspace_of(workspace_id)
    limit = request.args.get("limit", "")
    page = service.list_items(
        get_session(),
        workspace,
        filters_from(request.args),
        cursor=request.args.get("cursor"),
        limit=int(limit) if limit.isdecimal() else service.PAGE_SIZE,
        with_file_counts=False,  # not in the API's answer
    )
    return dump(ItemPageSchema(), page)


@api.post("/workspaces/<int:workspace_id>/evidence")
@operation(
    summary="Record an evidence item for your inspectorate",
    tags=TAGS,
    body=ItemCreateSchema,
    response=ItemResultSchema,
    status=201,
    scope="write",
)
def create_evidence(workspace_id: int) -> Response:
    workspace = workspace_of(workspace_id)
    data = parse_body(ItemCreateSchema())
    with evidence_rules():
        item, warnings = service.create_item(get_session(), workspace, me(), **data)
    return dump(ItemResultSchema(), {"item": item, "files": [], "warnings": warnings}, 201)


@api.get("/workspaces/<int:workspace_id>/evidence/<int:evidence_id>")
@operation(summary="One evidence item and its files", tags=TAGS, response=ItemResultSchema)
def get_evidence(workspace_id: int, evidence_id: int) -> Response:
    _workspace, item = item_of(workspace_id, evidence_id)
    files = service.files_of(get_session(), item)
    return dump(ItemResultSchema(), {"item": item, "files": files, "warnings": []})


@api.patch("/workspaces/<int:workspace_id>/evidence/<int:evidence_id>")
@operation(
    summary="Change an item (owning inspectorate only)",
    tags=TAGS,
    body=ItemUpdateSchema,
    response=ItemResultSchema,
    scope="write",
)
def update_evidence(workspace_id: int, evidence_id: int) -> Response:
    _workspace, item = item_of(workspace_id, evidence_id)
    data = parse_body(ItemUpdateSchema())
    retention_class = item.retention_class
    with evidence_rules():
        warnings = service.update_item(get_session(), item, me(), data)
    if item.retention_class != retention_class:
        # The stored objects' tags follow once the new class is committed.
        enqueue(jobs.retag_item_files, item.tenant_id, item.id)
    files = service.files_of(get_session(), item)
    return dump(ItemResultSchema(), {"item": item, "files": files, "warnings": warnings})


@api.put("/workspaces/<int:workspace_id>/evidence/<int:evidence_id>/files")
@operation(
    summary="Upload a file as the request body (query: name, sha256; Content-Length "
    "required); it is hashed while it streams into quarantine, then scanned",
    tags=TAGS,
    response=FileResultSchema,
    status=201,
    scope="write",
)
def stream_file(workspace_id: int, evidence_id: int) -> Response:
    _workspace, item = item_of(workspace_id, evidence_id)
    settings = upload_settings()
    # Werkzeug reports a Content-Length of 0 as None; an empty file must be refused as empty.
    length = request.headers.get("Content-Length", "")
    size = int(length) if length.isdecimal() else None
    with evidence_rules():
        uploads.check_declared(request.args.get("name", ""), size, settings)
        # Larger than the app's limit for forms and JSON; the evidence limit was just checked.
        request.max_content_length = settings.max_bytes
        file, duplicates = uploads.stream_upload(
            get_session(),
            get_storage(),
            item,
            me(),
            filename=request.args.get("name", ""),
            stream=request_body(request),
            size=size,
            sha256=request.args.get("sha256"),
            content_type=request.mimetype,
            settings=settings,
        )
    warnings = after_upload(file, duplicates)
    result = {"file": file, "warnings": warnings, "duplicates": duplicates}
    return dump(FileResultSchema(), result, 201)


@api.post("/workspaces/<int:workspace_id>/evidence/<int:evidence_id>/uploads")
@operation(
    summary="Start a multipart upload; then ask for part URLs, PUT the parts, complete",
    tags=TAGS,
    body=UploadStartSchema,
    response=UploadStartedSchema,
    status=201,
    scope="write",
)
def start_upload(workspace_id: int, evidence_id: int) -> Response:
    _workspace, item = item_of(workspace_id, evidence_id)
    data = parse_body(UploadStartSchema())
    with evidence_rules():
        file = uploads.start_upload(
            get_session(), get_storage(), item, me(), settings=upload_settings(), **data
        )
    started = {"file": file, "part_size": file.part_size, "part_count": uploads.part_count(file)}
    return dump(UploadStartedSchema(), started, 201)


@api.get("/workspaces/<int:workspace_id>/evidence/<int:evidence_id>/files/<int:file_id>")
@operation(
    summary="A file's state (and the parts received, while uploading)",
    tags=TAGS,
    response=UploadStatusSchema,
)
def file_status(workspace_id: int, evidence_id: int, file_id: int) -> Response:
    _item, file = file_of(workspace_id, evidence_id, file_id)
    with evidence_rules():
        parts = uploads.uploaded_parts(get_storage(), file)
    return dump(UploadStatusSchema(), {"file": file, "parts": parts})


@api.post("/workspaces/<int:workspace_id>/evidence/<int:evidence_id>/files/<int:file_id>/parts")
@operation(
    summary="Presigned URLs to PUT parts of your upload to",
    tags=TAGS,
    body=PartsRequestSchema,
    response=PartUrlsSchema,
    scope="write",
)
def presign_parts(workspace_id: int, evidence_id: int, file_id: int) -> Response:
    _item, file = file_of(workspace_id, evidence_id, file_id)
    data = parse_body(PartsRequestSchema())
    with evidence_rules():
        urls = uploads.presign_parts(get_storage(), file, me(), data["part_numbers"])
    return dump(PartUrlsSchema(), {"urls": {str(n): url for n, url in urls.items()}})


@api.post("/workspaces/<int:workspace_id>/evidence/<int:evidence_id>/files/<int:file_id>/complete")
@operation(
    summary="Finish your upload: sizes and (up to 256 MiB) the SHA-256 are checked now, a "
    "mismatch refused with 422; the scan checks the SHA-256 again, and the type and viruses",
    tags=TAGS,
    body=CompleteSchema,
    response=FileResultSchema,
    status=202,
    scope="write",
)
def complete_upload(workspace_id: int, evidence_id: int, file_id: int) -> Response:
    _item, file = file_of(workspace_id, evidence_id, file_id)
    data = parse_body(CompleteSchema())
    with evidence_rules():
        duplicates = uploads.complete_upload(
            get_session(), get_storage(), file, me(), data["sha256"]
        )
    warnings = after_upload(file, duplicates)
    return dump(
        FileResultSchema(), {"file": file, "warnings": warnings, "duplicates": duplicates}, 202
    )


@api.delete("/workspaces/<int:workspace_id>/evidence/<int:evidence_id>/files/<int:file_id>")
@operation(summary="Cancel your upload in progress", tags=TAGS, status=204, scope="write")
def cancel_upload(workspace_id: int, evidence_id: int, file_id: int) -> Response:
    _item, file = file_of(workspace_id, evidence_id, file_id)
    with evidence_rules():
        uploads.abort_upload(get_session(), get_storage(), file, me())
    return Response(status=204)


def download_redirect(file: EvidenceFile) -> Response:
    """Audit the download, then send the browser to a URL valid for 60 seconds."""
    if file.state != FileState.CLEAN.value:
        raise ApiError(409, "Conflict", "Only scanned, clean files can be downloaded")
    audit.record(
        get_session(),
        tenant_id=current_user.tenant_id,
        action="evidence_file.downloaded",
        object_type="evidence_file",
        object_id=file.id,
        changes={"filename": file.filename, "sha256": file.sha256},
    )
    url = get_storage().presign_get(
        file.evidence_key, expires=DOWNLOAD_SECONDS, filename=file.filename
    )
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("/workspaces/<int:workspace_id>/evidence/<int:evidence_id>/files/<int:file_id>/download")
@operation(summary="Download a file: an audited redirect to a 60-second link", tags=TAGS)
def download_file(workspace_id: int, evidence_id: int, file_id: int) -> Response:
    _item, file = file_of(workspace_id, evidence_id, file_id)
    return download_redirect(file)


def start_export(workspace: Workspace) -> EvidenceExport:
    export = EvidenceExport(
        workspace_id=workspace.id, tenant_id=current_user.tenant_id, requested_by_id=me().id
    )
    get_session().add(export)
    get_session().flush()
    enqueue(jobs.build_export, export.tenant_id, export.id)
    return export


@api.post("/workspaces/<int:workspace_id>/evidence-exports")
@operation(
    summary="Zip the workspace's evidence your inspectorate can see (built by a job)",
    tags=TAGS,
    response=ExportSchema,
    status=202,
    scope="write",
)
def create_export(workspace_id: int) -> Response:
    return dump(ExportSchema(), start_export(workspace_of(workspace_id)), 202)


@api.get("/workspaces/<int:workspace_id>/evidence-exports/<int:export_id>")
@operation(summary="An export's progress", tags=TAGS, response=ExportSchema)
def get_export(workspace_id: int, export_id: int) -> Response:
    return dump(ExportSchema(), export_of(workspace_id, export_id))


def export_redirect(export: EvidenceExport) -> Response:
    if export.state == "failed":
        raise ApiError(410, "Gone", export.error or "The export failed: make a new one")
    if export.state != "ready":
        raise ApiError(409, "Conflict", "The export is not ready yet")
    audit.record(
        get_session(),
        tenant_id=current_user.tenant_id,
        action="evidence_export.downloaded",
        object_type="evidence_export",
        object_id=export.id,
        changes={"files": export.total_files},
    )
    url = get_storage().presign_get(
        export.key, expires=DOWNLOAD_SECONDS, filename=f"evidence-{export.workspace_id}.zip"
    )
    return redirect(url, code=302)


@api.get("/workspaces/<int:workspace_id>/evidence-exports/<int:export_id>/download")
@operation(summary="Download a finished export (audited, 60-second link)", tags=TAGS)
def download_export(workspace_id: int, export_id: int) -> Response:
    return export_redirect(export_of(workspace_id, export_id))
