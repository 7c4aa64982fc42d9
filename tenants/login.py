"""Who is asking: web sessions (flask-login) and bearer tokens, set as the tenant context.

Web pages authenticate by session cookie only; ``/api`` authenticates by bearer token only,
so a cookie can never drive the API (no CSRF through the API).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from app import audit
from app.api import is_api_request
from app.api.errors import ApiError
from app.clock import clock
from app.db import get_session, set_context
from tenants.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to see this page"
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

#: Endpoints a signed-out visitor may reach.
PUBLIC_ENDPOINTS = {
    "static",
    "web.home",
    "web.govuk_assets",
    "health.healthz",
    "health.readyz",
    "openapi.openapi_document",
    "api.status",
}
#: Blueprints whose routes carry their own credential (signed storage URLs).
PUBLIC_BLUEPRINTS = {"storage"}


@login_manager.user_loader
def _load_user(ident: str) -> User | None:
    try:
        tenant_id, user_id, version = (int(part) for part in ident.split(":"))
    except ValueError:
        return None
    db = get_session()
    set_context(db, tenant_id=tenant_id, user_id=user_id)
    user = db.get(User, user_id)
    if user is None or user.tenant_id != tenant_id or user.session_version != version:
        set_context(db, tenant_id=None)
        return None
    _bind_actor(user)
    return user


def _bind_actor(user: User) -> None:
    db = get_session()
    db.info["actor"] = audit.Actor(user.id, user.tenant_id, user.email)
    set_context(db, tenant_id=user.tenant_id, user_id=user.id, platform_admin=False)


def start_session(user: User) -> None:
    """Sign in on the web: a fresh session (no fixation) with idle and absolute clocks."""
    session.clear()
    login_user(user)
    now = int(clock.now().timestamp())
    session["signed_in_at"] = now
    session["last_seen"] = now
    session.permanent = True
    _bind_actor(user)


def end_session() -> None:
    logout_user()
    session.clear()


def _session_expired(config: Any) -> str | None:
    now = int(clock.now().timestamp())
    signed_in_at = session.get("signed_in_at", 0)
    last_seen = session.get("last_seen", 0)
    if now - signed_in_at > config.session_absolute_hours * 3600:
        return "You have been signed out because you were signed in for too long. Sign in again."
    if now - last_seen > config.session_idle_minutes * 60:
        return "You have been signed out because you were inactive. Sign in again."
    return None


def _authenticate_api() -> None:
    from tenants.auth import authenticate_token

    header = request.headers.get("Authorization", "")
    if not header:
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return
        raise ApiError(
            401,
            "Unauthorized",
            "Send a personal access token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )
    scheme, _, value = header.partition(" ")
    token = authenticate_token(get_session(), value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise ApiError(
            401,
            "Unauthorized",
            "The token is not valid, has expired or was revoked.",
            headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
        )
    needed = "read" if request.method in {"GET", "HEAD", "OPTIONS"} else "write"
    if needed not in token.scope_set:
        raise ApiError(403, "Forbidden", f"This token lacks the {needed} scope.")
    g._login_user = token.user
    g.api_token = token
    _bind_actor(token.user)


def role_required(*roles: Role) -> Callable[[F], F]:
    """Refuse (403) a signed-in user who holds none of ``roles`` in their own tenant."""

    def wrap(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                if is_api_request():
                    raise ApiError(403, "Forbidden", "Your roles do not allow this.")
                abort(403)
            return view(*args, **kwargs)

        guarded.required_roles = roles  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return wrap


def platform_admin_required(view: F) -> F:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_platform_admin:
            abort(403)
        set_context(
            get_session(),
            tenant_id=current_user.tenant_id,
            user_id=current_user.id,
            platform_admin=True,
        )
        return view(*args, **kwargs)

    guarded.platform_admin_only = True  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    login_manager.init_app(app)

    @app.before_request
    def _authenticate():  # type: ignore[no-untyped-def]
        if is_api_request():
            _authenticate_api()
            return None
        if (
            request.endpoint in PUBLIC_ENDPOINTS
            or request.endpoint is None
            or request.blueprint in PUBLIC_BLUEPRINTS
        ):
            _ = current_user.is_authenticated  # the header shows who is signed in
            return None
        if current_user.is_authenticated:
            reason = _session_expired(app.extensions["config"])
            if reason:
                end_session()
                flash(reason, "info")
                return redirect(url_for("auth.sign_in", next=request.full_path))
            session["last_seen"] = int(clock.now().timestamp())
            return None
        if getattr(app.view_functions.get(request.endpoint), "public", False):
            return None
        return login_manager.unauthorized()


def public(view: F) -> F:
    """Mark a page as reachable without signing in (sign-in pages, OIDC callback)."""
    view.public = True  # type: ignore[attr-defined]
    return view
