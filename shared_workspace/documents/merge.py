"""Three-way merge of document versions, so that two writers can save the same report.

The rule (product spec): a save on a stale base is merged three-way when the edits do not overlap
(different sections, or different paragraphs of one section); when they overlap, nothing is
overwritten: the second writer sees both texts side by side and resolves; the pending text is
never discarded.

``head`` is the latest saved version and ``pending`` the save a writer made on the older
``base``. Sections are matched by key, which survives renames and moves; paragraphs are the
blocks of :func:`shared_workspace.documents.richtext.blocks`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum

from shared_workspace.documents.richtext import blocks


@dataclass(frozen=True, slots=True)
class Section:
    #: Stable id (a uuid string) that survives renames and reordering.
    key: str
    title: str
    #: Cleaned rich HTML (see :func:`shared_workspace.documents.richtext.clean_section`).
    body: str


#: One saved state of a document: its sections in reading order.
Version = tuple[Section, ...]


class ConflictKind(StrEnum):
    #: Both writers changed the same paragraphs (or inserted different text at one place).
    EDITED_ON_BOTH = "edited_on_both"
    #: Both writers gave the section different new titles; the bodies merged cleanly.
    RENAMED_ON_BOTH = "renamed_on_both"
    #: The latest version deleted the section; the pending save edited it.
    DELETED_IN_HEAD = "deleted_in_head"
    #: The pending save deleted the section; the latest version edited it.
    DELETED_IN_PENDING = "deleted_in_pending"


@dataclass(frozen=True, slots=True)
class Conflict:
    """One section the writer must resolve, holding every text involved so nothing is lost."""

    key: str
    #: The title to show the writer: the latest version's, or the pending one if head deleted it.
    title: str
    #: Empty when both sides added a section with the same key.
    base_body: str
    #: None when the latest version deleted the section.
    head_body: str | None
    #: None when the pending save deleted the section.
    pending_body: str | None
    kind: ConflictKind
    base_title: str = ""
    head_title: str | None = None
    pending_title: str | None = None

    @property
    def titles_conflict(self) -> bool:
        """True when both sides renamed the section, to different titles."""
        return (
            self.head_title is not None
            and self.pending_title is not None
            and self.head_title != self.pending_title
            and self.base_title not in (self.head_title, self.pending_title)
        )

    @property
    def needs_body(self) -> bool:
        """True when the writer must choose the body (every kind but a rename-only clash)."""
        return self.kind is not ConflictKind.RENAMED_ON_BOTH


@dataclass(frozen=True, slots=True)
class MergeResult:
    #: The merged version; a conflicting section keeps the latest version's text (or stays
    #: deleted when the latest version deleted it) until resolved.
    sections: Version
    conflicts: tuple[Conflict, ...] = ()
    #: Reading order of every section key in ``sections`` or in a conflict, so that resolving a
    #: delete-versus-edit conflict in favour of the edit puts the section back where it was.
    order: tuple[str, ...] = field(default=(), repr=False)

    @property
    def clean(self) -> bool:
        """True when the merge needs nothing from the writer."""
        return not self.conflicts


def merge(base: Version, head: Version, pending: Version) -> MergeResult:
    """Merge ``pending`` (saved on ``base``) into ``head`` (the latest): every edit that does
    not overlap another is kept, and every overlapping one becomes a :class:`Conflict` holding
    both full texts, so no saved text is ever lost."""
    base_by_key = _by_key(base, "base")
    head_by_key = _by_key(head, "head")
    pending_by_key = _by_key(pending, "pending")
    merged: dict[str, Section] = {}
    conflicts: dict[str, Conflict] = {}

    for key in dict.fromkeys([*head_by_key, *pending_by_key]):
        ours, theirs = head_by_key.get(key), pending_by_key.get(key)
        original = base_by_key.get(key)
        if original is None:
            if ours is None or theirs is None:
                added = ours or theirs
                assert added is not None
                merged[key] = added
                continue
            # The same key added on both sides: merge both against an empty section.
            original = Section(key, "", "")
        if theirs is None or ours is None:
            kept = ours or theirs
            assert kept is not None
            if kept == original:
                continue  # deleted on one side, untouched on the other
            if ours is not None:
                conflicts[key] = _conflict(ConflictKind.DELETED_IN_PENDING, original, ours, None)
                merged[key] = ours
            else:
                conflicts[key] = _conflict(ConflictKind.DELETED_IN_HEAD, original, None, theirs)
            continue
        section, conflict = _merge_section(original, ours, theirs)
        merged[key] = section
        if conflict is not None:
            conflicts[key] = conflict

    order = [key for key in _order(base, head, pending) if key in merged or key in conflicts]
    return MergeResult(
        sections=tuple(merged[key] for key in order if key in merged),
        conflicts=tuple(conflicts[key] for key in order if key in conflicts),
        order=tuple(order),
    )


def resolve(
    result: MergeResult,
    resolutions: Mapping[str, str | None],
    titles: Mapping[str, str] | None = None,
) -> Version:
    """The version the writer chose: each conflicting section's body from ``resolutions`` (None
    deletes the section) and, where both sides renamed it, its title from ``titles``; raises
    ValueError naming every section still unresolved or named but not in conflict."""
    titles = titles or {}
    by_key = {conflict.key: conflict for conflict in result.conflicts}
    strangers = sorted((set(resolutions) | set(titles)) - set(by_key))
    if strangers:
        raise ValueError(f"These sections have no conflict to resolve: {', '.join(strangers)}")
    unresolved = [
        conflict
        for conflict in result.conflicts
        if (conflict.needs_body and conflict.key not in resolutions)
        or (
            conflict.titles_conflict
            and conflict.key not in titles
            and resolutions.get(conflict.key, "") is not None
        )
    ]
    if unresolved:
        names = ", ".join(f"'{conflict.title}' ({conflict.key})" for conflict in unresolved)
        raise ValueError(f"Choose the text to keep before saving these sections: {names}")

    sections = {section.key: section for section in result.sections}
    for conflict in result.conflicts:
        current = sections.get(conflict.key)
        body = resolutions.get(conflict.key, current.body if current else conflict.pending_body)
        if body is None:
            sections.pop(conflict.key, None)
            continue
        title = titles.get(conflict.key, current.title if current else conflict.title)
        sections[conflict.key] = Section(conflict.key, title, body)
    # A result built by hand may lack the order; its sections still keep theirs.
    order = place_after_predecessors(result.order, [s.key for s in result.sections])
    return tuple(sections[key] for key in order if key in sections)


def merge_blocks(
    base: Sequence[str], head: Sequence[str], pending: Sequence[str]
) -> list[str] | None:
    """The blocks of ``base`` with the changes of both sides applied, or None when a change on
    one side touches a block the other side changed (or both inserted different blocks at one
    place); changes made identically on both sides are applied once."""
    ours = _hunks(base, head, side=0)
    theirs = _hunks(base, pending, side=1)
    clusters = _clusters(ours, theirs)
    merged: list[str] = []
    position = 0
    for cluster in clusters:
        start = min(hunk.start for hunk in cluster)
        end = max(hunk.end for hunk in cluster)
        mine = [hunk for hunk in cluster if hunk.side == 0]
        others = [hunk for hunk in cluster if hunk.side == 1]
        if start < position:
            return None  # groups never overlap; if they ever did, the writer decides
        merged.extend(base[position:start])
        position = end
        if not others:
            merged.extend(_apply(base, start, end, mine))
        elif not mine:
            merged.extend(_apply(base, start, end, others))
        else:
            head_text = _apply(base, start, end, mine)
            pending_text = _apply(base, start, end, others)
            if head_text == pending_text:
                merged.extend(head_text)
            elif all(not hunk.blocks for hunk in cluster):
                # Overlapping deletions: everything either side deleted goes, nothing is added.
                deleted = {i for hunk in cluster for i in range(hunk.start, hunk.end)}
                merged.extend(base[i] for i in range(start, end) if i not in deleted)
            else:
                return None
    merged.extend(base[position:])
    return merged


@dataclass(frozen=True, slots=True)
class _Hunk:
    """Base blocks ``[start, end)`` replaced by ``blocks`` on one side (0 head, 1 pending)."""

    side: int
    start: int
    end: int
    blocks: tuple[str, ...]


def _hunks(base: Sequence[str], changed: Sequence[str], side: int) -> list[_Hunk]:
    """One side's changes to ``base``. A run of blocks rewritten one for one is split into a
    hunk per block, so that a paragraph changed on one side does not overlap its neighbour
    changed (or changed identically) on the other."""
    hunks: list[_Hunk] = []
    matcher = SequenceMatcher(None, base, changed, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            hunks.extend(
                _Hunk(side, i1 + n, i1 + n + 1, (changed[j1 + n],)) for n in range(i2 - i1)
            )
        elif tag != "equal":
            hunks.append(_Hunk(side, i1, i2, tuple(changed[j1:j2])))
    return hunks


def _touch(a: _Hunk, b: _Hunk) -> bool:
    """Whether two hunks from different sides change the same base text: they share a base
    block, both insert at one place, or one inserts inside the range the other replaces.
    Changes to neighbouring blocks do not touch: they are different paragraphs."""
    if a.start < b.end and b.start < a.end:
        return True
    if a.start == a.end and b.start == b.end:
        return a.start == b.start
    if a.start == a.end:
        return b.start < a.start < b.end
    if b.start == b.end:
        return a.start < b.start < a.end
    return False


def _clusters(ours: list[_Hunk], theirs: list[_Hunk]) -> list[list[_Hunk]]:
    """Hunks grouped so that touching hunks share a group, groups in base order."""
    hunks = ours + theirs
    parent = list(range(len(hunks)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, mine in enumerate(ours):
        for j, other in enumerate(theirs):
            if other.start > mine.end:
                break  # hunks are in base order, so no later one can touch
            if other.end >= mine.start and _touch(mine, other):
                parent[root(i)] = root(len(ours) + j)
    groups: dict[int, list[_Hunk]] = {}
    for i, hunk in enumerate(hunks):
        groups.setdefault(root(i), []).append(hunk)
    return sorted(
        groups.values(),
        key=lambda group: (min(h.start for h in group), max(h.end for h in group)),
    )


def _apply(base: Sequence[str], start: int, end: int, hunks: Iterable[_Hunk]) -> list[str]:
    """Base blocks ``[start, end)`` with one side's hunks applied."""
    result: list[str] = []
    position = start
    for hunk in sorted(hunks, key=lambda h: (h.start, h.end)):
        result.extend(base[position : hunk.start])
        result.extend(hunk.blocks)
        position = hunk.end
    result.extend(base[position:end])
    return result


