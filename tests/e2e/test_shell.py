"""The home page in a real browser: GOV.UK layout, JavaScript enhancement under the CSP,
no accessibility violations, keyboard reachable."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import assert_accessible


def test_home_page_has_no_axe_violations(page: Any, live_server: str) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server + "/")
    assert page.title().startswith("Home")
    # GOV.UK Frontend's JavaScript ran, so the CSP let our scripts through.
    assert "govuk-frontend-supported" in page.evaluate("document.body.className")
    assert_accessible(page)
    assert errors == [], errors


def test_skip_link_is_the_first_thing_the_keyboard_reaches(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"


def test_error_page_is_accessible(page: Any, live_server: str) -> None:
    response = page.goto(live_server + "/no-such-page")
    assert response.status == 404
    assert_accessible(page)
