"""An inspector records evidence and uploads two files in a real browser: progress is shown,
the parts go straight to the store, and after the scan both are listed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import expect

from tenants.seed import DEMO_PASSWORD
from tests.e2e.conftest import assert_accessible

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_an_inspector_uploads_two_files_and_sees_them_listed_after_the_scan(
    page: Any, live_server: str, e2e_app: Flask, tmp_path: Path
) -> None:
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    first = tmp_path / "interview-notes.txt"
    first.write_text("Senior probation officer: caseloads are too high.\n" * 2000)
    second = tmp_path / "case-file.pdf"
    second.write_bytes(PDF + b"%" + b"x" * 300_000)

    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address", exact=True).fill("inspector@hmiprisons.example.gov.uk")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("navigation").get_by_role("link", name="Joint inspections").click()
    page.get_by_role("link", name=re.compile("resettlement support")).first.click()
    expect(page.get_by_role("navigation", name="This inspection")).to_be_visible()
    page.get_by_role("navigation", name="This inspection").get_by_role(
        "link", name="Evidence"
    ).click()
    expect(page.get_by_role("heading", name="Evidence", exact=True)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Record evidence").click()
    page.get_by_label("Title", exact=True).fill("Interviews with probation staff")
    page.get_by_label("Method (001 §3)").select_option("interview")
    page.get_by_label("Source (role or job title, never a name)").fill("Senior probation officer")
    assert_accessible(page)
    page.get_by_role("button", name="Record evidence").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("now add its files")
    assert_accessible(page)

    page.get_by_label("Choose files, or drag them onto this area").set_input_files(
        [str(first), str(second)]
    )
    expect(page.locator("#upload-overall-bar")).to_be_visible()
    expect(page.locator("#upload-list progress")).to_have_count(2)
    expect(page.locator("#upload-list")).to_contain_text("interview-notes.txt is scanned and ready")
    expect(page.locator("#upload-list")).to_contain_text("case-file.pdf is scanned and ready")
    expect(page.locator("#upload-overall-bar")).to_have_attribute("value", "100")
    assert_accessible(page)

    page.reload()
    files = page.locator("#evidence-files")
    expect(files.get_by_role("link", name="interview-notes.txt", exact=True)).to_be_visible()
    expect(files.get_by_role("link", name="case-file.pdf", exact=True)).to_be_visible()
    expect(files.get_by_text("Scanned")).to_have_count(2)
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="This inspection").get_by_role(
        "link", name="Evidence"
    ).click()
    page.get_by_label("Method", exact=True).select_option("interview")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row", name=re.compile("Interviews with probation staff"))
    expect(row).to_contain_text("2")
    assert_accessible(page)
