"""Sign-in, MFA, sign-out and the account page (tokens, MFA)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.db import get_session, set_context
from app.forms import parse_form
from app.tenancy import get_or_404
from tenants import auth
from tenants.login import end_session, public, start_session
from tenants.models import ApiToken, IdentityProvider, Tenant, User
from tenants.schemas import MfaCodeForm, SignInForm, TokenForm
from tenants.service import ServiceError

bp = Blueprint("auth", __name__, template_folder="templates")

MFA_PENDING = "mfa_pending"
MFA_SETUP = "mfa_setup"
MFA_SECRET = "mfa_setup_secret"  # noqa: S105 - a session key name


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect (no scheme, host, or odd characters)."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return url_for("web.home")
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in target):
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return url_for("web.home")
    return target


def _finish(user: User, method: str, next_url: str) -> Response:
    start_session(user)  # also names the user as the actor of what follows
    auth.complete_sign_in(get_session(), user, method)
    flash(f"Signed in as {user.name}", "success")
    return redirect(safe_next(next_url))


def _after_first_factor(user: User, method: str, next_url: str) -> Response:
    """Password or single sign-on done: ask for the security code, set one up, or finish."""
    session.clear()
    if user.mfa_enabled:
        session[MFA_PENDING] = (user.tenant_id, user.id)
        session["next"] = next_url
        session["method"] = method
        return redirect(url_for("auth.mfa_challenge"))
    if user.tenant.mfa_required:
        session[MFA_SETUP] = (user.tenant_id, user.id)
        session["next"] = next_url
        session["method"] = method
        return redirect(url_for("auth.mfa_setup"))
    return _finish(user, method, next_url)


def _pending_user(key: str) -> User | None:
    pending = session.get(key)
    if not pending:
        return None
    tenant_id, user_id = pending
    db = get_session()
    set_context(db, tenant_id=tenant_id, user_id=user_id)
    user = db.get(User, user_id)
    return user if user is not None and user.active and user.tenant_id == tenant_id else None


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    errors: dict[str, str] = {}
    values = {"email": "", "next": request.args.get("next", "")}
    if request.method == "POST":
        data, errors = parse_form(SignInForm())
        values.update(
            {"email": request.form.get("email", "")[:320], "next": request.form.get("next", "")}
        )
        if not errors:
            result = auth.sign_in_with_password(
                get_session(), data["email"], data["password"], request.remote_addr or "-"
            )
            if result.user is None:
                errors = {"email": result.error or "Enter a correct email address and password"}
                status = (
                    429 if result.retry_after_minutes and "password" not in request.form else 200
                )
                return render_template("auth/sign_in.html", errors=errors, values=values), status
            return _after_first_factor(result.user, "password", values["next"])
    return render_template("auth/sign_in.html", errors=errors, values=values)


@bp.route("/sign-in/mfa", methods=["GET", "POST"])
@public
def mfa_challenge() -> Response | str:
    user = _pending_user(MFA_PENDING)
    if user is None:
        return redirect(url_for("auth.sign_in"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        data, errors = parse_form(MfaCodeForm())
        if not errors:
            db = get_session()
            if auth.verify_mfa(db, user, data["code"]):
                next_url = session.get("next", "")
                return _finish(user, session.get("method", "password") + "+totp", next_url)
            minutes = auth.mfa_locked_minutes(db, user)
            if minutes:
                session.clear()
                flash(f"Too many wrong security codes. Try again in {minutes} minutes.", "info")
                return redirect(url_for("auth.sign_in"))
            errors = {"code": "The code is not correct. Enter the 6-digit code your app shows now"}
    return render_template("auth/mfa_challenge.html", errors=errors)


@bp.route("/sign-in/mfa/setup", methods=["GET", "POST"])
@public
def mfa_setup() -> Response | str:
    """Set up TOTP: during sign-in when the tenant requires it, or from the account page."""
    signed_in = current_user.is_authenticated
    user = current_user if signed_in else _pending_user(MFA_SETUP)
    if user is None:
        return redirect(url_for("auth.sign_in"))
    secret = session.get(MFA_SECRET) or auth.new_totp_secret()
    session[MFA_SECRET] = secret
    errors: dict[str, str] = {}
    if request.method == "POST":
        data, errors = parse_form(MfaCodeForm())
        if not errors:
            try:
                auth.enable_mfa(get_session(), user, secret, data["code"])
            except ServiceError as exc:
                errors = {exc.field: exc.message}
            else:
                session.pop(MFA_SECRET, None)
                if signed_in:
                    flash("Two-factor authentication is on", "success")
                    return redirect(url_for("auth.account"))
                method = session.get("method", "password") + "+totp"
                return _finish(user, method, session.get("next", ""))
    return render_template(
        "auth/mfa_setup.html",
        errors=errors,
        secret=secret,
        uri=auth.totp_uri(secret, user),
        required=not signed_in,
    )


@bp.route("/sign-out", methods=["GET", "POST"])
def sign_out() -> Response | str:
    if request.method == "POST":
        auth.sign_out(get_session(), current_user._get_current_object())
        end_session()
        flash("You have signed out", "success")
        return redirect(url_for("web.home"))
    return render_template("auth/sign_out.html")


def _my_tokens() -> list[ApiToken]:
    return list(
        get_session().scalars(
            select(ApiToken)
            .where(ApiToken.user_id == current_user.id)
            .order_by(ApiToken.created_at.desc())
        )
    )


@bp.get("/account")
def account() -> str:
    return render_template(
        "auth/account.html", tokens=_my_tokens(), errors={}, values={}, new_token=None
    )


@bp.post("/account/tokens")
def create_token() -> str:
    db = get_session()
    data, errors = parse_form(TokenForm())
    new_token = None
    if not errors:
        try:
            _token, new_token = auth.create_token(
                db,
                current_user._get_current_object(),
                name=data["name"],
                scopes=set(data["scopes"]),
                days=data["days"],
            )
        except ServiceError as exc:
            errors = {exc.field: exc.message}
    tokens = _my_tokens()
    values = {k: request.form.get(k, "")[:200] for k in ("name", "days")}
    return render_template(
        "auth/account.html", tokens=tokens, errors=errors, values=values, new_token=new_token
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    db = get_session()
    token = get_or_404(db, ApiToken, token_id)
    if token.user_id != current_user.id:
        abort(404)
    auth.revoke_token(db, token)
    flash(f"Token “{token.name}” revoked. It stops working at once.", "success")
    return redirect(url_for("auth.account"))


@bp.post("/sign-in/sso")
@public
def sso_start() -> Response | str:
    """Send the person to their organisation's provider, chosen by email domain."""
    from tenants import oidc

    email = request.form.get("sso_email", "").strip()[:320]
    values = {"email": "", "next": request.form.get("next", "")}
    if "@" not in email:
        errors = {"sso_email": "Enter your work email address, like name@inspectorate.gov.uk"}
        return render_template("auth/sign_in.html", errors=errors, values=values)
    try:
        target = oidc.find_target(get_session(), email)
    except oidc.SsoError as exc:
        return render_template("auth/sign_in.html", errors={"sso_email": str(exc)}, values=values)
    session.clear()
    session["sso_tenant"] = target.tenant.id
    session["next"] = values["next"]
    client = oidc.client_for(target.provider)
    return client.authorize_redirect(url_for("auth.sso_callback", _external=True), login_hint=email)


