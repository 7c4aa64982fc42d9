"""A section body as the live editor holds it: a Yjs XML fragment in ProseMirror's shape (the
schema in ``frontend/live-editor/schema.js``), converted from and to the stored HTML.

The mapping is one-to-one for what live mode edits: paragraphs, headings 2-4, bulleted and
numbered lists, block quotes, tables (prosemirror-tables' shape: rows, header and data cells
with colspan and rowspan, each cell holding blocks; a row remembers whether it was in the
table's ``<thead>``), line breaks, bold, italic, links, superscript, subscript and footnotes.
A cell or list item holding one paragraph is written as that paragraph's text, as the form
writes it. HTML produced here always goes through ``richtext.clean_section`` before it
is stored, so a hostile editor can put nothing in a version that the form could not.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from shared_workspace.documents import richtext

#: The root the editor binds to (y-prosemirror's default name).
FRAGMENT = "prosemirror"
#: Marks in ProseMirror's schema order: outer first when they nest.
MARKS = ("footnote", "link", "strong", "em", "sub", "sup")
_MARK_TAGS = {"strong": "strong", "b": "strong", "em": "em", "i": "em", "sub": "sub", "sup": "sup"}
_HEADINGS = {"h2": 2, "h3": 3, "h4": 4}
_BLOCKS = {"p", "h2", "h3", "h4", "ul", "ol", "blockquote", "table", "li"}
_SPACES = re.compile(r"[ \t\n\r\f]+")


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    _VOID = frozenset({"br"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self._VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


class _Into:
    """Where new children go: appended to a container, or inserted from an index onwards."""

    def __init__(self, parent: XmlFragment | XmlElement, index: int | None = None) -> None:
        self.parent = parent
        self.index = index

    def add(self, element: Any) -> Any:
        if self.index is None:
            return self.parent.children.append(element)
        added = self.parent.children.insert(self.index, element)
        self.index += 1
        return added


def _parse(html: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --- HTML to the editor's shape ------------------------------------------------------------


def fill(fragment: XmlFragment | XmlElement, html: str) -> None:
    """Append the blocks of cleaned ``html`` to ``fragment``."""
    _append_blocks(_Into(fragment), _parse(html).children, at_least_one=True)


def seed_update(html: str) -> bytes:
    """A Yjs update that turns an empty document into this body."""
    doc = Doc()
    fill(doc.get(FRAGMENT, type=XmlFragment), html)
    return doc.get_update()


def _is_block(node: _Node | str) -> bool:
    return isinstance(node, _Node) and node.tag in _BLOCKS


def _blank(nodes: list[_Node | str]) -> bool:
    return all(isinstance(n, str) and not n.strip() for n in nodes)


def _append_blocks(into: _Into, nodes: Iterable[_Node | str], *, at_least_one: bool) -> int:
    count = 0
    run: list[_Node | str] = []

    def flush() -> None:
        nonlocal count
        if run and not _blank(run):
            _append_textblock(into, "paragraph", {}, run)
            count += 1
        run.clear()

    for node in nodes:
        if not _is_block(node):
            run.append(node)
            continue
        flush()
        assert isinstance(node, _Node)
        if node.tag == "p":
            _append_textblock(into, "paragraph", {}, node.children)
        elif node.tag in _HEADINGS:
            _append_textblock(into, "heading", {"level": _HEADINGS[node.tag]}, node.children)
        elif node.tag in ("ul", "ol"):
            _append_list(into, node)
        elif node.tag == "li":
            _append_list(into, _Node("ul", children=[node]))
        elif node.tag == "blockquote":
            quote = into.add(XmlElement("blockquote"))
            _append_blocks(_Into(quote), node.children, at_least_one=True)
        else:
            _append_table(into, node)
        count += 1
    flush()
    if at_least_one and count == 0:
        _append_textblock(into, "paragraph", {}, [])
        count = 1
    return count


def _rows(node: _Node, head: bool = False) -> Iterator[tuple[_Node, bool]]:
    for child in node.children:
        if not isinstance(child, _Node):
            continue
        if child.tag == "tr":
            yield child, head
        elif child.tag in ("thead", "tbody"):
            yield from _rows(child, child.tag == "thead")


def _span(value: str) -> int:
    return int(value) if value.isdecimal() and 1 < int(value) <= 1000 else 1


def _append_table(into: _Into, node: _Node) -> None:
    table = into.add(XmlElement("table"))
    rows = list(_rows(node))
    if not rows:
        rows = [(_Node("tr"), False)]
    for tr, head in rows:
        row = table.children.append(XmlElement("table_row", {"head": True} if head else None))
        cells = [c for c in tr.children if isinstance(c, _Node) and c.tag in ("td", "th")]
        for cell in cells or [_Node("td")]:
            attrs = {
                name: _span(cell.attrs.get(name, ""))
                for name in ("colspan", "rowspan")
                if _span(cell.attrs.get(name, "")) > 1
            }
            name = "table_header" if cell.tag == "th" else "table_cell"
            element = row.children.append(XmlElement(name, attrs or None))
            _append_blocks(_Into(element), cell.children, at_least_one=True)


def _append_list(into: _Into, node: _Node) -> None:
    name = "ordered_list" if node.tag == "ol" else "bullet_list"
    items: list[_Node] = []
    for child in node.children:
        if isinstance(child, _Node) and child.tag == "li":
            items.append(child)
        elif not _blank([child]):
            items.append(_Node("li", children=[child]))
    if not items:
        items.append(_Node("li"))
    element = into.add(XmlElement(name))
    for item in items:
        li = _Into(element.children.append(XmlElement("list_item")))
        # A list item starts with a paragraph (the schema's "paragraph block*").
        children = list(item.children)
        first = next((c for c in children if not _blank([c])), None)
        if first is None or (_is_block(first) and first.tag != "p"):  # type: ignore[union-attr]
            _append_textblock(li, "paragraph", {}, [])
        _append_blocks(li, children, at_least_one=False)


def _append_textblock(
    into: _Into, name: str, attrs: dict[str, Any], nodes: Iterable[_Node | str]
) -> None:
    element = into.add(XmlElement(name, attrs))
    runs = list(_inline(nodes, ()))
    text: XmlText | None = None
    length = 0
    for piece, marks in runs:
        if piece is None:
            element.children.append(XmlElement("hard_break"))
            text, length = None, 0
            continue
        if text is None:
            text = element.children.append(XmlText())
        text.insert(length, piece, {name: value for name, value in marks} or None)
        length += len(piece)


def _inline(
    nodes: Iterable[_Node | str], marks: tuple[tuple[str, Any], ...]
) -> Iterator[tuple[str | None, tuple[tuple[str, Any], ...]]]:
    """(text, marks) runs of inline content; ``None`` text is a line break."""
    for node in nodes:
        if isinstance(node, str):
            text = _SPACES.sub(" ", node)
            if text:
                yield text, marks
            continue
        if node.tag == "br":
            yield None, marks
            continue
        added = marks
        if node.tag in _MARK_TAGS:
            added = _with(marks, _MARK_TAGS[node.tag], {})
        elif node.tag == "a" and node.attrs.get("href"):
            added = _with(marks, "link", {"href": node.attrs["href"]})
        elif node.tag == "span" and richtext.FOOTNOTE_CLASS in node.attrs.get("class", "").split():
            added = _with(marks, "footnote", {})
        yield from _inline(node.children, added)


def _with(marks: tuple[tuple[str, Any], ...], name: str, value: Any) -> tuple[tuple[str, Any], ...]:
    kept = {n: v for n, v in marks if n != name}
    kept[name] = value
    return tuple((n, kept[n]) for n in MARKS if n in kept)


# --- the editor's shape to HTML ------------------------------------------------------------


def to_html(fragment: XmlFragment | XmlElement) -> str:
    """The HTML of a live fragment (not yet cleaned: pass it through clean_section)."""
    return "".join(_element_html(child) for child in fragment.children)


def doc_html(doc: Doc) -> str:
    return to_html(doc.get(FRAGMENT, type=XmlFragment))


def body_of(doc: Doc) -> str:
    """The cleaned section body the live document holds (raises SectionTooLarge)."""
    return richtext.clean_section(doc_html(doc))


def _element_html(node: Any) -> str:
    if isinstance(node, XmlText):
        return _inline_html([(chunk, attrs) for chunk, attrs in node.diff()])
    tag = str(node.tag)
    children = list(node.children)
    if tag in ("paragraph", "heading"):
        name = "p"
        if tag == "heading":
            level = _level(node.attributes.get("level"))
            name = f"h{level}"
        return f"<{name}>{_inline_children(children)}</{name}>"
    if tag in ("bullet_list", "ordered_list"):
        name = "ol" if tag == "ordered_list" else "ul"
        return f"<{name}>" + "".join(_element_html(c) for c in children) + f"</{name}>"
    if tag == "list_item":
        return "<li>" + _one_paragraph_bare(children) + "</li>"
    if tag == "blockquote":
        return "<blockquote>" + "".join(_element_html(c) for c in children) + "</blockquote>"
    if tag == "table":
        return _table_html(children)
    if tag in ("table_cell", "table_header"):
        name = "th" if tag == "table_header" else "td"
        spans = "".join(
            f' {attr}="{_cell_span(node, attr)}"'
            for attr in ("colspan", "rowspan")
            if _cell_span(node, attr) > 1
        )
        return f"<{name}{spans}>{_one_paragraph_bare(children)}</{name}>"
    if tag == "hard_break":
        return "<br>"
    # Unknown elements from a hostile editor: keep the words, drop the element.
    return "".join(_element_html(c) for c in children)


def _cell_span(node: XmlElement, attr: str) -> int:
    """A cell's colspan or rowspan as the editor set it (a number, maybe sent as 2.0 or "2")."""
    value = node.attributes.get(attr)
    if isinstance(value, bool) or value is None:
        return 1
    return _span(str(value).split(".")[0])


