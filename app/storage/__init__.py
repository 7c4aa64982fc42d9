"""Object storage: one interface (``Storage``), an S3 backend and a folder backend.

Code asks for the store with ``get_storage()``; which backend it gets depends only on
``STORAGE_URL``. Nothing here connects to anything until a storage method is called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from flask import current_app

from app.config import Config, ConfigError
from app.storage.base import (
    InvalidKey,
    InvalidMetadata,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageUnavailable,
    UploadMismatch,
)

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "InvalidKey",
    "InvalidMetadata",
    "ObjectInfo",
    "ObjectNotFound",
    "Storage",
    "StorageUnavailable",
    "UploadMismatch",
    "get_storage",
    "init_app",
    "storage_from_config",
]

EXTENSION_KEY = "storage"


def storage_from_config(config: Config) -> Storage:
    """Build the backend named by ``config.storage_url`` without touching the network or disk."""
    url = config.storage_url
    if url.startswith("s3://"):
        from app.storage.s3 import S3Storage

        return S3Storage.from_config(config)
    if url.startswith("file://"):
        from app.storage.folder import FolderStorage

        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"STORAGE_URL must be file:///absolute/path, got {url!r}")
        root = Path(unquote(parts.path))
        if not root.is_absolute():
            raise ConfigError(f"STORAGE_URL must be file:///absolute/path, got {url!r}")
        return FolderStorage(root, config.effective_secret_key, config.base_url)
    raise ConfigError("STORAGE_URL must start with s3:// or file://")


def get_storage() -> Storage:
    """Return the current app's store, built from its Config on first use."""
    extensions = current_app.extensions
    storage = extensions.get(EXTENSION_KEY)
    if storage is None:
        config = extensions.get("config")
        if not isinstance(config, Config):
            raise RuntimeError("app.extensions['config'] must hold the Config before storage use")
        # Two threads may both build one; setdefault keeps the first for everybody.
        storage = extensions.setdefault(EXTENSION_KEY, storage_from_config(config))
    if not isinstance(storage, Storage):
        raise RuntimeError("app.extensions['storage'] does not hold a Storage")
    return storage


def init_app(app: Flask, config: Config) -> None:
    """Register the presigned-URL routes and remember the Config; nothing connects here."""
    from app.storage.views import bp

    app.extensions.setdefault("config", config)
    app.register_blueprint(bp)
