"""Readable differences between two versions of a document.

Sections are matched by key. A changed section is aligned block by block; a block that was
rewritten is shown as its words, with ``<ins>`` and ``<del>`` around what changed. Every piece of
HTML produced here is safe to render: it holds only ``p``, ``ins`` and ``del`` tags made here,
escaped text and blocks that :func:`shared_workspace.documents.richtext.blocks` has sanitised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from html import escape

from shared_workspace.documents.merge import Section, Version, place_after_predecessors
from shared_workspace.documents.richtext import blocks, plain_text


class DiffKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"
    MOVED = "moved"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


class BlockOp(StrEnum):
    EQUAL = "equal"
    INSERT = "insert"
    DELETE = "delete"
    #: A block rewritten in place: its ``html`` shows the changed words.
    CHANGE = "change"


@dataclass(frozen=True, slots=True)
class BlockDiff:
    op: BlockOp
    #: The sanitised block before and after (None for an inserted or a deleted block).
    old: str | None
    new: str | None
    #: Safe HTML showing the change.
    html: str


@dataclass(frozen=True, slots=True)
class SectionDiff:
    key: str
    #: None for an added section.
    old_title: str | None
    #: None for a removed section.
    new_title: str | None
    #: ADDED, REMOVED or UNCHANGED alone; otherwise any of RENAMED, MOVED and CHANGED.
    kinds: frozenset[DiffKind]
    #: Every block of an added, removed or changed section; empty otherwise.
    blocks: tuple[BlockDiff, ...] = ()
    #: Safe HTML of the title, with changed words marked.
    title_html: str = ""

    @property
    def kind(self) -> DiffKind:
        """The most telling kind: added, removed, changed, renamed, moved or unchanged."""
        for kind in (DiffKind.ADDED, DiffKind.REMOVED, DiffKind.CHANGED, DiffKind.RENAMED):
            if kind in self.kinds:
                return kind
        return DiffKind.MOVED if DiffKind.MOVED in self.kinds else DiffKind.UNCHANGED

    @property
    def html(self) -> str:
        """Safe HTML of the section body with its changes marked (empty when unchanged)."""
        return "".join(block.html for block in self.blocks)


def diff_versions(old: Version, new: Version) -> list[SectionDiff]:
    """One :class:`SectionDiff` per section of either version, in the new reading order with
    removed sections after their old predecessor; bodies that are equal are not diffed."""
    old_by_key = {section.key: section for section in old}
    new_by_key = {section.key: section for section in new}
    if len(old_by_key) != len(old) or len(new_by_key) != len(new):
        raise ValueError("A version has two sections with the same key")
    moved = _moved(
        [s.key for s in old if s.key in new_by_key], [s.key for s in new if s.key in old_by_key]
    )
    order = place_after_predecessors([s.key for s in new], [s.key for s in old])
    return [_section_diff(old_by_key.get(key), new_by_key.get(key), key in moved) for key in order]


def word_diff(old: str, new: str) -> str:
    """Safe HTML of the words of ``new`` with the words removed from ``old`` in ``<del>`` and
    the words added in ``<ins>``, one ``<p>`` per line of the new text."""
    return "".join(f"<p>{line}</p>" for line in _marked_lines(_tokens(old), _tokens(new)) if line)


def _section_diff(old: Section | None, new: Section | None, moved: bool) -> SectionDiff:
    if old is None:
        assert new is not None
        return SectionDiff(
            new.key,
            None,
            new.title,
            frozenset({DiffKind.ADDED}),
            tuple(map(_inserted, blocks(new.body))),
            f"<ins>{escape(new.title)}</ins>",
        )
    if new is None:
        return SectionDiff(
            old.key,
            old.title,
            None,
            frozenset({DiffKind.REMOVED}),
            tuple(map(_deleted, blocks(old.body))),
            f"<del>{escape(old.title)}</del>",
        )
    kinds: set[DiffKind] = set()
    if moved:
        kinds.add(DiffKind.MOVED)
    title_html = escape(new.title)
    if old.title != new.title:
        kinds.add(DiffKind.RENAMED)
        title_html = " ".join(_marked_lines(old.title.split(), new.title.split()))
    block_diffs: tuple[BlockDiff, ...] = ()
    # Comparing the strings first keeps a long document cheap: only edited sections are parsed.
    if old.body != new.body:
        block_diffs = _block_diffs(blocks(old.body), blocks(new.body))
        if any(diff.op is not BlockOp.EQUAL for diff in block_diffs):
            kinds.add(DiffKind.CHANGED)
        else:
            block_diffs = ()
    return SectionDiff(
        new.key,
        old.title,
        new.title,
        frozenset(kinds or {DiffKind.UNCHANGED}),
        block_diffs,
        title_html,
    )


def _block_diffs(old: list[str], new: list[str]) -> tuple[BlockDiff, ...]:
    result: list[BlockDiff] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.extend(BlockDiff(BlockOp.EQUAL, b, b, b) for b in new[j1:j2])
            continue
        removed, added = old[i1:i2], new[j1:j2]
        # Rewritten blocks are paired in order; any left over were deleted or inserted.
        for before, after in zip(removed, added, strict=False):
            result.append(BlockDiff(BlockOp.CHANGE, before, after, word_diff(before, after)))
        paired = min(len(removed), len(added))
        result.extend(map(_deleted, removed[paired:]))
        result.extend(map(_inserted, added[paired:]))
    return tuple(result)


def _inserted(block: str) -> BlockDiff:
    return BlockDiff(BlockOp.INSERT, None, block, f"<ins>{block}</ins>")


def _deleted(block: str) -> BlockDiff:
    return BlockDiff(BlockOp.DELETE, block, None, f"<del>{block}</del>")


def _moved(old_keys: list[str], new_keys: list[str]) -> set[str]:
    """Keys outside the longest run of sections kept in the same relative order."""
    matcher = SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    kept = {key for a, _, size in matcher.get_matching_blocks() for key in old_keys[a : a + size]}
    return set(new_keys) - kept


#: Stands for a line break among the words of a block.
_NEWLINE = "\n"


def _tokens(html: str) -> list[str]:
    tokens: list[str] = []
    for number, line in enumerate(plain_text(html).split("\n")):
        if number:
            tokens.append(_NEWLINE)
        tokens.extend(line.split())
    return tokens


def _marked_lines(old: Sequence[str], new: Sequence[str]) -> list[str]:
    """Lines of escaped words from ``new`` with changes marked; a line break counts only where
    the new text has one, so deleted breaks do not split lines."""
    lines: list[list[str]] = [[]]

    def add(words: Sequence[str], tag: str | None, keep_breaks: bool) -> None:
        segment: list[str] = []

        def flush() -> None:
            if segment:
                text = escape(" ".join(segment))
                lines[-1].append(f"<{tag}>{text}</{tag}>" if tag else text)
                segment.clear()

        for word in words:
            if word != _NEWLINE:
                segment.append(word)
            elif keep_breaks:
                flush()
                lines.append([])
        flush()

    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add(new[j1:j2], None, keep_breaks=True)
            continue
        add(old[i1:i2], "del", keep_breaks=False)
        add(new[j1:j2], "ins", keep_breaks=True)
    return [" ".join(parts) for parts in lines]
