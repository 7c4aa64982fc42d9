"""Rules for tenants, users and roles. Functions take a session and flush; callers commit."""

from __future__ import annotations

import re
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenants.models import Role, Tenant, User, UserRole

password_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
#: Verified against when the email is unknown, so timing does not reveal which emails exist.
_DUMMY_HASH = password_hasher.hash("not-a-real-password")

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


class ServiceError(ValueError):
    """A rule was broken; ``field`` names the input to fix and the message says how."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_email(email: str) -> str:
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 320:
        raise ServiceError(
            "email", "Enter an email address in the correct format, like name@example.gov.uk"
        )
    return email


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError("password", f"Password must be {MIN_PASSWORD_LENGTH} characters or more")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ServiceError(
            "password", f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
        )
    return password


def hash_password(password: str) -> str:
    return password_hasher.hash(validate_password(password))


def check_password(user: User | None, password: str) -> bool:
    """True only for the user's own password; spends the same time when there is no user."""
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        ok = password_hasher.verify(stored, password[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and user is not None and user.password_hash is not None


def create_user(
    session: Session,
    *,
    tenant: Tenant,
    email: str,
    name: str,
    roles: Iterable[Role] = (),
    password: str | None = None,
    job_title: str = "",
    is_platform_admin: bool = False,
    oidc_subject: str | None = None,
) -> User:
    """A new user of ``tenant``; the email must be unused anywhere in the service."""
    email = validate_email(email)
    name = name.strip()
    if not name or len(name) > 200:
        raise ServiceError("name", "Enter the person's full name (200 characters or fewer)")
    if email_taken(session, email):
        raise ServiceError("email", "A user with this email address already exists")
    user = User(
        tenant_id=tenant.id,
        email=email,
        name=name,
        job_title=job_title.strip()[:200],
        password_hash=hash_password(password) if password else None,
        is_platform_admin=is_platform_admin,
        oidc_subject=oidc_subject,
    )
    user.tenant = tenant
    session.add(user)
    session.flush()
    set_roles(session, user, roles)
    return user


def email_taken(session: Session, email: str) -> bool:
    """Whether any tenant has a user with ``email`` (emails are unique service-wide)."""
    from app.db import purpose

    with purpose(session, "sign-in"):
        return bool(session.scalar(select(func.count(User.id)).where(User.email == email)))


def set_roles(session: Session, user: User, roles: Iterable[Role]) -> None:
    """Replace the user's roles with exactly ``roles``."""
    wanted = {Role(r) for r in roles}
    for row in list(user.role_rows):
        if Role(row.role) not in wanted:
            user.role_rows.remove(row)
            session.delete(row)  # explicit, so the audit log sees the deletion at flush
    have = user.roles
    for role in sorted(wanted - have):
        user.role_rows.append(UserRole(role=role.value, tenant_id=user.tenant_id))
    session.flush()


def set_password(session: Session, user: User, password: str) -> None:
    """Change the password and sign the user out everywhere else."""
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.flush()


def users_of(session: Session) -> list[User]:
    """The current tenant's users, by name."""
    return list(session.scalars(select(User).order_by(User.name)))
