"""Single sign-on with each tenant's OpenID Connect provider (authlib's Flask client).

The email domain routes a person to their tenant's provider. authlib checks the state,
the nonce, the ID token's signature, issuer, audience and expiry; we then find or
provision the user in that tenant and map their roles from the configured claim.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import set_context
from app.secrets import decrypt, encrypt
from tenants.models import IdentityProvider, Role, Tenant, User
from tenants.service import ServiceError, create_user, email_taken, normalise_email, set_roles

oauth = OAuth()


class SsoError(Exception):
    """Single sign-on cannot go ahead; the message tells the person what to do."""


@dataclass(frozen=True)
class SsoTarget:
    tenant: Tenant
    provider: IdentityProvider


def tenant_for_email(session: Session, email: str) -> Tenant | None:
    """The tenant whose configured email domains include this address's domain."""
    domain = normalise_email(email).rpartition("@")[2]
    if not domain:
        return None
    for tenant in session.scalars(select(Tenant).where(Tenant.active.is_(True))):
        if domain in tenant.domains:
            return tenant
    return None


def find_target(session: Session, email: str) -> SsoTarget:
    tenant = tenant_for_email(session, email)
    if tenant is None:
        raise SsoError(
            "We do not recognise that email domain. Check the address, or sign in "
            "with your password"
        )
    set_context(session, tenant_id=tenant.id)
    provider = session.scalar(select(IdentityProvider).where(IdentityProvider.enabled.is_(True)))
    if provider is None:
        set_context(session, tenant_id=None)
        raise SsoError(
            f"{tenant.short_name} does not use single sign-on here. Sign in with your "
            "email address and password"
        )
    return SsoTarget(tenant, provider)


def client_for(provider: IdentityProvider) -> Any:
    """The authlib client for this provider's current settings (a new one when they change)."""
    secret = decrypt(provider.client_secret_encrypted)
    fingerprint = hashlib.sha256(
        f"{provider.discovery_url}|{provider.client_id}|{secret}".encode()
    ).hexdigest()[:12]
    name = f"tenant{provider.tenant_id}_{fingerprint}"
    client = oauth.create_client(name)
    if client is None:
        client = oauth.register(
            name,
            client_id=provider.client_id,
            client_secret=secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )
    return client


def verified_token(provider: IdentityProvider) -> dict[str, Any]:
    """Exchange the code for tokens; the ID token must name this provider and this client.

    authlib checks the signature, expiry and nonce; the issuer and audience are pinned here
    because its defaults do not compare the audience with our client id.
    """
    client = client_for(provider)
    issuer = client.load_server_metadata().get("issuer")
    return client.authorize_access_token(
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": provider.client_id},
        }
    )


def map_roles(provider: IdentityProvider, claims: dict[str, Any]) -> set[Role]:
    """Our roles for the values in the provider's role claim (unknown values are ignored)."""
    raw = claims.get(provider.role_claim) or []
    values = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    mapping = provider.role_map or {}
    known = {r.value for r in Role}
    # Only values the tenant administrator mapped count: a group that happens to be called
    # "administrator" at the provider grants nothing unless it is listed.
    return {Role(mapping[str(v)]) for v in values if mapping.get(str(v)) in known}


def provision(session: Session, target: SsoTarget, claims: dict[str, Any]) -> User:
    """The tenant's user for these verified claims, created on first sign-in; roles refreshed."""
    subject = str(claims.get("sub") or "")
    email = normalise_email(str(claims.get("email") or ""))
    if not subject or not email:
        raise SsoError(
            "Your organisation did not send your email address. Ask your "
            "administrator to release the email claim"
        )
    if email.rpartition("@")[2] not in target.tenant.domains:
        raise SsoError(
            "Your organisation's sign-in returned an email address from another "
            "domain. Ask your administrator to check the identity provider"
        )
    set_context(session, tenant_id=target.tenant.id)
    roles = map_roles(target.provider, claims)
    user = session.scalar(select(User).where(User.oidc_subject == subject))
    if user is None:
        existing = session.scalar(select(User).where(User.email == email))
        if existing is not None:
            # Linking by email alone would let whoever controls the provider take over a
            # password account (even a platform administrator's): only accounts made for
            # single sign-on (no password) are linked, and only on a verified email.
            if (
                existing.password_hash
                or existing.is_platform_admin
                or claims.get("email_verified") is not True
            ):
                raise SsoError(
                    "An account with this email address signs in with a password. "
                    "Sign in with your email address and password instead"
                )
            user = existing
    if user is None:
        if email_taken(session, email):
            raise SsoError("This email address belongs to another inspectorate's account")
        try:
            user = create_user(
                session,
                tenant=target.tenant,
                email=email,
                name=str(claims.get("name") or email),
                roles=roles,
                oidc_subject=subject,
            )
        except ServiceError as exc:
            raise SsoError(exc.message) from None
    else:
        if not user.active:
            raise SsoError("Your account has been deactivated. Ask your administrator")
        user.oidc_subject = subject
        set_roles(session, user, roles)  # the provider is the source of truth for roles
    session.flush()
    return user


def save_provider(
    session: Session,
    tenant: Tenant,
    *,
    discovery_url: str,
    client_id: str,
    client_secret: str | None,
    role_claim: str,
    role_map: dict[str, str],
    enabled: bool,
    allow_http_loopback: bool = False,
) -> IdentityProvider:
    """Create or update the tenant's provider; a blank secret keeps the stored one."""
    allowed = (
        ("https://", "http://127.0.0.1", "http://localhost")
        if allow_http_loopback
        else ("https://",)
    )
    if not discovery_url.startswith(allowed) or len(discovery_url) > 1000:
        raise ServiceError("discovery_url", "Enter the provider's https:// discovery URL")
    if not client_id.strip() or len(client_id) > 500:
        raise ServiceError("client_id", "Enter the client ID the provider gave you")
    provider = session.scalar(
        select(IdentityProvider).where(IdentityProvider.tenant_id == tenant.id)
    )
    if provider is None:
        if not client_secret:
            raise ServiceError("client_secret", "Enter the client secret")
        provider = IdentityProvider(tenant_id=tenant.id, client_secret_encrypted="")
        session.add(provider)
    provider.discovery_url = discovery_url
    provider.client_id = client_id
    if client_secret:
        provider.client_secret_encrypted = encrypt(client_secret)
    provider.role_claim = role_claim or "roles"
    provider.role_map = role_map
    provider.enabled = enabled
    session.flush()
    return provider


def init_app(app: Flask) -> None:
    oauth.init_app(app)
