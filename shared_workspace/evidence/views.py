"""Evidence pages: the list with filters and search, recording an item, the item with its
files, uploader and audit trail, exports. The uploader's JSON endpoints live here too
(session and CSRF token, as the API takes bearer tokens only) and share the API's rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import abort, jsonify, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from app.api.errors import ApiError
from app.db import get_session
from app.forms import parse_form
from app.storage import get_storage
from app.storage.folder import FolderStorage
from shared_workspace.evidence import api as rules
from shared_workspace.evidence import service, uploads
from shared_workspace.evidence.models import (
    MARKINGS,
    METHOD_LABELS,
    RETENTION_CLASSES,
    EvidenceFile,
    FileState,
)
from shared_workspace.evidence.schemas import (
    CompleteSchema,
    ExportSchema,
    FileSchema,
    ItemFormSchema,
    PartSchema,
    PartsRequestSchema,
    UploadStartSchema,
)
from shared_workspace.models import Site
from shared_workspace.views import bp


def _page(lookup, *args):  # type: ignore[no-untyped-def]
    """Run an API lookup for a page: anything it refuses is answered 404."""
    try:
        return lookup(*args)
    except ApiError:
        abort(404)


def _json_error(status: int, message: str, field: str = "_rule") -> Response:
    response = jsonify({"error": message, "field": field})
    response.status_code = status
    return response


def _json_body(schema) -> Any:  # type: ignore[no-untyped-def]
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError({"_body": ["Send a JSON object"]})
    return schema.load(data)


def _json(call) -> Response:  # type: ignore[no-untyped-def]
    """Run an uploader step and answer JSON: its result, or an error the page can show."""
    try:
        with rules.evidence_rules():
            return call()
    except ApiError as exc:
        return _json_error(exc.status, exc.detail or exc.title, next(iter(exc.errors or {"_": 0})))
    except ValidationError as exc:
        return _json_error(422, "Some fields are missing or not valid", str(exc.messages)[:300])


def _same_origin(url: str) -> str:
    """The folder backend is served by this app: give the browser a path on this origin, so
    links work whatever BASE_URL says (S3 URLs are left as they are)."""
    if isinstance(get_storage(), FolderStorage):
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url


def _sites(workspace_id: int) -> list[Site]:
    from sqlalchemy import select

    return list(
        get_session().scalars(
            select(Site).where(Site.workspace_id == workspace_id).order_by(Site.name)
        )
    )


@bp.get("/<int:workspace_id>/evidence")
def evidence_list(workspace_id: int) -> str:
    """Evidence this inspectorate can see, filtered by method, site, criterion,
    inspectorate and text, newest first, 50 a page."""
    db = get_session()
    workspace = rules.workspace_of(workspace_id)
    filters = rules.filters_from(request.args)
    page = service.list_items(db, workspace, filters, cursor=request.args.get("cursor"))
    return render_template(
        "evidence/list.html",
        workspace=workspace,
        page=page,
        args=request.args,
        filters=filters,
        methods=METHOD_LABELS,
        sites=_sites(workspace.id),
        criteria=service.criteria_in_use(db, workspace),
        next_args={**request.args.to_dict(), "cursor": page.next_cursor},
    )


@bp.route("/<int:workspace_id>/evidence/new", methods=["GET", "POST"])
def evidence_new(workspace_id: int) -> str | Response:
    """Record an evidence item, then add its files on the item's page."""
    workspace = rules.workspace_of(workspace_id)
    errors: dict[str, str] = {}
    values: dict[str, Any] = dict(request.form) if request.method == "POST" else {}
    if request.method == "POST":
        schema = ItemFormSchema()
        raw_criteria = request.form.get("criteria_text", "")
        data, errors = parse_form(schema)
        if not errors:
            data.pop("criteria_text", None)
            data["criteria"] = [c for c in raw_criteria.splitlines() if c.strip()]
            try:
                item, warnings = service.create_item(get_session(), workspace, rules.me(), **data)
            except service.EvidenceError as exc:
                errors = {exc.field: str(exc)}
            else:
                from flask import flash

                for warning in warnings:
                    flash(warning, "info")
                flash("Evidence recorded: now add its files", "success")
                return redirect(
                    url_for(
                        "workspaces.evidence_item", workspace_id=workspace.id, evidence_id=item.id
                    )
                )
    return render_template(
        "evidence/new.html",
        workspace=workspace,
        errors=errors,
        values=values,
        method_options=[(m.value, label) for m, label in METHOD_LABELS.items()],
        marking_options=[(m, m) for m in MARKINGS],
        retention_options=[(r, r) for r in RETENTION_CLASSES],
        site_options=[(s.id, s.name) for s in _sites(workspace.id)],
    )


