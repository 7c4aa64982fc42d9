"""HMI Probation and HMI Prisons type into the same paragraph at the same time in two
browsers: both end with the same text holding every character each typed, and the history
shows the version the live text became, naming both."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from playwright.sync_api import expect

from tests.e2e.test_documents import _open_summary, _sign_in

PROBATION_TYPES = " Probation adds this sentence."
PRISONS_TYPES = " Prisons adds another one."


def text(page: Any) -> str:
    """The document text in the editor (without the other people's cursor labels)."""
    return str(page.evaluate("() => window.liveEditor.view.state.doc.textContent"))


def _go_live(page: Any) -> Any:
    page.get_by_role("button", name="Write together live").click()
    editor = page.get_by_test_id("live-editor")
    expect(editor).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Connected")
    page.wait_for_function("() => window.liveEditor.view.state.doc.textContent.length > 0")
    editor.click()
    page.keyboard.press("Control+End")
    return editor


def test_two_inspectorates_type_into_one_paragraph_live(
    browser: Any, live_server: str, e2e_app: Flask
) -> None:
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    probation_context, prisons_context = browser.new_context(), browser.new_context()
    errors: list[str] = []
    try:
        probation, prisons = probation_context.new_page(), prisons_context.new_page()
        for page in (probation, prisons):
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(probation, live_server, "lead.inspector@hmiprobation.example.gov.uk")
        _sign_in(prisons, live_server, "lead.inspector@hmiprisons.example.gov.uk")
        _open_summary(probation, live_server)
        _open_summary(prisons, live_server)
        _go_live(probation)
        _go_live(prisons)
        # Each sees the other in the room, in their inspectorate's colour.
        expect(probation.get_by_role("list", name="Writing here live")).to_contain_text(
            "(HMI Prisons)"
        )
        expect(prisons.get_by_role("list", name="Writing here live")).to_contain_text(
            "(HMI Probation)"
        )

        before = text(probation)
        # Interleaved keystrokes: neither waits for the other's to arrive.
        for i in range(max(len(PROBATION_TYPES), len(PRISONS_TYPES))):
            if i < len(PROBATION_TYPES):
                probation.keyboard.type(PROBATION_TYPES[i])
            if i < len(PRISONS_TYPES):
                prisons.keyboard.type(PRISONS_TYPES[i])

        probation.wait_for_function(
            "() => window.liveEditor.provider.wsconnected", polling=100, timeout=5000
        )
        typed = PROBATION_TYPES + PRISONS_TYPES
        for _ in range(100):
            if text(probation) == text(prisons) and len(text(probation)) == len(before + typed):
                break
            probation.wait_for_timeout(100)
        final = text(probation)
        assert text(prisons) == final
        # Typed at the same place at once, the letters may interleave; none is lost or doubled.
        assert sorted(final) == sorted(before + typed)

        # The last editor leaving makes a version; the history names both.
        probation.goto(live_server + "/workspaces")
        prisons.get_by_role("link", name="Back to the document").click()
        prisons.get_by_role("link", name="History and changes").click()
        history = prisons.get_by_role("table", name="Versions")
        for _ in range(50):
            if "live editing by" in history.inner_text():
                break
            prisons.wait_for_timeout(200)
            prisons.reload()
        live_row = history.get_by_role("row").filter(has_text="live editing by")
        # One version's note names a writer of each inspectorate.
        note = re.search(r"live editing by ([^\n]*)", live_row.first.inner_text())
        assert note is not None
        assert "(HMI Probation)" in note.group(1) and "(HMI Prisons)" in note.group(1)
        assert errors == []
    finally:
        probation_context.close()
        prisons_context.close()


CELLS = """() => {
  const out = [];
  window.liveEditor.view.state.doc.descendants((node) => {
    if (node.type.name === "table_cell" || node.type.name === "table_header") {
      out.push(node.textContent);
      return false;
    }
    return true;
  });
  return out;
}"""


def _wait_for_cells(page: Any, wanted: list[str]) -> None:
    """The cells of the editor's tables (its document, not the screen: others' cursor labels
    are on the screen) until they are ``wanted``."""
    seen: list[str] = []
    for _ in range(50):
        seen = page.evaluate(CELLS)
        if seen == wanted:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"cells {seen!r}, wanted {wanted!r}")


def test_a_table_is_made_and_filled_in_live(browser: Any, live_server: str, e2e_app: Flask) -> None:
    """The toolbar makes a table; Tab moves between its cells; the other inspectorate sees it
    cell by cell, and the version the live text becomes holds it."""
    assert e2e_app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    probation_context, prisons_context = browser.new_context(), browser.new_context()
    errors: list[str] = []
    try:
        probation, prisons = probation_context.new_page(), prisons_context.new_page()
        for page in (probation, prisons):
            page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(probation, live_server, "lead.inspector@hmiprobation.example.gov.uk")
        _sign_in(prisons, live_server, "lead.inspector@hmiprisons.example.gov.uk")
        _open_summary(probation, live_server)
        _open_summary(prisons, live_server)
        _go_live(probation)
        _go_live(prisons)

        probation.keyboard.press("Enter")
        probation.get_by_role("button", name="Table", exact=True).click()
        for i, word in enumerate(("Area", "Rating", "Leadership", "Good")):
            if i:
                probation.keyboard.press("Tab")
            probation.keyboard.type(word)
        probation.get_by_role("button", name="Add row", exact=True).click()
        probation.keyboard.press("Tab")
        probation.keyboard.type("Partnership")

        _wait_for_cells(prisons, ["Area", "Rating", "Leadership", "Good", "Partnership", ""])
        # HMI Prisons fills in the empty cell.
        prisons.get_by_test_id("live-editor").locator("td").nth(3).click()
        prisons.keyboard.type("Requires improvement")
        _wait_for_cells(
            probation,
            ["Area", "Rating", "Leadership", "Good", "Partnership", "Requires improvement"],
        )

        # Both leave: the live text becomes a version holding the table.
        probation.goto(live_server + "/workspaces")
        prisons.goto(live_server + "/workspaces")
        _open_summary(prisons, live_server)
        prisons.get_by_role("link", name="Back to the document").click()
        table = prisons.locator("main table").filter(has_text="Partnership")
        for _ in range(50):
            if table.count():
                break
            prisons.wait_for_timeout(200)
            prisons.reload()
        expect(table.locator("th").first).to_have_text("Area")
        expect(table.locator("td").nth(3)).to_have_text("Requires improvement")
        assert errors == []
    finally:
        probation_context.close()
        prisons_context.close()
