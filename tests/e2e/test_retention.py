"""A records manager works through the retention pages in a real browser: every page has no
axe violations, forms show their errors in a summary that leads to the field, and forms
work from the keyboard."""

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


def test_a_records_manager_works_through_the_retention_pages(
    page: Any, live_server: str, e2e_app: Flask
) -> None:
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    _sign_in(page, live_server, "records.manager@hmcpsi.example.gov.uk")
    page.get_by_role("navigation").get_by_role("link", name="Retention", exact=True).click()
    expect(page.get_by_role("heading", name="Retention", level=1)).to_be_visible()
    assert_accessible(page)
    section = page.get_by_role("navigation", name="Retention")
    for name, heading in (
        ("Holds", "Holds"),
        ("Reviews and transfers", "Reviews and transfers"),
        ("Destruction preview", "What will be destroyed"),
        ("Certificates", "Destruction certificates"),
    ):
        section.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert_accessible(page)

    # The certificate of the earlier inspection, whose HMCPSI material the sweep destroyed.
    page.get_by_role("link", name=re.compile(r"^Certificate \d+$")).first.click()
    expect(page.get_by_text("The tombstones still match the digest")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Item destroyed")
    assert_accessible(page)

    section.get_by_role("link", name="Rules").click()
    page.get_by_role("link", name="Add a rule version").click()
    page.get_by_role("button", name="Save rule version").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose a class of material from the list")
    assert_accessible(page)
    summary.get_by_role("link", name="Choose a class of material from the list").click()
    expect(page.get_by_label("Material", exact=True)).to_be_focused()

    section.get_by_role("link", name="Holds").click()
    page.get_by_role("link", name="Place a hold").click()
    assert_accessible(page)
    item = page.get_by_label("One item", exact=True)
    item.focus()
    page.keyboard.press("Space")
    expect(item).to_be_checked()
    page.keyboard.press("Enter")  # submits the form, as a keyboard user would
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the kind of item")
    assert_accessible(page)


def test_a_partner_records_manager_sees_the_agreement_awaiting_them(
    page: Any, live_server: str, e2e_app: Flask
) -> None:
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    _sign_in(page, live_server, "records.manager@hmiprisons.example.gov.uk")
    page.goto(live_server + "/workspaces")
    page.get_by_role("link", name=re.compile("resettlement support")).first.click()
    page.get_by_role("navigation", name="This inspection").get_by_role(
        "link", name="Retention"
    ).click()
    table = page.get_by_role("table", name=re.compile("side by side"))
    expect(table).to_contain_text("Review 3 years after the publication date")
    expect(page.get_by_text(re.compile("Waiting for the records managers of"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Approve or reject it for HMI Prisons")).click()
    expect(page.get_by_role("heading", name="Retention agreement")).to_be_visible()