def _merge_section(
    original: Section, ours: Section, theirs: Section
) -> tuple[Section, Conflict | None]:
    title, titles_clash = _three_way(original.title, ours.title, theirs.title)
    body, _ = _three_way(original.body, ours.body, theirs.body)
    body_clash = False
    if ours.body != theirs.body and original.body not in (ours.body, theirs.body):
        merged_blocks = merge_blocks(blocks(original.body), blocks(ours.body), blocks(theirs.body))
        if merged_blocks is None:
            body, body_clash = ours.body, True
        else:
            body = "".join(merged_blocks)
    section = Section(original.key, title, body)
    if body_clash:
        return section, _conflict(ConflictKind.EDITED_ON_BOTH, original, ours, theirs)
    if titles_clash:
        return section, _conflict(ConflictKind.RENAMED_ON_BOTH, original, ours, theirs)
    return section, None


def _three_way(original: str, ours: str, theirs: str) -> tuple[str, bool]:
    """The value both sides agree on, or the one side's change, or (ours, True) for a clash."""
    if ours == theirs or theirs == original:
        return ours, False
    if ours == original:
        return theirs, False
    return ours, True


def _conflict(
    kind: ConflictKind, original: Section, ours: Section | None, theirs: Section | None
) -> Conflict:
    shown = ours or theirs
    assert shown is not None
    return Conflict(
        key=original.key,
        title=shown.title,
        base_body=original.body,
        head_body=ours.body if ours else None,
        pending_body=theirs.body if theirs else None,
        kind=kind,
        base_title=original.title,
        head_title=ours.title if ours else None,
        pending_title=theirs.title if theirs else None,
    )


