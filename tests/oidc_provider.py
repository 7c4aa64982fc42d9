"""Pytest plugin: a minimal OpenID Connect provider on loopback, built from authlib's server parts.

Enable with ``pytest_plugins = ["tests.oidc_provider"]`` (or ``-p tests.oidc_provider``).
``oidc_provider`` (session scope) yields an :class:`OidcProvider` serving discovery, JWKS,
``/authorize`` (a one-button sign-in page), ``/token`` and ``/userinfo`` over real HTTP.
All state (clients, codes, tokens, the signing key) lives in memory on the provider object.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any

import pytest
import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants, list_to_scope, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode, UserInfo, UserInfoEndpoint
from authlib.oidc.core.util import create_half_hash
from flask import Flask, Response, jsonify, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

#: Values ``OidcProvider.tamper`` accepts; each spoils the next ID token one way.
TAMPER_MODES = ("wrong_audience", "wrong_issuer", "wrong_nonce", "expired")
SCOPES = ["openid", "email", "profile"]
TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
CLAIMS = ["iss", "aud", "sub", "iat", "exp", "auth_time", "nonce", "at_hash"]
CLAIMS += ["email", "email_verified", "name", "roles"]
ID_TOKEN_LIFETIME = 300
CODE_LIFETIME = 300
WRONG_AUDIENCE = "someone-else"
WRONG_ISSUER = "http://evil.example"
WRONG_NONCE = "wrong"
_START_TIMEOUT = 10.0


class OidcProviderError(RuntimeError):
    """The test provider could not start."""


@dataclass
class OidcUser:
    """Who "signs in" at the provider; ``roles`` goes into the ID token claim ``roles``."""

    sub: str
    email: str
    name: str
    roles: list[str] = field(default_factory=list)


def user_claims(user: OidcUser) -> dict[str, Any]:
    """The identity claims the provider puts in ID tokens and userinfo answers."""
    return {
        "sub": user.sub,
        "email": user.email,
        "email_verified": True,
        "name": user.name,
        "roles": list(user.roles),
    }


@dataclass
class _Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    client_metadata: dict[str, Any] = field(default_factory=dict)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        return list_to_scope([s for s in scope_to_list(scope) if s in SCOPES])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in TOKEN_AUTH_METHODS if endpoint == "token" else True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: OidcUser
    nonce: str | None
    auth_time: int
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass
class _Token(TokenMixin):
    access_token: str
    client: _Client
    user: OidcUser
    scope: str
    expires_at: float

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> OidcUser:
        return self.user

    def get_client(self) -> _Client:
        return self.client


class _Server(AuthorizationServer):
    def __init__(self, app: Flask, provider: OidcProvider) -> None:
        self.provider = provider
        super().__init__(app, provider._query_client, provider._save_token)


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    server: _Server

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        self.server.provider._save_code(
            _AuthorizationCode(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope,
                user=request.user,
                nonce=data.get("nonce"),
                auth_time=int(time.time()),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                expires_at=time.time() + CODE_LIFETIME,
            )
        )

    def query_authorization_code(self, code: str, client: _Client) -> _AuthorizationCode | None:
        return self.server.provider._find_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code: _AuthorizationCode) -> None:
        self.server.provider._delete_code(authorization_code.code)

    def authenticate_user(self, authorization_code: _AuthorizationCode) -> OidcUser:
        return authorization_code.user


class _CodeChallenge(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return self.provider._nonce_seen(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client: _Client) -> RSAKey:
        return self.provider._key

    def get_client_algorithm(self, client: _Client) -> str:
        return "RS256"

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.provider.issuer,
            "aud": client.client_id,
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME,
        }

    def generate_user_info(self, user: OidcUser, scope: str) -> UserInfo:
        return UserInfo(user_claims(user))

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        claims = self.get_compatible_claims(request)
        claims.update(self.get_authorization_code_claims(request.authorization_code))
        claims["at_hash"] = create_half_hash(token["access_token"], "RS256").decode()
        claims.update(self.generate_user_info(request.user, token["scope"]))
        claims.update(self.provider._take_tamper_claims())
        key = self.provider._key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, ["RS256"])


class _UserInfoEndpoint(UserInfoEndpoint):
    def generate_user_info(self, user: OidcUser, scope: str) -> UserInfo:
        return UserInfo(user_claims(user))


class _BearerValidator(BearerTokenValidator):
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string: str) -> _Token | None:
        return self.provider._find_token(token_string)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip per-request access lines; errors are still logged."""


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n<main>\n"
        f"<h1>{escape(title)}</h1>\n{body}</main>\n</body>\n</html>\n"
    )
    return Response(html, status=status, mimetype="text/html")