def _one_paragraph_bare(children: list[Any]) -> str:
    """The HTML of a list item's or cell's blocks; one paragraph there is the item's own text,
    as the form writes it."""
    parts = [_element_html(c) for c in children]
    if children and isinstance(children[0], XmlElement) and children[0].tag == "paragraph":
        paragraphs = sum(1 for c in children if getattr(c, "tag", "") == "paragraph")
        if paragraphs == 1:
            parts[0] = parts[0][len("<p>") : -len("</p>")]
    return "".join(parts)


def _table_html(rows: list[Any]) -> str:
    """Rows grouped into <thead> and <tbody> as they were marked, in order."""
    out, group = ["<table>"], ""
    for row in rows:
        if not isinstance(row, XmlElement) or str(row.tag) != "table_row":
            continue
        wanted = "thead" if row.attributes.get("head") in (True, "true") else "tbody"
        if wanted != group:
            if group:
                out.append(f"</{group}>")
            out.append(f"<{wanted}>")
            group = wanted
        out.append("<tr>" + "".join(_element_html(c) for c in row.children) + "</tr>")
    if group:
        out.append(f"</{group}>")
    out.append("</table>")
    return "".join(out)


def _level(value: Any) -> int:
    try:
        level = int(float(value))
    except (TypeError, ValueError):
        return 2
    return min(max(level, 2), 4)


