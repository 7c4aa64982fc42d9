"""A development group representative authorises a commissioning letter; the last authority
makes it sendable; the lead sends it, the job puts it in the outbox and the register shows it
sent."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import expect

from app.clock import clock
from tenants.seed import DEMO_PASSWORD
from tests.e2e.conftest import assert_accessible


def _sign_in(context: Any, live_server: str, email: str) -> Any:
    page = context.new_page()
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()
    return page


def _open(page: Any, live_server: str, link: str) -> None:
    page.goto(live_server + "/workspaces")
    page.get_by_role("link", name=re.compile("resettlement support")).first.click()
    page.get_by_role("navigation", name="This inspection").get_by_role("link", name=link).click()


def test_the_last_authority_makes_a_letter_sendable_and_it_is_sent(
    browser: Any, live_server: str, e2e_app: Flask
) -> None:
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    outbox = Path(e2e_app.extensions["config"].instance_path) / "outbox"
    before = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0

    context = browser.new_context()
    try:
        lead = _sign_in(context, live_server, "lead.inspector@hmiprobation.example.gov.uk")
        _open(lead, live_server, "Letters")
        lead.get_by_label("Addressee").fill("Omar Khan")
        lead.get_by_label("Their role").fill("Head of the probation delivery unit")
        lead.get_by_label("Their email address").fill("omar.khan@probation.example.gov.uk")
        # One letter per inspected site and addressee: the six-week rule counts back from
        # this site's fieldwork (ten weeks away in the demo).
        site = lead.get_by_label("Inspected site")
        unit = site.locator("option", has_text="Greater Manchester probation delivery unit")
        site.select_option(value=unit.get_attribute("value"))
        lead.get_by_label("Letter", exact=True).fill(
            "We will inspect how police use release information."
        )
        lead.get_by_role("button", name="Draft the letter and ask for authority").click()
        row = lead.get_by_role("table", name="Letter register").get_by_role(
            "row", name=re.compile("Omar Khan")
        )
        expect(row).to_contain_text("Site: Greater Manchester probation delivery unit")
        expect(row).to_contain_text("Cannot be sent yet")
        expect(row).to_contain_text("have not authorised this version (§17)")
        assert_accessible(lead)
    finally:
        context.close()

    for slug in ("hmiprobation", "hmiprisons", "hmicfrs"):
        context = browser.new_context()
        try:
            page = _sign_in(context, live_server, f"development.group.rep@{slug}.example.gov.uk")
            _open(page, live_server, "Overview")
            card = page.locator(".govuk-summary-card").filter(has_text="Letter to Omar Khan")
            card.get_by_role("button", name=re.compile("Approve for")).click()
            expect(page.locator(".govuk-notification-banner").first).to_contain_text(
                "Commissioning letters"
            )
        finally:
            context.close()

    context = browser.new_context()
    try:
        page = _sign_in(context, live_server, "lead.inspector@hmiprobation.example.gov.uk")
        _open(page, live_server, "Letters")
        row = page.get_by_role("table", name="Letter register").get_by_role(
            "row", name=re.compile("Omar Khan")
        )
        expect(row).to_contain_text("Agreed")  # the last authority made it sendable
        row.get_by_role("button", name=re.compile("Send")).click()
        expect(page.locator(".govuk-notification-banner").first).to_contain_text("being sent")
        page.reload()
        expect(
            page.get_by_role("table", name="Letter register").get_by_role(
                "row", name=re.compile("Omar Khan")
            )
        ).to_contain_text("Sent")
        assert_accessible(page)
    finally:
        context.close()
    messages = sorted(outbox.glob("*.eml"))
    assert len(messages) == before + 1
    assert b"omar.khan@probation.example.gov.uk" in messages[-1].read_bytes()


def test_the_publication_calendar_and_a_readers_comments_are_usable_and_accessible(
    browser: Any, live_server: str, e2e_app: Flask
) -> None:
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    context = browser.new_context()
    try:
        lead = _sign_in(context, live_server, "lead.inspector@hmiprobation.example.gov.uk")
        _open(lead, live_server, "Media and publication")
        lead.get_by_role("button", name="Draft the press notice").click()
        expect(lead.get_by_role("heading", level=1)).to_contain_text("Press notice")
        _open(lead, live_server, "Media and publication")
        lead.get_by_label("Sent to").fill("Ann Bell")
        lead.get_by_label("Organisation").fill("HMP Manchester")
        lead.get_by_label("Sent on").fill(clock.today().isoformat())
        lead.get_by_role("button", name="Record", exact=True).click()
        lead.get_by_role("link", name=re.compile("0 comments")).click()
        lead.get_by_role("button", name="Record the comment").click()  # nothing written
        expect(lead.locator(".govuk-error-summary")).to_contain_text(
            "Write the comment as it was made"
        )
        assert_accessible(lead)
        lead.get_by_label("Comment, as it was made").fill("The unit holds 120 men, not 102.")
        lead.get_by_label("Where in the draft").fill("Section 2")
        lead.get_by_role("button", name="Record the comment").click()
        card = lead.locator(".govuk-summary-card").filter(has_text="120 men")
        card.get_by_label("Accepted: the draft is changed").check()
        card.get_by_label("Response to comment 1").fill("Corrected to 120.")
        card.get_by_role("button", name=re.compile("Save the response")).click()
        card = lead.locator(".govuk-summary-card").filter(has_text="120 men")
        expect(card).to_contain_text("Corrected to 120.")
        expect(card).to_contain_text("Accepted: the draft is changed")
        assert_accessible(lead)
        lead.goto(lead.url.split("/circulations/")[0] + "/publication/calendar")
        expect(lead.get_by_role("heading", level=1)).to_have_text("Publication calendar")
        expect(lead.locator("caption").first).to_be_visible()
        assert_accessible(lead)
    finally:
        context.close()
