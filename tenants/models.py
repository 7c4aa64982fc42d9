"""Tenants (inspectorates), their users and roles, API tokens and sign-in throttles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class Role(enum.StrEnum):
    """Roles a user holds within their home tenant (DOMAIN.md "Roles people hold")."""

    ADMINISTRATOR = "administrator"
    INSPECTOR = "inspector"
    LEAD_INSPECTOR = "lead_inspector"
    SENIOR_OVERSIGHT = "senior_oversight"
    DEVELOPMENT_GROUP_REP = "development_group_rep"
    CHIEF_INSPECTOR = "chief_inspector"
    QUALITY_ASSURER = "quality_assurer"
    COMMUNICATIONS_OFFICER = "communications_officer"
    BUSINESS_SUPPORT = "business_support"
    RECORDS_MANAGER = "records_manager"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMINISTRATOR: "Administrator",
    Role.INSPECTOR: "Inspector",
    Role.LEAD_INSPECTOR: "Lead inspector",
    Role.SENIOR_OVERSIGHT: "Senior oversight",
    Role.DEVELOPMENT_GROUP_REP: "Development group representative",
    Role.CHIEF_INSPECTOR: "HMI / Chief Inspector",
    Role.QUALITY_ASSURER: "Quality assurer",
    Role.COMMUNICATIONS_OFFICER: "Communications / press officer",
    Role.BUSINESS_SUPPORT: "Business support",
    Role.RECORDS_MANAGER: "Records manager",
}


class Tenant(Base):
    """An inspectorate. Its directory row is visible to every tenant (names, styles, domains);
    its staff, secrets and material live in tenant-owned tables behind row-level security."""

    __tablename__ = "tenants"
    __audit_tenant_column__ = "id"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(40))
    #: House style for pages and exports.
    colour: Mapped[str] = mapped_column(String(7), default="#1d70b8")
    logo_key: Mapped[str | None] = mapped_column(String(500))
    #: Title of the senior oversight role on a joint inspection (001 §6).
    senior_oversight_title: Mapped[str] = mapped_column(String(200))
    #: Department that gets an embargoed copy 5 days before publication (001 §42), if any.
    sponsoring_department: Mapped[str | None] = mapped_column(String(200))
    embargoed_copy: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Plain-language summary of the retention policy (001 §48); rules live in retention/.
    retention_summary: Mapped[str] = mapped_column(Text, default="")
    mfa_required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Comma-separated email domains whose users sign in through this tenant's provider.
    email_domains: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def domains(self) -> list[str]:
        return [d.strip().lower() for d in self.email_domains.split(",") if d.strip()]


class IdentityProvider(Base):
    """A tenant's OIDC provider (private to the tenant: holds its client secret)."""

    __tablename__ = "identity_providers"
    __tenant_owned__ = True
    __audit_redact__ = frozenset({"client_secret_encrypted"})

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), unique=True)
    discovery_url: Mapped[str] = mapped_column(String(1000))
    client_id: Mapped[str] = mapped_column(String(500))
    #: Encrypted with a key derived from SECRET_KEY (app.secrets).
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    #: ID-token claim holding the user's roles, and how its values map to our roles.
    role_claim: Mapped[str] = mapped_column(String(100), default="roles")
    role_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Base):
    """A person with one home tenant; email is unique across the service."""

    __tablename__ = "users"
    __tenant_owned__ = True
    #: Fellow participants of a shared workspace see the people named in it.
    __visible_to_fellow_members__ = True
    __audit_redact__ = frozenset({"password_hash", "totp_secret_encrypted"})

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Last TOTP time-step accepted, so a code cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    #: Bumped on sign-out and password change: every older session cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_sign_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="user"
    )

    __table_args__ = (UniqueConstraint("tenant_id", "oidc_subject"),)

    @property
    def roles(self) -> set[Role]:
        return {Role(r.role) for r in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.tenant_id}:{self.id}:{self.session_version}"


class UserRole(Base):
    __tablename__ = "user_roles"
    __tenant_owned__ = True

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)

    user: Mapped[User] = relationship(back_populates="role_rows")

    __table_args__ = (
        CheckConstraint(
            "role IN (" + ", ".join(f"'{r.value}'" for r in Role) + ")", name="known_role"
        ),
    )


class ApiToken(Base):
    """A personal access token: shown once, stored as a SHA-256 hash, scoped and expiring."""

    __tablename__ = "api_tokens"
    __tenant_owned__ = True
    __audit_redact__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: First characters of the token, shown so its owner can recognise it.
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(String(50), default="read")
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def scope_set(self) -> set[str]:
        return {s for s in self.scopes.split(",") if s}


class SignInThrottle(Base):
    """Failed sign-ins per account or per address (keys are hashed; platform-wide)."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None]
