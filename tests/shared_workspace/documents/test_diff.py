"""Readable diffs between versions: every kind of section change, and output safe to render."""

from __future__ import annotations

import re

import pytest

from shared_workspace.documents import diff as diff_module
from shared_workspace.documents.diff import BlockOp, DiffKind, SectionDiff, diff_versions, word_diff
from shared_workspace.documents.merge import Section, Version
from shared_workspace.documents.richtext import blocks


def body(*paragraphs: str) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


OLD: Version = (
    Section("intro", "Introduction", body("Victims wait too long.", "Second point.")),
    Section("police", "Police", body("Forces record crime accurately.")),
    Section("cps", "Crown Prosecution Service", body("Charging decisions are timely.")),
)


def by_key(diffs: list[SectionDiff]) -> dict[str, SectionDiff]:
    return {d.key: d for d in diffs}


def test_identical_versions_are_all_unchanged() -> None:
    diffs = diff_versions(OLD, OLD)
    assert [(d.key, d.kind, d.html) for d in diffs] == [
        ("intro", DiffKind.UNCHANGED, ""),
        ("police", DiffKind.UNCHANGED, ""),
        ("cps", DiffKind.UNCHANGED, ""),
    ]


def test_an_added_section_shows_every_block_inserted() -> None:
    new = (*OLD, Section("annex", "Annex <A>", body("Method.", "Data.")))
    added = by_key(diff_versions(OLD, new))["annex"]
    assert added.kinds == {DiffKind.ADDED}
    assert added.old_title is None
    assert added.title_html == "<ins>Annex &lt;A&gt;</ins>"
    assert added.html == "<ins><p>Method.</p></ins><ins><p>Data.</p></ins>"


def test_a_removed_section_is_listed_after_its_old_predecessor() -> None:
    diffs = diff_versions(OLD, (OLD[0], OLD[2]))
    assert [(d.key, d.kind) for d in diffs] == [
        ("intro", DiffKind.UNCHANGED),
        ("police", DiffKind.REMOVED),
        ("cps", DiffKind.UNCHANGED),
    ]
    removed = diffs[1]
    assert removed.new_title is None
    assert removed.html == "<del><p>Forces record crime accurately.</p></del>"


def test_a_renamed_section_marks_the_changed_words_of_its_title() -> None:
    new = (OLD[0], OLD[1], Section("cps", "The Crown Prosecution Service", OLD[2].body))
    renamed = by_key(diff_versions(OLD, new))["cps"]
    assert renamed.kinds == {DiffKind.RENAMED}
    assert renamed.title_html == "<ins>The</ins> Crown Prosecution Service"
    assert renamed.blocks == ()


def test_a_moved_section_is_the_one_out_of_order() -> None:
    diffs = diff_versions(OLD, (OLD[1], OLD[2], OLD[0]))
    assert [(d.key, d.kind) for d in diffs] == [
        ("police", DiffKind.UNCHANGED),
        ("cps", DiffKind.UNCHANGED),
        ("intro", DiffKind.MOVED),
    ]


def test_a_changed_section_aligns_blocks_and_marks_changed_words() -> None:
    new_body = body("Victims wait far too long.", "A new point.", "Second point.")
    new = (Section("intro", "Introduction", new_body), *OLD[1:])
    changed = by_key(diff_versions(OLD, new))["intro"]
    assert changed.kinds == {DiffKind.CHANGED}
    assert [b.op for b in changed.blocks] == [BlockOp.CHANGE, BlockOp.INSERT, BlockOp.EQUAL]
    assert changed.html == (
        "<p>Victims wait <ins>far</ins> too long.</p>"
        "<ins><p>A new point.</p></ins>"
        "<p>Second point.</p>"
    )


def test_a_section_can_be_renamed_moved_and_changed_at_once() -> None:
    new = (OLD[1], OLD[2], Section("intro", "Summary", body("Victims wait.", "Second point.")))
    summary = by_key(diff_versions(OLD, new))["intro"]
    assert summary.kinds == {DiffKind.RENAMED, DiffKind.MOVED, DiffKind.CHANGED}
    assert summary.kind is DiffKind.CHANGED


def test_a_body_that_differs_only_in_markup_cleaning_is_unchanged() -> None:
    new = (Section("intro", "Introduction", OLD[0].body + "\n"), *OLD[1:])
    assert by_key(diff_versions(OLD, new))["intro"].kind is DiffKind.UNCHANGED


def test_word_diff_keeps_lines_of_lists_and_tables() -> None:
    old = "<ul><li>one</li><li>two</li></ul>"
    new = "<ul><li>one</li><li>two and a half</li><li>three</li></ul>"
    expected = "<p>one</p><p>two <ins>and a half</ins></p><p><ins>three</ins></p>"
    assert word_diff(old, new) == expected
    old = "<table><tr><td>North</td><td>12</td></tr><tr><td>South</td><td>9</td></tr></table>"
    new = "<table><tr><td>North</td><td>14</td></tr><tr><td>South</td><td>9</td></tr></table>"
    assert word_diff(old, new) == "<p>North <del>12</del> <ins>14</ins></p><p>South 9</p>"


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '"><iframe src=https://evil.example>',
]

#: The only markup diff output may hold beyond what the sanitiser allows in a body.
SAFE_TAG = re.compile(
    r"</?(p|ins|del|h2|h3|h4|ul|ol|li|table|thead|tbody|tr|th|td|a|strong|em|b|i|br|sup|sub"
    r"|blockquote|span)(\s[^<>]*)?>"
)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_in_bodies_and_titles_comes_out_escaped(hostile: str) -> None:
    old = (Section("s", f"Title {hostile}", body(f"Before {hostile} after")),)
    new = (
        Section("s", f"New title {hostile}", body(f"Before {hostile} changed")),
        Section("t", hostile, f"<p>{hostile}</p>{hostile}"),
    )
    for section_diff in diff_versions(old, new) + diff_versions(new, old):
        rendered = section_diff.title_html + section_diff.html
        assert SAFE_TAG.sub("", rendered).count("<") == 0, rendered
        # Hostile words may show as escaped text; inside a tag they must not appear.
        for tag in re.findall(r"<[^>]*>", rendered):
            assert not re.search(r"\son\w+=|javascript:|style=", tag), rendered


def test_word_diff_escapes_text() -> None:
    assert (
        word_diff("<p>a</p>", "<p>a &lt;b&gt; &amp;</p>") == "<p>a <ins>&lt;b&gt; &amp;</ins></p>"
    )


def test_only_changed_sections_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []

    def counting_blocks(html: str) -> list[str]:
        parsed.append(html)
        return blocks(html)

    monkeypatch.setattr(diff_module, "blocks", counting_blocks)
    old = tuple(Section(f"s{i}", f"S{i}", body(f"text {i}")) for i in range(60))
    new = tuple(Section(s.key, s.title, body("changed")) if s.key == "s30" else s for s in old)
    diffs = diff_versions(old, new)
    assert [d.key for d in diffs if d.kind is not DiffKind.UNCHANGED] == ["s30"]
    assert parsed == [old[30].body, new[30].body]
