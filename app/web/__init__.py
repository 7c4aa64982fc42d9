"""The HTML shell: GOV.UK layout, home page, assets and error pages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from app.api import http_error_for_api, is_api_request
from app.security import too_large_message

bp = Blueprint("web", __name__)

GOVUK_DIR = Path(__file__).resolve().parent.parent / "static" / "govuk"

ERROR_PAGES = {
    400: ("Sorry, there is a problem with your request", "Check what you sent and try again."),
    403: ("You do not have permission to see this page", "Ask your administrator for access."),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("Sorry, that action is not allowed here", "Go back and try again."),
    413: ("The file or form is too large", "Send a smaller file or less text."),
    429: ("Too many attempts", "Wait a few minutes, then try again."),
}


@bp.get("/")
def home() -> str:
    return render_template("home.html")


@bp.get("/assets/<path:filename>")
def govuk_assets(filename: str) -> Response:
    """GOV.UK Frontend's fonts and images, which its stylesheet expects under /assets."""
    response = send_from_directory(GOVUK_DIR / "assets", filename, max_age=86400)
    return response


def _render_error(status: int, title: str, body: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, body=body), status


LONDON = ZoneInfo("Europe/London")


def format_london(value: datetime | None, with_time: bool = True) -> str:
    """A stored UTC time as people in England and Wales read it."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(LONDON)
    return (
        local.strftime("%-d %B %Y at %-I:%M%p").replace("AM", "am").replace("PM", "pm")
        if with_time
        else local.strftime("%-d %B %Y")
    )


#: Navigation for signed-in users: (endpoint, text). Packages add theirs at start-up.
NAV_ITEMS: list[tuple[str, str]] = []


def register_nav(endpoint: str, text: str) -> None:
    if (endpoint, text) not in NAV_ITEMS:
        NAV_ITEMS.append((endpoint, text))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    def nav_items() -> list[dict[str, object]]:
        current = request.endpoint
        from flask_login import current_user

        items = []
        for endpoint, text in NAV_ITEMS:
            view = app.view_functions.get(endpoint)
            if view is None:
                continue
            roles = getattr(view, "required_roles", None)
            if roles and not current_user.has_role(*roles):
                continue
            if getattr(view, "platform_admin_only", False) and not current_user.is_platform_admin:
                continue
            items.append({"href": url_for(endpoint), "text": text, "active": current == endpoint})
        return items

    from app.forms import error_list

    app.jinja_env.globals.update(
        nav_items=nav_items, endpoints=app.view_functions.keys, error_list=error_list
    )
    app.jinja_env.filters["london"] = format_london

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if is_api_request():
            return http_error_for_api(exc)
        status = exc.code or 500
        title, body = ERROR_PAGES.get(status, (exc.name, exc.description or ""))
        if isinstance(exc, RequestEntityTooLarge):
            title, body = "The file is too large", too_large_message()
        return _render_error(status, title, body)

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error")
        if is_api_request():
            return http_error_for_api(InternalServerError())
        return _render_error(
            500,
            "Sorry, there is a problem with the service",
            "Try again later. Nothing you sent has been saved.",
        )