def _by_key(version: Version, name: str) -> dict[str, Section]:
    by_key = {section.key: section for section in version}
    if len(by_key) != len(version):
        raise ValueError(f"The {name} version has two sections with the same key")
    return by_key


def _order(base: Version, head: Version, pending: Version) -> list[str]:
    """Pending's order when only pending reordered the sections both had, head's otherwise,
    with every section missing from that order placed after its predecessor on its own side."""
    base_keys = [section.key for section in base]
    head_keys = [section.key for section in head]
    pending_keys = [section.key for section in pending]
    if _reordered(base_keys, pending_keys) and not _reordered(base_keys, head_keys):
        return place_after_predecessors(pending_keys, head_keys)
    return place_after_predecessors(head_keys, pending_keys)


def _reordered(base_keys: list[str], keys: list[str]) -> bool:
    in_base, in_side = set(base_keys), set(keys)
    return [k for k in keys if k in in_base] != [k for k in base_keys if k in in_side]


def place_after_predecessors(order: Sequence[str], other: Sequence[str]) -> list[str]:
    """``order`` with each key found only in ``other`` inserted right after the nearest key
    that precedes it in ``other`` and is already placed (at the start when there is none)."""
    result = list(order)
    placed = set(result)
    previous: str | None = None
    for key in other:
        if key not in placed:
            result.insert(result.index(previous) + 1 if previous is not None else 0, key)
            placed.add(key)
        previous = key
    return result
