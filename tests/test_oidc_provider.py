"""The test OIDC provider itself, driven over HTTP with requests (no app, no browser)."""

from __future__ import annotations

import re
import secrets
import time
import warnings
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tests.oidc_provider import TAMPER_MODES, OidcProvider, OidcUser

CLIENT_ID = "cjji-app"
CLIENT_SECRET = "cjji-app-secret"
REDIRECT_URI = "http://127.0.0.1:9/auth/oidc/callback"
USER = OidcUser(
    sub="idp-user-1", email="ada@hmicfrs.example.gov.uk", name="Ada Lovelace", roles=["inspector"]
)
TIMEOUT = 5


@pytest.fixture
def provider(oidc_provider: OidcProvider) -> OidcProvider:
    oidc_provider.add_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    oidc_provider.set_user(USER)
    oidc_provider.tamper = None
    return oidc_provider


def auth_params(**overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
    }
    params.update(overrides)
    return params


def approve(provider: OidcProvider, params: dict[str, str]) -> requests.Response:
    """Press "Continue as ..." (the form posts back to /authorize with the query)."""
    return requests.post(
        f"{provider.issuer}/authorize",
        params=params,
        data={"decision": "approve"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def redirect_query(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(
    provider: OidcProvider, code: str, method: str = "basic", **extra: str
) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    data.update(extra)
    auth: tuple[str, str] | None = (CLIENT_ID, CLIENT_SECRET)
    if method == "post":
        data.update(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        auth = None
    return requests.post(f"{provider.issuer}/token", data=data, auth=auth, timeout=TIMEOUT)


def sign_in(provider: OidcProvider, **overrides: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The whole code flow; returns (token response, authorization params)."""
    params = auth_params(**overrides)
    code = redirect_query(approve(provider, params))["code"]
    response = exchange(provider, code)
    assert response.status_code == 200, response.text
    return response.json(), params


def decode(provider: OidcProvider, id_token: str) -> jwt.Token:
    """Verify the ID token's signature against the provider's published JWKS."""
    metadata = requests.get(provider.discovery_url, timeout=TIMEOUT).json()
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json())
    return jwt.decode(id_token, keys, algorithms=["RS256"])


def validate(provider: OidcProvider, token: dict[str, Any], nonce: str) -> None:
    """Validate claims the way authlib's client (``parse_id_token``) does."""
    decoded = decode(provider, token["id_token"])
    params = {"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]}
    options = {"iss": {"values": [provider.issuer]}}
    CodeIDToken(decoded.claims, decoded.header, options, params).validate(leeway=120)


def test_discovery_and_jwks(provider: OidcProvider) -> None:
    response = requests.get(provider.discovery_url, timeout=TIMEOUT)
    assert response.status_code == 200
    doc = response.json()
    assert doc["issuer"] == provider.issuer
    for name, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
    ]:
        assert doc[name] == provider.issuer + path
    assert doc["response_types_supported"] == ["code"]
    assert doc["subject_types_supported"] == ["public"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["scopes_supported"] == ["openid", "email", "profile"]
    assert doc["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    [key] = requests.get(doc["jwks_uri"], timeout=TIMEOUT).json()["keys"]
    assert key["kty"] == "RSA" and key["kid"]
    assert "d" not in key


def test_sign_in_page_button_redirects_with_code_and_state(provider: OidcProvider) -> None:
    params = auth_params()
    page = requests.get(f"{provider.issuer}/authorize", params=params, timeout=TIMEOUT)
    assert page.status_code == 200
    html = page.text
    assert '<html lang="en">' in html and "<main>" in html
    assert "<title>Sign in to Test IdP</title>" in html
    assert "Continue as Ada Lovelace</button>" in html
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', html)[1])
    response = requests.post(
        urljoin(provider.issuer, action),
        data={"decision": "approve"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    query = redirect_query(response)
    assert query["code"]
    assert query["state"] == params["state"]


def test_code_exchange_gives_signed_id_token_with_claims(provider: OidcProvider) -> None:
    token, params = sign_in(provider)
    assert token["token_type"].lower() == "bearer"
    decoded = decode(provider, token["id_token"])
    assert decoded.header["alg"] == "RS256"
    assert decoded.header["kid"] == provider.jwks()["keys"][0]["kid"]
    claims = decoded.claims
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == CLIENT_ID
    assert claims["nonce"] == params["nonce"]
    assert claims["sub"] == USER.sub
    assert claims["email"] == USER.email
    assert claims["email_verified"] is True
    assert claims["name"] == USER.name
    assert claims["roles"] == ["inspector"]
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["iat"] - time.time()) < 30
    validate(provider, token, params["nonce"])


def test_id_token_verifies_with_authlib_jose(provider: OidcProvider) -> None:
    with warnings.catch_warnings():  # authlib.jose is deprecated in favour of joserfc
        warnings.simplefilter("ignore")
        from authlib.jose import JsonWebKey
        from authlib.jose import jwt as legacy_jwt

        token, params = sign_in(provider)
        jwks = requests.get(f"{provider.issuer}/jwks", timeout=TIMEOUT).json()
        claims = legacy_jwt.decode(token["id_token"], JsonWebKey.import_key_set(jwks))
        claims.validate()
    assert claims["nonce"] == params["nonce"]
    assert claims["aud"] == CLIENT_ID
    assert claims["iss"] == provider.issuer
    assert claims["roles"] == ["inspector"]


def test_client_secret_post_with_pkce_s256(provider: OidcProvider) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = create_s256_code_challenge(verifier)
    params = auth_params(code_challenge=challenge, code_challenge_method="S256")
    code = redirect_query(approve(provider, params))["code"]
    wrong = exchange(provider, code, method="post", code_verifier=secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = redirect_query(approve(provider, auth_params(**{**params, "nonce": "n2-nonce"})))["code"]
    response = exchange(provider, code, method="post", code_verifier=verifier)
    assert response.status_code == 200, response.text
    assert decode(provider, response.json()["id_token"]).claims["nonce"] == "n2-nonce"


def test_userinfo_needs_the_bearer_token(provider: OidcProvider) -> None:
    token, _ = sign_in(provider)
    url = f"{provider.issuer}/userinfo"
    response = requests.get(
        url, headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "sub": USER.sub,
        "email": USER.email,
        "email_verified": True,
        "name": USER.name,
        "roles": ["inspector"],
    }
    assert requests.get(url, timeout=TIMEOUT).status_code == 401
    bogus = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=TIMEOUT)
    assert bogus.status_code == 401


@pytest.mark.parametrize(
    ("mode", "claim", "expected"),
    [
        ("wrong_audience", "aud", "someone-else"),
        ("wrong_issuer", "iss", "http://evil.example"),
        ("wrong_nonce", "nonce", "wrong"),
        ("expired", "exp", None),
    ],
)
def test_tamper_spoils_only_the_next_id_token(
    provider: OidcProvider, mode: str, claim: str, expected: str | None
) -> None:
    provider.tamper = mode
    token, params = sign_in(provider)
    claims = decode(provider, token["id_token"]).claims  # still validly signed
    if expected is None:
        assert claims["exp"] < time.time() - 600
    else:
        assert claims[claim] == expected
    with pytest.raises(JoseError):
        validate(provider, token, params["nonce"])
    assert provider.tamper is None
    token, params = sign_in(provider)
    validate(provider, token, params["nonce"])


def test_tamper_modes_are_checked(provider: OidcProvider) -> None:
    assert set(TAMPER_MODES) == {"wrong_audience", "wrong_issuer", "wrong_nonce", "expired"}
    with pytest.raises(ValueError, match="unknown tamper mode"):
        provider.tamper = "wrong_signature"


def test_unknown_client_and_wrong_redirect_uri_are_refused(provider: OidcProvider) -> None:
    for params in (auth_params(client_id="stranger"), auth_params(redirect_uri="http://evil/cb")):
        for response in (
            requests.get(f"{provider.issuer}/authorize", params=params, timeout=TIMEOUT),
            approve(provider, params),
        ):
            assert response.status_code == 400, response.text
            assert "Location" not in response.headers
            assert response.json()["error"] in {"invalid_client", "invalid_request"}


def test_token_endpoint_refusals(provider: OidcProvider) -> None:
    code = redirect_query(approve(provider, auth_params()))["code"]
    bad_secret = requests.post(
        f"{provider.issuer}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(CLIENT_ID, "wrong-secret"),
        timeout=TIMEOUT,
    )
    assert bad_secret.status_code == 401
    assert bad_secret.json()["error"] == "invalid_client"
    assert exchange(provider, code).status_code == 200
    reused = exchange(provider, code)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_nonce_is_required_and_cancel_denies(provider: OidcProvider) -> None:
    params = auth_params()
    del params["nonce"]
    assert redirect_query(approve(provider, params))["error"] == "invalid_request"
    params = auth_params()
    denied = requests.post(
        f"{provider.issuer}/authorize",
        params=params,
        data={"decision": "deny"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    query = redirect_query(denied)
    assert query["error"] == "access_denied" and query["state"] == params["state"]
