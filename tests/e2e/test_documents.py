"""Two inspectorates edit one report section at the same time in two browsers: the second
save shows both texts, is resolved, and the history names both authors."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from playwright.sync_api import expect

from tenants.seed import DEMO_PASSWORD
from tests.e2e.conftest import assert_accessible


def _sign_in(page: Any, live_server: str, email: str) -> None:
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()


def _open_summary(page: Any, live_server: str) -> None:
    page.goto(live_server + "/workspaces")
    page.get_by_role("link", name=re.compile("resettlement support")).first.click()
    page.get_by_role("navigation", name="This inspection").get_by_role(
        "link", name="Documents"
    ).click()
    page.get_by_role("link", name=re.compile("draft report")).click()
    page.get_by_role("link", name="Edit Summary").click()
    expect(page.get_by_role("heading", name="Summary", level=1)).to_be_visible()


def test_two_inspectorates_edit_one_section_and_resolve_the_conflict(
    browser: Any, live_server: str, e2e_app: Flask
) -> None:
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    probation_context, prisons_context = browser.new_context(), browser.new_context()
    try:
        probation, prisons = probation_context.new_page(), prisons_context.new_page()
        _sign_in(probation, live_server, "lead.inspector@hmiprobation.example.gov.uk")
        _sign_in(prisons, live_server, "lead.inspector@hmiprisons.example.gov.uk")
        _open_summary(probation, live_server)
        _open_summary(prisons, live_server)  # both pages now hold the same version
        assert_accessible(prisons)

        probation.get_by_label("Text").fill(
            "<p>Too many people leave prison with nowhere settled to live.</p>"
            "<p>Prison and probation staff work hard, but their plans start too late.</p>"
        )
        probation.get_by_role("button", name="Save section").click()
        expect(probation.locator(".govuk-notification-banner")).to_contain_text("Saved as version")

        prisons.get_by_label("Text").fill(
            "<p>Four in ten people left prison without settled accommodation.</p>"
            "<p>Prison and probation staff work hard, but their plans start too late.</p>"
        )
        prisons.get_by_role("button", name="Save section").click()
        expect(
            prisons.get_by_role("heading", name="Someone changed the same passage")
        ).to_be_visible()
        expect(prisons.locator("[data-side=theirs]")).to_contain_text("nowhere settled to live")
        expect(prisons.locator("[data-side=mine]")).to_contain_text("Four in ten people")
        assert_accessible(prisons)
        prisons.get_by_label("Combined text for “Summary”").fill(
            "<p>Four in ten people left prison with nowhere settled to live.</p>"
            "<p>Prison and probation staff work hard, but their plans start too late.</p>"
        )
        prisons.get_by_role("button", name="Save my resolution").click()
        expect(prisons.locator(".govuk-notification-banner")).to_contain_text("Conflict resolved")
        expect(prisons.locator("#section-summary")).to_contain_text(
            "Four in ten people left prison with nowhere settled to live."
        )

        prisons.get_by_role("link", name="History and changes").click()
        history = prisons.get_by_role("table", name="Versions")
        expect(history).to_contain_text("(HMI Prisons)")
        expect(history).to_contain_text("(HMI Probation)")
        expect(history).to_contain_text("resolved a conflict")
        assert_accessible(prisons)
    finally:
        probation_context.close()
        prisons_context.close()
