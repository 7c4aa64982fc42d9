"""Signing in: passwords with throttling, TOTP, API tokens. No Flask request objects here."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, noload
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.db import purpose, set_context, utcnow
from app.secrets import decrypt, encrypt
from tenants.models import ApiToken, SignInThrottle, User
from tenants.service import ServiceError, check_password, normalise_email

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
THROTTLE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
TOKEN_PREFIX = "cjji_"  # noqa: S105 - a marker, not a secret
TOKEN_SCOPES = ("read", "write")
MAX_TOKEN_DAYS = 366


@dataclass(frozen=True)
class SignInResult:
    user: User | None = None
    error: str | None = None
    retry_after_minutes: int | None = None


def _key(kind: str, value: str) -> str:
    return f"{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:64]


def _locked_minutes(row: SignInThrottle | None, now: datetime) -> int | None:
    if row is None or row.locked_until is None:
        return None
    locked_until = row.locked_until
    if locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=now.tzinfo)
    if locked_until <= now:
        return None
    return max(1, math.ceil((locked_until - now).total_seconds() / 60))


def _record_failure(session: Session, key: str, limit: int, now: datetime) -> SignInThrottle:
    """Count a failure under a row lock, so simultaneous failures all count."""
    table = SignInThrottle.__table__
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        dialect_insert(table)
        .values(key=key, failures=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.scalar(
        select(SignInThrottle)
        .where(SignInThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    started = row.window_started_at
    if started.tzinfo is None:
        started = started.replace(tzinfo=now.tzinfo)
    if now - started > THROTTLE_WINDOW:
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + LOCKOUT
    session.flush()
    return row


def too_many_attempts(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."


def find_user_for_sign_in(session: Session, email: str) -> User | None:
    """The user with this email in any tenant (sign-in does not know the tenant yet)."""
    with purpose(session, "sign-in"):
        return session.scalar(
            select(User)
            .where(User.email == normalise_email(email))
            .execution_options(populate_existing=True)
        )


def sign_in_with_password(
    session: Session, email: str, password: str, address: str
) -> SignInResult:
    """Check the password under per-account and per-address limits; audit the outcome."""
    now = utcnow()
    account_key, address_key = _key("acct", normalise_email(email)), _key("addr", address)
    for key in (account_key, address_key):
        minutes = _locked_minutes(session.get(SignInThrottle, key), now)
        if minutes:
            return SignInResult(error=too_many_attempts(minutes), retry_after_minutes=minutes)
    user = find_user_for_sign_in(session, email)
    if user is not None:
        set_context(session, tenant_id=user.tenant_id, user_id=user.id)
        session.refresh(user)  # loaded under the sign-in purpose: reload its roles in scope
    if not check_password(user, password) or user is None or not user.active:
        account = _record_failure(session, account_key, ACCOUNT_LIMIT, now)
        _record_failure(session, address_key, ADDRESS_LIMIT, now)
        if user is not None:
            audit.record(
                session,
                tenant_id=user.tenant_id,
                action="user.sign_in_failed",
                object_type="user",
                object_id=user.id,
                changes={"locked": account.locked_until is not None},
            )
        minutes = _locked_minutes(account, now)
        if minutes:
            return SignInResult(error=too_many_attempts(minutes), retry_after_minutes=minutes)
        return SignInResult(error="Enter a correct email address and password")
    throttle = session.get(SignInThrottle, account_key)
    if throttle is not None:
        session.delete(throttle)
    return SignInResult(user=user)


def complete_sign_in(session: Session, user: User, method: str) -> None:
    """Record a successful sign-in (after any MFA step)."""
    user.last_sign_in_at = utcnow()
    session.flush()
    audit.record(
        session,
        tenant_id=user.tenant_id,
        action="user.signed_in",
        object_type="user",
        object_id=user.id,
        changes={"method": method},
    )


def sign_out(session: Session, user: User) -> None:
    """End every session of the user: older session cookies stop working at once."""
    user.session_version += 1
    session.flush()
    audit.record(
        session,
        tenant_id=user.tenant_id,
        action="user.signed_out",
        object_type="user",
        object_id=user.id,
    )


# --- TOTP -------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, user: User) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Joint inspections")


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(ch for ch in code if ch.isdecimal())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step - 1, step, step + 1):
        if secrets.compare_digest(totp.at(candidate * totp.interval), code):
            return candidate
    return None


def enable_mfa(session: Session, user: User, secret: str, code: str) -> None:
    """Turn on TOTP once the user proves their authenticator shows the right code."""
    step = _matching_step(secret, code, utcnow())
    if step is None:
        raise ServiceError(
            "code", "The code is not correct. Enter the 6-digit code your app shows now"
        )
    user.totp_secret_encrypted = encrypt(secret)
    user.mfa_enabled = True
    user.totp_last_step = step
    session.flush()


MFA_LIMIT = 5


def mfa_locked_minutes(session: Session, user: User) -> int | None:
    """Minutes until the user may try a security code again, if wrong codes locked them out."""
    return _locked_minutes(session.get(SignInThrottle, _key("mfa", str(user.id))), utcnow())


def verify_mfa(session: Session, user: User, code: str) -> bool:
    """True for a current code not used before (a replayed code is refused).

    Wrong codes are counted on the server: after five the user waits, however many times
    they sign in again or replay an old session cookie.
    """
    if not user.mfa_enabled or not user.totp_secret_encrypted or mfa_locked_minutes(session, user):
        return False
    key = _key("mfa", str(user.id))
    step = _matching_step(decrypt(user.totp_secret_encrypted), code, utcnow())
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        row = _record_failure(session, key, MFA_LIMIT, utcnow())
        audit.record(
            session,
            tenant_id=user.tenant_id,
            action="user.mfa_failed",
            object_type="user",
            object_id=user.id,
            changes={"locked": row.locked_until is not None},
        )
        return False
    user.totp_last_step = step
    throttle = session.get(SignInThrottle, key)
    if throttle is not None:
        session.delete(throttle)
    session.flush()
    return True


# --- API tokens -------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, user: User, *, name: str, scopes: set[str], days: int = 90
) -> tuple[ApiToken, str]:
    """A new token for ``user``; the plaintext is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ServiceError("name", "Give the token a name of 100 characters or fewer")
    if not scopes or not scopes <= set(TOKEN_SCOPES):
        raise ServiceError("scopes", "Choose read, write or both")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ServiceError("days", f"A token can last from 1 to {MAX_TOKEN_DAYS} days")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        tenant_id=user.tenant_id,
        user_id=user.id,
        name=name,
        token_hash=hash_token(plaintext),
        prefix=plaintext[:12],
        scopes=",".join(sorted(scopes)),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    return token, plaintext


def revoke_token(session: Session, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()


def authenticate_token(session: Session, plaintext: str) -> ApiToken | None:
    """The live token for ``plaintext`` (not expired, not revoked, active user), scoped in."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    set_context(session, tenant_id=None, purpose="token-auth")
    token = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == hash_token(plaintext))
        .options(noload(ApiToken.user))
    )
    now = utcnow()
    if token is None or token.revoked_at is not None:
        set_context(session, tenant_id=None)
        return None
    set_context(session, tenant_id=token.tenant_id, user_id=token.user_id)
    user = session.get(User, token.user_id)
    expires = (
        token.expires_at if token.expires_at.tzinfo else token.expires_at.replace(tzinfo=now.tzinfo)
    )
    if expires <= now or user is None or not user.active:
        set_context(session, tenant_id=None)
        return None
    set_committed_value(token, "user", user)
    return token
