"""Encryption at rest for secrets the app must read back (OIDC client secrets, TOTP keys).

The key is derived from SECRET_KEY, so a database dump alone does not reveal them.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet(secret_key: str | None = None) -> Fernet:
    key = secret_key or current_app.config["SECRET_KEY"]
    digest = hashlib.sha256(("cjji-secrets-v1:" + key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str, secret_key: str | None = None) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def decrypt(token: str, secret_key: str | None = None) -> str:
    """The plaintext, or ValueError when the key changed or the value was tampered with."""
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("secret cannot be decrypted with the current SECRET_KEY") from None
