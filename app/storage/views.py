"""Presigned URLs of the folder backend: the signed token in the path is the credential.

These routes take no session or CSRF token, so the blueprint must be CSRF-exempt. The
content is always served as a sandboxed attachment: stored files are user uploads and
must never run as pages of the application's origin.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from werkzeug.wsgi import wrap_file

from app.storage import get_storage
from app.storage.base import (
    MAX_PART_SIZE,
    InvalidKey,
    InvalidMetadata,
    InvalidUpload,
    ObjectNotFound,
    UploadMismatch,
    content_disposition,
)
from app.storage.folder import (
    ExpiredPresignedToken,
    FolderStorage,
    InvalidPresignedToken,
    PresignedRequest,
)

bp = Blueprint("storage", __name__, url_prefix="/storage")


def _text(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _folder_storage() -> FolderStorage:
    storage = get_storage()
    if not isinstance(storage, FolderStorage):
        abort(404)
    return storage


def _verify(storage: FolderStorage, token: str, method: str) -> PresignedRequest | Response:
    try:
        return storage.verify_presigned(token, method)
    except ExpiredPresignedToken:
        return _text("This link has expired.", 403)
    except InvalidPresignedToken:
        return _text("This link is not valid.", 403)


@bp.get("/o/<token>")
def download(token: str) -> Response:
    """Stream the object named by a GET token, as an attachment."""
    storage = _folder_storage()
    allowed = _verify(storage, token, "GET")
    if isinstance(allowed, Response):
        return allowed
    try:
        handle, info = storage.open_with_info(allowed.key)
    except ObjectNotFound:
        return _text("Not found.", 404)
    response = Response(
        wrap_file(request.environ, handle, buffer_size=64 * 1024),
        mimetype=info.content_type or "application/octet-stream",
        direct_passthrough=True,
    )
    response.content_length = info.size
    response.last_modified = info.last_modified
    if info.sha256:
        response.set_etag(info.sha256)
    response.headers["Content-Disposition"] = content_disposition(allowed.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.put("/o/<token>")
def upload(token: str) -> Response:
    """Stream the request body into the store under the key named by a PUT token."""
    storage = _folder_storage()
    allowed = _verify(storage, token, "PUT")
    if isinstance(allowed, Response):
        return allowed
    sent_type = request.headers.get("Content-Type") or None
    if allowed.content_type and sent_type != allowed.content_type:
        return _text(f"This link needs Content-Type: {allowed.content_type}.", 403)
    try:
        info = storage.put(
            allowed.key,
            request.stream,
            content_type=sent_type,
            size=request.content_length,
        )
    except (UploadMismatch, InvalidMetadata) as error:
        return _text(str(error), 400)
    except InvalidKey as error:
        # The signed key is valid, so this is a folder-layout clash with another key.
        return _text(str(error), 409)
    response = Response(status=200)
    if info.sha256:
        response.set_etag(info.sha256)
    return response


@bp.put("/p/<token>")
def upload_part(token: str) -> Response:
    """Stream the request body into one part of a multipart upload; answer its ETag."""
    storage = _folder_storage()
    allowed = _verify(storage, token, "PUT_PART")
    if isinstance(allowed, Response):
        return allowed
    if request.content_length is None:
        return _text("Send the part with a Content-Length.", 411)
    if allowed.upload_id is None or allowed.part_number is None:
        return _text("This link is not valid.", 403)
    # Parts can be larger than the app's request limit for forms and JSON.
    request.max_content_length = MAX_PART_SIZE
    try:
        part = storage.upload_part(
            allowed.key,
            allowed.upload_id,
            allowed.part_number,
            request.stream,
            request.content_length,
        )
    except UploadMismatch as error:
        return _text(str(error), 400)
    except InvalidUpload:
        return _text("This upload has been completed or abandoned.", 404)
    response = Response(status=200)
    response.headers["ETag"] = f'"{part.etag}"'
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response
