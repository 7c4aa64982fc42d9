"""Three-way merge: edits that do not overlap are all kept; overlapping ones become conflicts
that hold both full texts; no accepted text is ever lost."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_workspace.documents import merge as merge_module
from shared_workspace.documents.merge import (
    Conflict,
    ConflictKind,
    MergeResult,
    Section,
    Version,
    merge,
    merge_blocks,
    resolve,
)
from shared_workspace.documents.richtext import blocks


def body(*paragraphs: str) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def doc(*sections: tuple[str, str, str]) -> Version:
    return tuple(Section(key, title, text) for key, title, text in sections)


BASE = doc(
    ("intro", "Introduction", body("i1", "i2", "i3")),
    ("police", "Police", body("p1", "p2", "p3", "p4")),
    ("cps", "Crown Prosecution Service", body("c1", "c2")),
)


def replace(version: Version, key: str, **changes: str) -> Version:
    return tuple(
        Section(s.key, changes.get("title", s.title), changes.get("body", s.body))
        if s.key == key
        else s
        for s in version
    )


def section(result: MergeResult, key: str) -> Section:
    return next(s for s in result.sections if s.key == key)


def test_edits_in_different_sections_both_survive() -> None:
    head = replace(BASE, "intro", body=body("i1 by head", "i2", "i3"))
    pending = replace(BASE, "cps", body=body("c1", "c2 by pending"))
    result = merge(BASE, head, pending)
    assert result.clean
    assert result.sections == doc(
        ("intro", "Introduction", body("i1 by head", "i2", "i3")),
        ("police", "Police", body("p1", "p2", "p3", "p4")),
        ("cps", "Crown Prosecution Service", body("c1", "c2 by pending")),
    )


def test_edits_in_different_paragraphs_of_one_section_both_survive() -> None:
    head = replace(BASE, "police", body=body("p1 by head", "p2", "p3", "p4"))
    pending = replace(BASE, "police", body=body("p1", "p2", "p3", "p4 by pending", "p5"))
    result = merge(BASE, head, pending)
    assert result.clean
    assert section(result, "police").body == body("p1 by head", "p2", "p3", "p4 by pending", "p5")


def test_edits_to_neighbouring_paragraphs_both_survive() -> None:
    head = replace(BASE, "police", body=body("p1", "p2 by head", "p3", "p4"))
    pending = replace(BASE, "police", body=body("p1", "p2", "p3 by pending", "p4"))
    result = merge(BASE, head, pending)
    assert result.clean
    assert section(result, "police").body == body("p1", "p2 by head", "p3 by pending", "p4")


def test_overlapping_edits_are_a_conflict_keeping_both_full_texts() -> None:
    head_body = body("p1", "p2 by head", "p3", "p4 by head")
    pending_body = body("p1 by pending", "p2 by pending", "p3", "p4")
    head = replace(BASE, "police", body=head_body)
    pending = replace(BASE, "police", body=pending_body)
    result = merge(BASE, head, pending)
    assert not result.clean
    assert result.conflicts == (
        Conflict(
            key="police",
            title="Police",
            base_body=body("p1", "p2", "p3", "p4"),
            head_body=head_body,
            pending_body=pending_body,
            kind=ConflictKind.EDITED_ON_BOTH,
            base_title="Police",
            head_title="Police",
            pending_title="Police",
        ),
    )
    # Until resolved, the merged version keeps the latest saved text of the section.
    assert section(result, "police").body == head_body


def test_different_inserts_at_one_place_are_a_conflict() -> None:
    head = replace(BASE, "cps", body=body("c1", "from head", "c2"))
    pending = replace(BASE, "cps", body=body("c1", "from pending", "c2"))
    [conflict] = merge(BASE, head, pending).conflicts
    assert conflict.kind is ConflictKind.EDITED_ON_BOTH


def test_identical_edits_are_not_a_conflict() -> None:
    edited = replace(BASE, "police", body=body("p1", "same fix", "p3", "p4"), title="Policing")
    result = merge(BASE, edited, edited)
    assert result.clean
    assert result.sections == edited


def test_identical_paragraph_edit_beside_other_edits_is_applied_once() -> None:
    head = replace(BASE, "police", body=body("p1 by head", "same fix", "p3", "p4"))
    pending = replace(BASE, "police", body=body("p1", "same fix", "p3", "p4 by pending"))
    result = merge(BASE, head, pending)
    assert result.clean
    assert section(result, "police").body == body("p1 by head", "same fix", "p3", "p4 by pending")


def test_overlapping_deletions_are_not_a_conflict() -> None:
    head = replace(BASE, "police", body=body("p1", "p4"))
    pending = replace(BASE, "police", body=body("p1", "p2", "p4"))
    result = merge(BASE, head, pending)
    assert result.clean
    assert section(result, "police").body == body("p1", "p4")


def test_deleting_a_section_the_other_side_left_alone_deletes_it() -> None:
    head = replace(BASE, "intro", body=body("i1 by head", "i2", "i3"))
    pending = tuple(s for s in BASE if s.key != "cps")
    result = merge(BASE, head, pending)
    assert result.clean
    assert [s.key for s in result.sections] == ["intro", "police"]
    assert section(result, "intro").body == body("i1 by head", "i2", "i3")


def test_pending_edit_of_a_section_head_deleted_is_a_conflict_and_kept() -> None:
    head = tuple(s for s in BASE if s.key != "police")
    pending = replace(BASE, "police", body=body("p1", "p2 by pending", "p3", "p4"))
    result = merge(BASE, head, pending)
    [conflict] = result.conflicts
    assert conflict.kind is ConflictKind.DELETED_IN_HEAD
    assert conflict.head_body is None
    assert conflict.pending_body == body("p1", "p2 by pending", "p3", "p4")
    assert [s.key for s in result.sections] == ["intro", "cps"]


def test_head_edit_of_a_section_pending_deleted_is_a_conflict_and_kept() -> None:
    head = replace(BASE, "police", title="Policing")
    pending = tuple(s for s in BASE if s.key != "police")
    result = merge(BASE, head, pending)
    [conflict] = result.conflicts
    assert conflict.kind is ConflictKind.DELETED_IN_PENDING
    assert conflict.pending_body is None
    assert section(result, "police").title == "Policing"


def test_sections_added_on_both_sides_are_all_kept_after_their_predecessors() -> None:
    head = (*BASE[:1], Section("h-new", "Head's new section", body("h")), *BASE[1:])
    pending = (*BASE, Section("p-new", "Pending's new section", body("p")))
    result = merge(BASE, head, pending)
    assert result.clean
    assert [s.key for s in result.sections] == ["intro", "h-new", "police", "cps", "p-new"]


def test_a_section_added_with_one_key_on_both_sides_merges_against_nothing() -> None:
    same = (*BASE, Section("new", "New", body("same")))
    assert merge(BASE, same, same).sections == same
    different = (*BASE, Section("new", "New", body("other")))
    [conflict] = merge(BASE, same, different).conflicts
    assert (conflict.base_body, conflict.kind) == ("", ConflictKind.EDITED_ON_BOTH)


def test_a_rename_on_one_side_merges_with_an_edit_on_the_other() -> None:
    head = replace(BASE, "cps", title="CPS")
    pending = replace(BASE, "cps", body=body("c1", "c2 by pending"))
    result = merge(BASE, head, pending)
    assert result.clean
    assert section(result, "cps") == Section("cps", "CPS", body("c1", "c2 by pending"))


def test_different_renames_are_a_conflict_even_when_bodies_merge() -> None:
    head = replace(BASE, "cps", title="CPS", body=body("c1 by head", "c2"))
    pending = replace(BASE, "cps", title="The CPS", body=body("c1", "c2 by pending"))
    result = merge(BASE, head, pending)
    [conflict] = result.conflicts
    assert conflict.kind is ConflictKind.RENAMED_ON_BOTH
    assert conflict.titles_conflict
    assert (conflict.head_title, conflict.pending_title) == ("CPS", "The CPS")
    assert section(result, "cps") == Section("cps", "CPS", body("c1 by head", "c2 by pending"))


def test_pending_order_is_taken_when_only_pending_reordered() -> None:
    edited = replace(BASE, "intro", body=body("i1 by head"))
    head = (edited[0], Section("h-new", "Context", body("context")), *edited[1:])
    pending = (BASE[2], BASE[0], BASE[1])
    result = merge(BASE, head, pending)
    assert [s.key for s in result.sections] == ["cps", "intro", "h-new", "police"]
    assert section(result, "intro").body == body("i1 by head")


def test_head_order_wins_when_both_reordered() -> None:
    head = (BASE[1], BASE[0], BASE[2])
    pending = (BASE[2], BASE[0], BASE[1])
    assert [s.key for s in merge(BASE, head, pending).sections] == ["police", "intro", "cps"]


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="pending version has two sections"):
        merge(BASE, BASE, (*BASE, BASE[0]))


def test_unchanged_sections_are_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting_blocks(html: str) -> list[str]:
        calls.append(html)
        return blocks(html)

    monkeypatch.setattr(merge_module, "blocks", counting_blocks)
    sections = tuple(Section(f"s{i}", f"S{i}", body(f"a{i}", f"b{i}")) for i in range(60))
    head = replace(sections, "s7", body=body("a7 by head", "b7"))
    pending = replace(
        replace(sections, "s7", body=body("a7", "b7 by pending")), "s9", body=body("x")
    )
    result = merge(sections, head, pending)
    assert result.clean
    assert len(calls) == 3  # base, head and pending of s7 only


def test_resolve_applies_the_chosen_text_in_place() -> None:
    head = replace(BASE, "police", body=body("p1 by head", "p2", "p3", "p4"))
    pending = replace(
        replace(BASE, "police", body=body("p1 by pending", "p2", "p3", "p4")),
        "cps",
        body=body("c1", "c2 by pending"),
    )
    result = merge(BASE, head, pending)
    chosen = body("p1 agreed", "p2", "p3", "p4")
    resolved = resolve(result, {"police": chosen})
    assert [s.key for s in resolved] == ["intro", "police", "cps"]
    assert resolved[1] == Section("police", "Police", chosen)
    assert resolved[2].body == body("c1", "c2 by pending")


def test_resolve_refuses_unresolved_conflicts_naming_the_sections() -> None:
    head = replace(replace(BASE, "police", body=body("h")), "cps", body=body("h"))
    pending = replace(replace(BASE, "police", body=body("p")), "cps", body=body("p"))
    result = merge(BASE, head, pending)
    with pytest.raises(ValueError, match=r"'Crown Prosecution Service' \(cps\)") as raised:
        resolve(result, {"police": body("h")})
    assert "Police" not in str(raised.value).replace("Crown Prosecution Service", "")


def test_resolve_refuses_sections_not_in_conflict() -> None:
    result = merge(BASE, BASE, BASE)
    with pytest.raises(ValueError, match="no conflict to resolve: intro"):
        resolve(result, {"intro": body("x")})


def test_resolve_restores_a_deleted_section_in_its_place_or_accepts_the_deletion() -> None:
    head = tuple(s for s in BASE if s.key != "police")
    pending = replace(BASE, "police", body=body("p1 by pending"))
    result = merge(BASE, head, pending)
    restored = resolve(result, {"police": body("p1 by pending")})
    assert [s.key for s in restored] == ["intro", "police", "cps"]
    assert restored[1] == Section("police", "Police", body("p1 by pending"))
    assert [s.key for s in resolve(result, {"police": None})] == ["intro", "cps"]


def test_resolve_needs_a_title_when_both_renamed() -> None:
    head = replace(BASE, "cps", title="CPS")
    pending = replace(BASE, "cps", title="The CPS")
    result = merge(BASE, head, pending)
    with pytest.raises(ValueError, match="cps"):
        resolve(result, {})
    resolved = resolve(result, {}, titles={"cps": "Crown Prosecution Service (CPS)"})
    assert resolved[2] == Section("cps", "Crown Prosecution Service (CPS)", BASE[2].body)


@pytest.mark.parametrize(
    ("base", "head", "pending", "expected"),
    [
        (["a", "b", "c"], ["a", "B", "c"], ["a", "b", "C"], ["a", "B", "C"]),
        (["a", "b", "c"], ["x", "a", "b", "c"], ["a", "b", "c", "y"], ["x", "a", "b", "c", "y"]),
        (["a", "b", "c"], ["a", "c"], ["a", "b", "c", "d"], ["a", "c", "d"]),
        (["a", "b", "c"], ["a", "x", "b", "c"], ["a", "B", "c"], ["a", "x", "B", "c"]),
        (["a", "b", "c"], ["a", "b", "x", "c"], ["a", "B", "c"], ["a", "B", "x", "c"]),
        (["a", "b", "c"], ["a", "B", "c"], ["a", "B2", "c"], None),
        (["a", "b", "c"], ["a", "c"], ["a", "B", "c"], None),
        (["a", "b", "c"], ["a", "b", "x", "c"], ["a", "b", "y", "c"], None),
        (["a", "b", "c"], ["a", "X", "Y"], ["a", "b", "Z"], None),
        ([], ["x"], ["x"], ["x"]),
        ([], ["x"], [], ["x"]),
    ],
)
def test_merge_blocks(
    base: list[str], head: list[str], pending: list[str], expected: list[str] | None
) -> None:
    assert merge_blocks(base, head, pending) == expected


# --- Property: for random concurrent edits, no accepted text is ever lost. ----------------------


@dataclass
class Draft:
    """A document being edited: sections of paragraphs, each paragraph a unique token."""

    sections: list[tuple[str, str, list[str]]]
    side: str
    made: list[int] = field(default_factory=lambda: [0])

    def token(self) -> str:
        self.made[0] += 1
        return f"{self.side}{self.made[0]}"

    def version(self) -> Version:
        return tuple(Section(key, title, "".join(paras)) for key, title, paras in self.sections)


EDIT = st.tuples(
    st.sampled_from(
        ["replace", "replace", "insert", "insert", "delete", "add", "drop", "rename", "move"]
    ),
    st.integers(0, 20),
    st.integers(0, 20),
)


def apply_edits(base: Version, edits: list[tuple[str, int, int]], side: str) -> Version:
    draft = Draft([(s.key, s.title, blocks(s.body)) for s in base], side)
    for op, which, where in edits:
        sections = draft.sections
        if op == "add" or not sections:
            paragraphs = [f"<p>{draft.token()}</p>" for _ in range(where % 3)]
            key = f"{side}-section-{draft.token()}"
            sections.insert(which % (len(sections) + 1), (key, f"Title {key}", paragraphs))
            continue
        index = which % len(sections)
        key, title, paragraphs = sections[index]
        if op == "drop":
            del sections[index]
        elif op == "rename":
            sections[index] = (key, f"Title {draft.token()}", paragraphs)
        elif op == "move":
            sections.insert(where % len(sections), sections.pop(index))
        elif op == "insert":
            paragraphs.insert(where % (len(paragraphs) + 1), f"<p>{draft.token()}</p>")
        elif paragraphs and op == "replace":
            paragraphs[where % len(paragraphs)] = f"<p>{draft.token()}</p>"
        elif paragraphs and op == "delete":
            del paragraphs[where % len(paragraphs)]
    return draft.version()


@st.composite
def base_documents(draw: st.DrawFn) -> Version:
    sizes = draw(st.lists(st.integers(0, 5), max_size=5))
    return tuple(
        Section(f"base-{n}", f"Title base-{n}", body(*(f"b{n}x{i}" for i in range(size))))
        for n, size in enumerate(sizes)
    )


def paragraphs(version: Version) -> set[str]:
    return {block for s in version for block in blocks(s.body)}


def bodies_paragraphs(texts: list[str | None]) -> set[str]:
    return {block for text in texts if text is not None for block in blocks(text)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base_documents(), st.lists(EDIT, max_size=6), st.lists(EDIT, max_size=6))
def test_no_accepted_text_is_ever_lost(
    base: Version, head_edits: list[tuple[str, int, int]], pending_edits: list[tuple[str, int, int]]
) -> None:
    head = apply_edits(base, head_edits, "h")
    pending = apply_edits(base, pending_edits, "q")
    result = merge(base, head, pending)

    in_base, in_head, in_pending = paragraphs(base), paragraphs(head), paragraphs(pending)
    merged = paragraphs(result.sections)
    in_conflicts = bodies_paragraphs(
        [t for c in result.conflicts for t in (c.head_body, c.pending_body)]
    )
    introduced = (in_head - in_base) | (in_pending - in_base)
    deleted = (in_base - in_head) | (in_base - in_pending)

    assert len({s.key for s in result.sections}) == len(result.sections)
    assert merged <= in_base | in_head | in_pending, "the merge invented text"
    assert introduced <= merged | in_conflicts, "a new paragraph was lost"
    # Head's text stands wherever pending did not delete it, conflicts or not.
    assert {p for p in in_head if p not in in_base or p in in_pending} <= merged
    for conflict in result.conflicts:
        head_section = next((s for s in head if s.key == conflict.key), None)
        pending_section = next((s for s in pending if s.key == conflict.key), None)
        assert conflict.head_body == (head_section.body if head_section else None)
        assert conflict.pending_body == (pending_section.body if pending_section else None)
    if result.clean:
        assert introduced <= merged
        assert not merged & deleted, "a deleted paragraph came back"
    for merged_section in result.sections:
        sides = (*head, *pending)
        assert merged_section.title in {s.title for s in sides if s.key == merged_section.key}

    # Resolving every conflict with the pending text keeps all of pending's new text.
    resolved = resolve(
        result,
        {c.key: c.pending_body for c in result.conflicts if c.needs_body},
        {c.key: c.pending_title for c in result.conflicts if c.titles_conflict and c.pending_title},
    )
    assert in_pending - in_base <= paragraphs(resolved)


@settings(max_examples=100, deadline=None)
@given(base_documents(), st.lists(EDIT, max_size=6))
def test_merging_with_an_untouched_side_gives_the_other_side(
    base: Version, edits: list[tuple[str, int, int]]
) -> None:
    edited = apply_edits(base, edits, "e")
    assert merge(base, base, edited) == MergeResult(edited, (), tuple(s.key for s in edited))
    assert merge(base, edited, base).sections == edited
