"""Replacing the tags of a stored evidence object, for both storage backends.

Object tags carry an item's retention class (``uploads.storage_tags``), so lifecycle rules and
anyone reading the store see the class in force. The ``Storage`` interface sets tags only when
an object is written; this module replaces them afterwards: S3's PutObjectTagging (which
needs ``s3:PutObjectTagging``; in a versioned bucket it tags the current version, the one
that is read), and for the folder backend an atomic rewrite of the object's JSON sidecar,
where that backend keeps its tags.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from botocore.exceptions import ClientError

from app.storage.base import Storage, validate_key, validate_tags
from app.storage.folder import FolderStorage
from app.storage.s3 import S3Storage


def put_tags(storage: Storage, key: str, tags: Mapping[str, str]) -> bool:
    """Replace every tag of the object at ``key`` with ``tags``; False when there is no such
    object. Setting the same tags again changes nothing, so callers can simply repeat it."""
    wanted = validate_tags(tags)
    validate_key(key)
    if isinstance(storage, S3Storage):
        return _put_s3(storage, key, wanted)
    if isinstance(storage, FolderStorage):
        return _put_folder(storage, key, wanted)
    raise TypeError(f"the {storage.name!r} storage backend cannot retag objects")


def _put_s3(storage: S3Storage, key: str, tags: dict[str, str]) -> bool:
    try:
        storage.client.put_object_tagging(
            Bucket=storage.bucket,
            Key=storage.prefix + key,
            Tagging={"TagSet": [{"Key": name, "Value": value} for name, value in tags.items()]},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return False
        raise
    return True


def _put_folder(storage: FolderStorage, key: str, tags: dict[str, str]) -> bool:
    # The backend's own path and temp-file helpers: the sidecar is replaced whole with
    # os.replace, so a reader sees the old tags or the new ones, never half a file.
    if not storage._data_path(key).is_file():
        return False
    meta = storage._read_meta(key)
    if meta.get("tags") == tags:
        return True
    meta["tags"] = tags
    encoded = json.dumps(meta, sort_keys=True).encode()
    written = storage._write_temp(lambda handle: handle.write(encoded))
    try:
        os.replace(written, storage._meta_path(key))
    except OSError:
        written.unlink(missing_ok=True)
        raise
    if not storage._data_path(key).is_file():  # deleted meanwhile: leave no stray sidecar
        storage._meta_path(key).unlink(missing_ok=True)
        return False
    return True