@bp.get("/<int:workspace_id>/evidence/<int:evidence_id>")
def evidence_item(workspace_id: int, evidence_id: int) -> str:
    db = get_session()
    workspace, item = _page(rules.item_of, workspace_id, evidence_id)
    files = service.files_of(db, item)
    me = rules.me()
    settings = rules.upload_settings()
    return render_template(
        "evidence/item.html",
        workspace=workspace,
        item=item,
        files=files,
        trail=service.audit_trail(db, item, files),
        can_upload=me.tenant_id == item.tenant_id,
        name_warning=service.NAME_WARNING if service.looks_like_a_name(item.source) else None,
        max_size=uploads.human_size(settings.max_bytes),
        max_bytes=settings.max_bytes,
        allowed=uploads.allowed_words(settings),
        clean=FileState.CLEAN.value,
        duplicates={f.id: f.duplicate_of_id for f in files if f.duplicate_of_id},
    )


_FILE = "/<int:workspace_id>/evidence/<int:evidence_id>/files/<int:file_id>"


@bp.post("/<int:workspace_id>/evidence/<int:evidence_id>/uploads")
def evidence_upload_start(workspace_id: int, evidence_id: int) -> Response:
    _workspace, item = _page(rules.item_of, workspace_id, evidence_id)

    def start() -> Response:
        data = _json_body(UploadStartSchema())
        file = uploads.start_upload(
            get_session(), get_storage(), item, rules.me(), settings=rules.upload_settings(), **data
        )
        return jsonify(
            file=FileSchema().dump(file),
            part_size=file.part_size,
            part_count=uploads.part_count(file),
            status_url=url_for(
                "workspaces.evidence_upload_status",
                workspace_id=workspace_id,
                evidence_id=evidence_id,
                file_id=file.id,
            ),
        )

    return _json(start)


def _file(workspace_id: int, evidence_id: int, file_id: int) -> EvidenceFile:
    _item, file = _page(rules.file_of, workspace_id, evidence_id, file_id)
    return file  # type: ignore[no-any-return]


@bp.get(_FILE + "/status")
def evidence_upload_status(workspace_id: int, evidence_id: int, file_id: int) -> Response:
    file = _file(workspace_id, evidence_id, file_id)

    def status() -> Response:
        parts = uploads.uploaded_parts(get_storage(), file)
        return jsonify(file=FileSchema().dump(file), parts=PartSchema(many=True).dump(parts))

    return _json(status)


@bp.post(_FILE + "/parts")
def evidence_upload_parts(workspace_id: int, evidence_id: int, file_id: int) -> Response:
    file = _file(workspace_id, evidence_id, file_id)

    def presign() -> Response:
        numbers = _json_body(PartsRequestSchema())["part_numbers"]
        urls = uploads.presign_parts(get_storage(), file, rules.me(), numbers)
        return jsonify(urls={str(n): _same_origin(url) for n, url in urls.items()})

    return _json(presign)


@bp.post(_FILE + "/complete")
def evidence_upload_complete(workspace_id: int, evidence_id: int, file_id: int) -> Response:
    file = _file(workspace_id, evidence_id, file_id)

    def complete() -> Response:
        sha256 = _json_body(CompleteSchema())["sha256"]
        duplicates = uploads.complete_upload(get_session(), get_storage(), file, rules.me(), sha256)
        warnings = rules.after_upload(file, duplicates)
        return jsonify(file=FileSchema().dump(file), warnings=warnings)

    return _json(complete)


@bp.post(_FILE + "/cancel")
def evidence_upload_cancel(workspace_id: int, evidence_id: int, file_id: int) -> Response:
    file = _file(workspace_id, evidence_id, file_id)
    return _json(
        lambda: (
            (uploads.abort_upload(get_session(), get_storage(), file, rules.me()))
            or jsonify(file=FileSchema().dump(file))
        )
    )


@bp.get(_FILE + "/download")
def evidence_download(workspace_id: int, evidence_id: int, file_id: int) -> Response:
    file = _file(workspace_id, evidence_id, file_id)
    if file.state != FileState.CLEAN.value:
        abort(404)
    response = rules.download_redirect(file)
    response.headers["Location"] = _same_origin(response.headers["Location"])
    return response


@bp.post("/<int:workspace_id>/evidence/exports")
def evidence_export_start(workspace_id: int) -> Response:
    export = rules.start_export(rules.workspace_of(workspace_id))
    return redirect(
        url_for("workspaces.evidence_export", workspace_id=workspace_id, export_id=export.id)
    )


@bp.get("/<int:workspace_id>/evidence/exports/<int:export_id>")
def evidence_export(workspace_id: int, export_id: int) -> str:
    export = _page(rules.export_of, workspace_id, export_id)
    return render_template(
        "evidence/export.html", workspace=rules.workspace_of(workspace_id), export=export
    )


@bp.get("/<int:workspace_id>/evidence/exports/<int:export_id>/progress")
def evidence_export_progress(workspace_id: int, export_id: int) -> Response:
    return jsonify(ExportSchema().dump(_page(rules.export_of, workspace_id, export_id)))


@bp.get("/<int:workspace_id>/evidence/exports/<int:export_id>/download")
def evidence_export_download(workspace_id: int, export_id: int) -> Response:
    export = _page(rules.export_of, workspace_id, export_id)
    if export.state != "ready":
        abort(404)
    response = rules.export_redirect(export)
    response.headers["Location"] = _same_origin(response.headers["Location"])
    return response