class OidcProvider:
    """An in-memory OpenID Connect provider served on 127.0.0.1 from a background thread."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._clients: dict[str, _Client] = {}
        self._codes: dict[str, _AuthorizationCode] = {}
        self._tokens: dict[str, _Token] = {}
        self._nonces: set[tuple[str, str]] = set()
        self._user: OidcUser | None = None
        self._tamper: str | None = None
        self._key = RSAKey.generate_key(
            2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"}
        )
        self._app = self._build_app()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
        )
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="oidc-test-provider", daemon=True
        )

    # Public API -------------------------------------------------------------------------

    def add_client(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        """Register (or replace) a confidential client."""
        with self._lock:
            self._clients[client_id] = _Client(client_id, client_secret, list(redirect_uris))

    def set_user(self, user: OidcUser) -> None:
        """Choose the user the next ``/authorize`` approval signs in."""
        with self._lock:
            self._user = user

    @property
    def tamper(self) -> str | None:
        """None, or a mode from ``TAMPER_MODES`` that spoils the next ID token only."""
        return self._tamper

    @tamper.setter
    def tamper(self, mode: str | None) -> None:
        if mode is not None and mode not in TAMPER_MODES:
            raise ValueError(f"unknown tamper mode {mode!r}; expected one of {TAMPER_MODES}")
        with self._lock:
            self._tamper = mode

    def metadata(self) -> dict[str, Any]:
        """The discovery document."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": CLAIMS,
        }

    def jwks(self) -> dict[str, Any]:
        """The public signing key set."""
        return {"keys": [self._key.as_dict(private=False)]}

    def start(self) -> None:
        """Serve in the background thread; return once discovery answers."""
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                if requests.get(self.discovery_url, timeout=2).status_code == 200:
                    return
            except requests.RequestException as error:
                last_error = error
            time.sleep(0.05)
        self.stop()
        raise OidcProviderError(
            f"OIDC test provider at {self.issuer} did not answer within "
            f"{_START_TIMEOUT:.0f}s: {last_error}"
        )

    def stop(self) -> None:
        """Shut the server down and release its port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    # Storage used by the authlib classes ---------------------------------------------------

    def _query_client(self, client_id: str) -> _Client | None:
        with self._lock:
            return self._clients.get(client_id)

    def _save_token(self, token: dict[str, Any], request: Any) -> None:
        with self._lock:
            self._tokens[token["access_token"]] = _Token(
                access_token=token["access_token"],
                client=request.client,
                user=request.user,
                scope=token.get("scope", ""),
                expires_at=time.time() + int(token.get("expires_in", 3600)),
            )

    def _find_token(self, access_token: str) -> _Token | None:
        with self._lock:
            return self._tokens.get(access_token)

    def _save_code(self, code: _AuthorizationCode) -> None:
        with self._lock:
            self._codes[code.code] = code
            if code.nonce:
                self._nonces.add((code.client_id, code.nonce))

    def _find_code(self, code: str, client_id: str) -> _AuthorizationCode | None:
        with self._lock:
            found = self._codes.get(code)
        if found is None or found.client_id != client_id or time.time() >= found.expires_at:
            return None
        return found

    def _delete_code(self, code: str) -> None:
        with self._lock:
            self._codes.pop(code, None)

    def _nonce_seen(self, client_id: str | None, nonce: str) -> bool:
        with self._lock:
            return (client_id or "", nonce) in self._nonces

    def _take_tamper_claims(self) -> dict[str, Any]:
        with self._lock:
            mode, self._tamper = self._tamper, None
        now = int(time.time())
        return {
            None: {},
            "wrong_audience": {"aud": WRONG_AUDIENCE},
            "wrong_issuer": {"iss": WRONG_ISSUER},
            "wrong_nonce": {"nonce": WRONG_NONCE},
            "expired": {"iat": now - 3900, "auth_time": now - 3900, "exp": now - 3600},
        }[mode]

    # The Flask app ------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask(f"oidc_provider_{id(self)}")
        app.config["OAUTH2_SCOPES_SUPPORTED"] = SCOPES
        server = _Server(app, self)
        server.register_grant(_CodeGrant, [_CodeChallenge(required=False), _OpenIDCode(self)])
        protector = ResourceProtector()
        protector.register_token_validator(_BearerValidator(self))
        server.register_endpoint(_UserInfoEndpoint(resource_protector=protector))

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(self.metadata())

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(self.jwks())

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize() -> Response:
            with self._lock:
                user = self._user
            try:
                grant = server.get_consent_grant(end_user=user)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            if user is None:
                text = "No test user is set: call OidcProvider.set_user() first."
                return _page("Sign in to Test IdP", f"<p>{escape(text)}</p>\n", status=409)
            if request.method == "POST":
                approved = request.form.get("decision") != "deny"
                return server.create_authorization_response(
                    grant_user=user if approved else None, grant=grant
                )
            action = escape(f"/authorize?{request.query_string.decode()}")
            body = (
                f"<p>{escape(grant.request.client.client_id)} asks you to sign in.</p>\n"
                f'<form method="post" action="{action}">\n'
                f'<button type="submit" name="decision" value="approve">'
                f"Continue as {escape(user.name)}</button>\n"
                '<button type="submit" name="decision" value="deny">Cancel</button>\n'
                "</form>\n"
            )
            return _page("Sign in to Test IdP", body)

        @app.post("/token")
        def token() -> Response:
            return server.create_token_response()

        @app.route("/userinfo", methods=["GET", "POST"])
        def userinfo() -> Response:
            return server.create_endpoint_response("userinfo")

        return app


def start_provider() -> OidcProvider:
    """Start a provider on a free loopback port; raise ``OidcProviderError`` if it won't."""
    try:
        provider = OidcProvider()
    except OSError as error:
        raise OidcProviderError(f"OIDC test provider could not bind 127.0.0.1: {error}") from error
    provider.start()
    return provider


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """The session's OIDC provider (fails the test if it cannot start)."""
    try:
        provider = start_provider()
    except OidcProviderError as error:
        pytest.fail(str(error))
    try:
        yield provider
    finally:
        provider.stop()
