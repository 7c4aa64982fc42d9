"""A development group representative signs in, finds the letters awaiting their authority
on the dashboard and authorises them, in a real browser."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from playwright.sync_api import expect

from tenants.seed import DEMO_PASSWORD
from tests.e2e.conftest import assert_accessible


def test_development_group_rep_authorises_letters_from_the_dashboard(
    page: Any, live_server: str, e2e_app: Flask
) -> None:
    result = e2e_app.test_cli_runner().invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address", exact=True).fill(
        "development.group.rep@hmiprisons.example.gov.uk"
    )
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("navigation").get_by_role("link", name="Joint inspections").click()
    expect(page.get_by_role("heading", name="Waiting for your approval")).to_be_visible()
    assert_accessible(page)
    expect(page.get_by_role("region", name="For your attention")).to_contain_text(
        "commissioning letters decision is due"
    )
    page.get_by_role("link", name="Commissioning letters", exact=True).click()
    assert_accessible(page)
    page.get_by_role(
        "button", name=re.compile(r"Approve for HMI Prisons\W+Commissioning letters")
    ).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Commissioning letters: you approved for HMI Prisons"
    )
    page.get_by_role("navigation").get_by_role("link", name="Joint inspections").click()
    expect(page.get_by_text("Nothing is waiting for your approval.")).to_be_visible()


def test_inspections_in_progress_page_is_public_and_accessible(
    page: Any, live_server: str, e2e_app: Flask
) -> None:
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    page.goto(live_server + "/inspections-in-progress")
    link = page.get_by_role("link", name=re.compile("resettlement support"))
    expect(link).to_be_visible()
    assert_accessible(page)
    link.click()
    expect(page.get_by_role("heading", name="The inspection question")).to_be_visible()
    assert_accessible(page)


def test_the_lead_works_through_the_inspection_pages(
    page: Any, live_server: str, e2e_app: Flask
) -> None:
    """Every page of the demo inspection is accessible; the lead edits the terms of reference
    and moves a milestone, and the plan's warnings follow."""
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address", exact=True).fill(
        "lead.inspector@hmiprobation.example.gov.uk"
    )
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("navigation").get_by_role("link", name="Joint inspections").click()
    page.get_by_role("link", name=re.compile("resettlement support")).first.click()
    nav = page.get_by_role("navigation", name="This inspection")
    for name in (
        "Terms of reference",
        "Documents",
        "Red lines",
        "Stakeholders",
        "Checklists",
        "Private area",
        "Timetable and plan",
        "Retention",
    ):
        nav.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
    # What happens to one item, when and why.
    page.get_by_role("link", name=re.compile("Case file sample")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Case file sample")
    expect(page.locator("#fate")).to_be_visible()
    assert_accessible(page)
    nav.get_by_role("link", name="Timetable and plan").click()

    milestone = page.get_by_role("row", name=re.compile("Data request sent"))
    milestone.get_by_label(re.compile("Date of")).fill("2020-01-01")
    milestone.get_by_role("button", name=re.compile("Move")).click()
    expect(page.get_by_role("region", name="Warnings")).to_contain_text(
        "“Data request sent to HMP Manchester” (HMI Prisons) was due on 1 January 2020"
    )
    assert_accessible(page)

    nav.get_by_role("link", name="Terms of reference").click()
    page.get_by_role("link", name="Edit Aims").click()
    page.get_by_label("Text").fill("To assess resettlement, end to end.")
    page.get_by_role("button", name="Save section").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Saved as version 3")
    expect(page.locator("#section-aims")).to_contain_text("To assess resettlement, end to end.")
    assert_accessible(page)


def test_the_consolidated_list_names_each_stakeholder_once(
    page: Any, live_server: str, e2e_app: Flask
) -> None:
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address", exact=True).fill("lead.inspector@hmiprisons.example.gov.uk")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(live_server + "/stakeholders")
    expect(page.get_by_role("heading", name="HMI Prisons stakeholders")).to_be_visible()
    assert_accessible(page)
    page.goto(live_server + "/workspaces")
    page.get_by_role("link", name=re.compile("resettlement support")).first.click()
    page.get_by_role("navigation", name="This inspection").get_by_role(
        "link", name="Stakeholders"
    ).click()
    table = page.get_by_role("table", name="Consolidated distribution list")
    expect(table).to_be_visible()
    # Jane Smith of the Ministry of Justice was nominated by two inspectorates: listed once;
    # Jane Smith of the Home Office is someone else.
    expect(table.get_by_role("row", name=re.compile("Ministry of Justice|MoJ"))).to_have_count(2)
    expect(
        table.get_by_role("row", name=re.compile("jane.smith@justice.gov.uk", re.I))
    ).to_have_count(1)
    expect(table.get_by_role("row", name=re.compile("homeoffice"))).to_have_count(1)
    assert_accessible(page)