def _inline_children(children: list[Any]) -> str:
    runs: list[tuple[str | None, dict[str, Any] | None]] = []
    for child in children:
        if isinstance(child, XmlText):
            runs.extend(child.diff())
        elif str(child.tag) == "hard_break":
            runs.append((None, None))
        else:
            runs.append((richtext.plain_text(_element_html(child)), None))
    return _inline_html(runs)


def _inline_html(runs: list[tuple[str | None, dict[str, Any] | None]]) -> str:
    """Runs of text with their marks as nested tags, each mark opened once per stretch."""
    out: list[str] = []
    open_marks: list[tuple[str, str]] = []  # (mark name, opening tag)
    for text, attrs in runs:
        if text is None:
            out.append("<br>")  # a break keeps the marks around it open
            continue
        wanted = [
            (name, _open_tag(name, (attrs or {})[name])) for name in MARKS if name in (attrs or {})
        ]
        keep = 0
        while keep < min(len(open_marks), len(wanted)) and open_marks[keep] == wanted[keep]:
            keep += 1
        for name, _tag in reversed(open_marks[keep:]):
            out.append(_close_tag(name))
        for mark in wanted[keep:]:
            out.append(mark[1])
        open_marks = wanted
        out.append(escape(text, quote=False))
    for name, _tag in reversed(open_marks):
        out.append(_close_tag(name))
    return "".join(out)


def _open_tag(name: str, value: Any) -> str:
    if name == "link":
        href = value.get("href", "") if isinstance(value, dict) else ""
        return f'<a href="{escape(str(href), quote=True)}">'
    if name == "footnote":
        return f'<span class="{richtext.FOOTNOTE_CLASS}">'
    return f"<{name}>"


def _close_tag(name: str) -> str:
    return {"link": "</a>", "footnote": "</span>"}.get(name, f"</{name}>")


# --- bringing a live document up to a stored body --------------------------------------------


def _canonical(html: str) -> str:
    return "".join(richtext.blocks(html))


def apply_body(doc: Doc, body: str) -> bool:
    """Change the live document so it holds ``body`` (a version saved by other means: the form,
    an accepted suggestion, a restore), replacing only the top-level blocks that differ so
    that people typing elsewhere in the section are not disturbed. Returns whether it changed."""
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    children = list(fragment.children)
    mine = [(i, _canonical(_element_html(c))) for i, c in enumerate(children)]
    mine = [(i, html) for i, html in mine if html]
    target_doc = Doc()
    target_fragment = target_doc.get(FRAGMENT, type=XmlFragment)
    fill(target_fragment, body)
    theirs = [_canonical(_element_html(c)) for c in target_fragment.children]
    theirs = [html for html in theirs if html]
    if [html for _i, html in mine] == theirs:
        return False
    matcher = difflib.SequenceMatcher(a=[h for _i, h in mine], b=theirs, autojunk=False)
    with doc.transaction():
        # From the end backwards, so earlier indexes stay valid.
        for op, a0, a1, b0, b1 in reversed(matcher.get_opcodes()):
            if op == "equal":
                continue
            if a0 < a1:
                start, stop = mine[a0][0], mine[a1 - 1][0] + 1
            else:
                start = stop = mine[a0][0] if a0 < len(mine) else len(children)
            for index in range(stop - 1, start - 1, -1):
                del fragment.children[index]
            block_html = "".join(theirs[b0:b1])
            if block_html:
                into = _Into(fragment, start)
                _append_blocks(into, _parse(block_html).children, at_least_one=False)
    return True


def plain(doc: Doc) -> str:
    return richtext.plain_text(doc_html(doc))