@bp.get("/sign-in/sso/callback")
@public
def sso_callback() -> Response | tuple[str, int]:
    """Finish the authorization-code flow; refuse any token that does not check out."""
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError

    from tenants import oidc

    tenant_id = session.get("sso_tenant")
    db = get_session()
    if not isinstance(tenant_id, int):
        flash("Your sign-in expired. Start again.", "info")
        return redirect(url_for("auth.sign_in"))
    set_context(db, tenant_id=tenant_id)
    provider = db.scalar(select(IdentityProvider).where(IdentityProvider.enabled.is_(True)))
    tenant = db.get(Tenant, tenant_id)
    if provider is None or tenant is None:
        abort(404)
    try:
        token = oidc.verified_token(provider)
        claims = dict(token.get("userinfo") or {})
        user = oidc.provision(db, oidc.SsoTarget(tenant, provider), claims)
    except (AuthlibBaseError, JoseError, oidc.SsoError) as exc:
        message = (
            str(exc)
            if isinstance(exc, oidc.SsoError)
            else (
                "Your organisation's sign-in could not be verified. Start again, and tell your "
                "administrator if it keeps happening"
            )
        )
        current_app.logger.warning(
            "sso refused", extra={"tenant_id": tenant_id, "error": repr(exc)}
        )
        session.pop("sso_tenant", None)
        return render_template("auth/sso_error.html", message=message), 400
    return _after_first_factor(user, "oidc", session.get("next", ""))
