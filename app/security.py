"""Security headers, CSP nonces and CSRF protection for every form."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

F = TypeVar("F", bound=Callable[..., object])


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """A route whose requests may carry at most ``max_bytes`` (instead of the app's limit);
    applied before anything reads the body, the CSRF check included, and stated in the 413."""

    def mark(view: F) -> F:
        view.body_limit = max_bytes  # type: ignore[attr-defined]
        return view

    return mark


def too_large_message() -> str:
    """What a 413 tells people: the limit of the route they sent to, and what to do."""
    limit = request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
    megabytes = f"{limit / 1024 / 1024:.0f} MB"
    return (
        f"What you sent is larger than {megabytes}, the most accepted here. "
        f"Send a smaller file, or split it into files of up to {megabytes}."
    )


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_app(app: Flask, *, production: bool) -> None:
    @app.before_request
    def _body_limit() -> None:
        view = app.view_functions.get(request.endpoint or "")
        limit = getattr(view, "body_limit", None)
        if limit is not None:
            request.max_content_length = limit

    csrf.init_app(app)  # after the limit: the CSRF check reads the form
    # Single sign-on forms post here and are redirected to the tenant's identity provider,
    # which browsers check against form-action: allow https (and loopback outside production).
    form_action = "'self' https:" + ("" if production else " http://127.0.0.1:* http://localhost:*")
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _headers(response):  # type: ignore[no-untyped-def]
        nonce = g.get("csp_nonce")
        script_src = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src {script_src}; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; "
            f"connect-src 'self'; frame-ancestors 'none'; form-action {form_action}; "
            "base-uri 'none'; object-src 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if production:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
            )
        if response.mimetype in {"text/html", "application/json", "application/problem+json"}:
            response.headers.setdefault("Cache-Control", "no-store")
        return response
