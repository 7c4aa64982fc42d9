"""An inspector records evidence and uploads files in a real browser: chosen or dropped onto
the page, with progress, the parts going straight to the store; a failed part is sent again,
an upload cut off by a reload resumes with only the missing parts, and a file whose content
is not what the browser declared is refused with the reason."""

from __future__ import annotations

import base64
import collections
import dataclasses
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from tenants.seed import DEMO_PASSWORD
from tests.e2e.conftest import assert_accessible

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MiB = 1024 * 1024
#: Presigned part URLs of the folder store (the e2e app's backend), served by this app.
PART_URLS = "**/storage/p/**"
LINE = b"Senior probation officer: caseloads are too high.\n"


@pytest.fixture
def part_bytes(e2e_app: Flask) -> Iterator[int]:
    """Parts of 5 MiB (the smallest S3 allows), so a multi-part file stays small."""
    original = e2e_app.extensions["config"]
    e2e_app.extensions["config"] = dataclasses.replace(original, evidence_part_bytes=5 * MiB)
    yield 5 * MiB
    e2e_app.extensions["config"] = original


def _text(size: int) -> bytes:
    return (LINE * (size // len(LINE) + 1))[:size]


def _sign_in(page: Any, live_server: str, e2e_app: Flask) -> None:
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address", exact=True).fill("inspector@hmiprisons.example.gov.uk")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()


def _new_item(page: Any, live_server: str, e2e_app: Flask, title: str) -> None:
    """Sign in, record an interview item and stay on its page, ready to add files."""
    _sign_in(page, live_server, e2e_app)
    page.goto(live_server + "/workspaces")
    page.get_by_role("link", name=re.compile("resettlement support")).first.click()
    page.get_by_role("navigation", name="This inspection").get_by_role(
        "link", name="Evidence"
    ).click()
    page.get_by_role("link", name="Record evidence").click()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Method (001 §3)").select_option("interview")
    page.get_by_role("button", name="Record evidence").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    _uploader_ready(page)


def _uploader_ready(page: Any) -> None:
    # The uploader is a module script, run once the page is parsed: files chosen before then
    # would go unnoticed by it.
    page.wait_for_load_state("domcontentloaded")


def _parts_asked(page: Any) -> list[int]:
    """Every part number the page asks the app to presign, in order (one part a request)."""
    asked: list[int] = []

    def record(request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/parts"):
            asked.extend(json.loads(request.post_data)["part_numbers"])

    page.on("request", record)
    return asked


def _status_url(page: Any) -> str:
    """The upload the page keeps in localStorage to resume (there is one in these tests)."""
    found = page.evaluate(
        """() => Object.keys(localStorage).filter((k) => k.startsWith("evidence-upload:"))
                  .map((k) => localStorage.getItem(k))"""
    )
    assert len(found) == 1, found
    return str(found[0])


def _wait_for(condition: Callable[[], Any], page: Any, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, (
            "timed out; the page says: " + page.locator("#evidence-uploader").inner_text()
        )
        page.wait_for_timeout(100)
    return result


def _listed_as_scanned(page: Any, name: str) -> None:
    page.reload()
    row = page.locator("#evidence-files").get_by_role("row", name=re.compile(re.escape(name)))
    expect(row.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(row.get_by_text("Scanned")).to_be_visible()


def test_an_inspector_uploads_two_files_and_sees_them_listed_after_the_scan(
    page: Any, live_server: str, e2e_app: Flask, tmp_path: Path
) -> None:
    first = tmp_path / "interview-notes.txt"
    first.write_text("Senior probation officer: caseloads are too high.\n" * 2000)
    second = tmp_path / "case-file.pdf"
    second.write_bytes(PDF + b"%" + b"x" * 300_000)

    _sign_in(page, live_server, e2e_app)
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
    _uploader_ready(page)

    page.get_by_label("Choose files, or drag them onto this area").set_input_files(
        [str(first), str(second)]
    )
    expect(page.locator("#upload-overall-bar")).to_be_visible()
    expect(page.locator("#upload-list progress")).to_have_count(2)
    expect(page.locator("#upload-list")).to_contain_text("interview-notes.txt is scanned and ready")
    expect(page.locator("#upload-list")).to_contain_text("case-file.pdf is scanned and ready")
    expect(page.locator("#upload-overall-bar")).to_have_attribute("value", "100")
    expect(page.get_by_role("button", name=re.compile("^Retry"))).to_have_count(0)
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


def test_files_dropped_onto_the_upload_area_are_uploaded(
    page: Any, live_server: str, e2e_app: Flask
) -> None:
    _new_item(page, live_server, e2e_app, "Focus group with prison staff")
    area = page.locator("#evidence-uploader")
    # What the browser hands the page when files from the desktop are dropped on it.
    dropped = page.evaluate_handle(
        """([text, pdf]) => {
            const files = new DataTransfer();
            files.items.add(new File([text], "focus-group-notes.txt", {type: "text/plain"}));
            const bytes = Uint8Array.from(atob(pdf), (c) => c.charCodeAt(0));
            files.items.add(new File([bytes], "attendance.pdf", {type: "application/pdf"}));
            return files;
        }""",
        [_text(40_000).decode(), base64.b64encode(PDF + b"%" + b"x" * 2000).decode()],
    )

    area.dispatch_event("dragenter", {"dataTransfer": dropped})
    area.dispatch_event("dragover", {"dataTransfer": dropped})
    expect(area).to_have_class(re.compile("govuk-inset-text"))
    area.dispatch_event("drop", {"dataTransfer": dropped})

    expect(area).not_to_have_class(re.compile("govuk-inset-text"))
    expect(page.locator("#upload-list progress")).to_have_count(2)
    upload_list = page.locator("#upload-list")
    expect(upload_list).to_contain_text("focus-group-notes.txt is scanned and ready")
    expect(upload_list).to_contain_text("attendance.pdf is scanned and ready")
    expect(page.locator("#upload-overall-bar")).to_have_attribute("value", "100")
    expect(page.locator("#upload-overall-text")).to_contain_text("2 of 2 files uploaded")
    expect(page.get_by_role("button", name=re.compile("^Retry"))).to_have_count(0)
    assert_accessible(page)
    _listed_as_scanned(page, "focus-group-notes.txt")
    _listed_as_scanned(page, "attendance.pdf")


def test_dragging_something_other_than_files_over_the_area_is_left_alone(
    page: Any, live_server: str, e2e_app: Flask
) -> None:
    _new_item(page, live_server, e2e_app, "Reality check of a wing")
    area = page.locator("#evidence-uploader")
    text = page.evaluate_handle(
        """() => { const d = new DataTransfer(); d.setData("text/plain", "x"); return d; }"""
    )

    area.dispatch_event("dragover", {"dataTransfer": text})
    area.dispatch_event("drop", {"dataTransfer": text})

    expect(area).not_to_have_class(re.compile("govuk-inset-text"))
    expect(page.locator("#upload-overall")).to_be_hidden()
    expect(page.locator("#upload-list li")).to_have_count(0)


def test_a_part_whose_connection_drops_is_sent_again_and_the_upload_completes(
    page: Any, live_server: str, e2e_app: Flask, tmp_path: Path, part_bytes: int
) -> None:
    notes = tmp_path / "caseload-interview.txt"
    notes.write_bytes(_text(part_bytes + 100_000))  # two parts
    _new_item(page, live_server, e2e_app, "Interview with a case manager")
    asked = _parts_asked(page)
    dropped: list[str] = []

    def drop_the_first(route: Any) -> None:
        if not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(PART_URLS, drop_the_first)
    page.get_by_label("Choose files, or drag them onto this area").set_input_files(str(notes))

    upload_list = page.locator("#upload-list")
    expect(upload_list).to_contain_text("the connection dropped; trying again (1 of 4)")
    expect(upload_list).to_contain_text("caseload-interview.txt is scanned and ready")
    expect(page.locator("#upload-overall-bar")).to_have_attribute("value", "100")
    assert len(dropped) == 1
    # The part that failed was asked for twice, the other once.
    assert sorted(collections.Counter(asked).values()) == [1, 2], asked
    assert_accessible(page)
    _listed_as_scanned(page, "caseload-interview.txt")
    expect(page.locator("#evidence-files")).to_contain_text(f"{part_bytes + 100_000} bytes")


def test_an_upload_that_fails_for_good_offers_a_retry_button_that_finishes_it(
    page: Any, live_server: str, e2e_app: Flask, tmp_path: Path
) -> None:
    notes = tmp_path / "custody-visit.txt"
    notes.write_bytes(_text(30_000))
    _new_item(page, live_server, e2e_app, "Custody suite observation")
    refused: list[str] = []

    def busy_once(route: Any) -> None:
        if not refused:
            refused.append(route.request.url)
            route.fulfill(
                status=503,
                content_type="application/json",
                body=json.dumps({"error": "The service is busy; try again in a moment"}),
            )
        else:
            route.continue_()

    page.route("**/parts", busy_once)
    page.get_by_label("Choose files, or drag them onto this area").set_input_files(str(notes))

    upload_list = page.locator("#upload-list")
    expect(upload_list).to_contain_text(
        "custody-visit.txt was not uploaded: The service is busy; try again in a moment"
    )
    retry = page.get_by_role("button", name="Retry custody-visit.txt")
    expect(retry).to_be_visible()
    assert_accessible(page)
    retry.click()

    expect(upload_list).to_contain_text("custody-visit.txt is scanned and ready")
    expect(retry).to_be_hidden()
    _listed_as_scanned(page, "custody-visit.txt")


def test_an_upload_cut_off_by_a_reload_resumes_sending_only_the_missing_parts(
    page: Any, live_server: str, e2e_app: Flask, tmp_path: Path, part_bytes: int
) -> None:
    size = 3 * part_bytes + 4000  # four parts
    notes = tmp_path / "long-interview.txt"
    notes.write_bytes(_text(size))
    _new_item(page, live_server, e2e_app, "Interviews with resettlement staff")
    held: list[Any] = []
    let_through = [2]

    def two_then_hold(route: Any) -> None:
        if let_through[0] > 0:
            let_through[0] -= 1
            route.continue_()
        else:
            held.append(route)  # left unanswered: the part is still on its way

    page.route(PART_URLS, two_then_hold)
    chooser = page.get_by_label("Choose files, or drag them onto this area")
    chooser.set_input_files(str(notes))
    _wait_for(lambda: page.evaluate("() => localStorage.length"), page)
    status_url = _status_url(page)

    def stored_parts() -> list[int]:
        status = page.request.get(live_server + status_url).json()
        return [part["part_number"] for part in status["parts"]]

    before = _wait_for(lambda: len(stored_parts()) == 2 and stored_parts(), page)
    _wait_for(lambda: len(held) == 2, page)

    page.reload()  # the two parts in flight are lost with the page
    assert stored_parts() == before
    asked = _parts_asked(page)
    held.clear()
    let_through[0] = 0
    chooser.set_input_files(str(notes))

    upload_list = page.locator("#upload-list")
    expect(upload_list).to_contain_text(
        "Resuming long-interview.txt: 2 of 4 parts were already sent"
    )
    expect(page.locator("#upload-list progress")).not_to_have_attribute("value", "0")
    assert_accessible(page)
    _wait_for(lambda: len(held) == 2, page)
    for route in held:
        route.continue_()
    page.unroute(PART_URLS)

    expect(upload_list).to_contain_text("long-interview.txt is scanned and ready")
    assert sorted(asked) == sorted({1, 2, 3, 4} - set(before)), (asked, before)
    assert page.evaluate("() => localStorage.length") == 0
    _listed_as_scanned(page, "long-interview.txt")
    expect(page.locator("#evidence-files")).to_contain_text(f"{size} bytes")


def test_a_file_whose_content_is_not_what_was_declared_is_refused_with_the_reason(
    page: Any, live_server: str, e2e_app: Flask, tmp_path: Path
) -> None:
    notes = tmp_path / "changed-on-the-way.txt"
    notes.write_bytes(_text(20_000))
    _new_item(page, live_server, e2e_app, "Document review of sentence plans")

    def other_hash(route: Any) -> None:
        # As if the bytes that reached the store were not the ones the browser hashed.
        route.continue_(post_data=json.dumps({"sha256": "0" * 64}))

    page.route("**/complete", other_hash)
    page.get_by_label("Choose files, or drag them onto this area").set_input_files(str(notes))

    upload_list = page.locator("#upload-list")
    expect(upload_list).to_contain_text(
        "changed-on-the-way.txt was not uploaded: The file's SHA-256 does not match the one "
        "declared"
    )
    expect(page.get_by_role("button", name="Retry changed-on-the-way.txt")).to_be_hidden()
    assert page.evaluate("() => localStorage.length") == 0
    assert_accessible(page)
    page.reload()
    row = page.locator("#evidence-files").get_by_role("row", name=re.compile("changed-on-the-way"))
    expect(row.get_by_text("Rejected")).to_be_visible()
    expect(row).to_contain_text("SHA-256 does not match the one declared")
