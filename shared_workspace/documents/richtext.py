"""Rich text of report sections: which markup a section body may hold, how it is cleaned, split
into blocks for merging and reduced to plain text for search, word counts and diffs.

A body holds only what inspection reports use: headings ``h2``-``h4``, paragraphs, lists,
tables (``colspan``/``rowspan``), links (``http``, ``https`` and ``mailto`` only, always
``rel="noopener noreferrer"``), ``strong``/``em``/``b``/``i``, ``br``, ``sup``/``sub``,
``blockquote`` and footnotes.

A footnote is written inline, where its reference mark belongs, as
``<span class="footnote">Source: HMICFRS data, 2024.</span>``. Exports number the footnotes and
move their text to the foot of the page. Keeping the note inside its paragraph means a merge or a
move can never separate a reference from its text, so no ``id`` attributes or ``#fn-N`` links are
needed and none are allowed: ``class`` is kept only as ``footnote`` on ``span``, and no element
keeps an ``id``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import escape, unescape

import nh3

#: Largest cleaned section body accepted, in characters of HTML (about 25,000 words of prose);
#: long enough for any chapter, short enough to diff and merge within a request.
MAX_SECTION_CHARS = 200_000

#: Raw input larger than this is refused before it is parsed, so pasting a huge document costs
#: little; Word's styling often makes pasted HTML several times larger than its cleaned form.
MAX_PASTED_CHARS = 10 * MAX_SECTION_CHARS

#: The class that marks an inline footnote, the only class a body may use.
FOOTNOTE_CLASS = "footnote"

ALLOWED_TAGS = frozenset(
    {
        "h2",
        "h3",
        "h4",
        "p",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
        "strong",
        "em",
        "b",
        "i",
        "br",
        "sup",
        "sub",
        "blockquote",
        "span",
    }
)

#: Top-level elements that form a block of their own; anything else at the top level is inline
#: text and is wrapped in a paragraph.
BLOCK_TAGS = frozenset({"h2", "h3", "h4", "p", "ul", "ol", "table", "blockquote"})

#: Tags that start a new line of plain text.
_LINE_TAGS = BLOCK_TAGS | {"li", "tr", "thead", "tbody"}
#: Tags that separate words in plain text without starting a new line.
_WORD_BREAK_TAGS = frozenset({"td", "th", "br", "span"})
_VOID_TAGS = frozenset({"br", "hr"})

#: Tags pasted from word processors and web pages that do not belong in a report body but mark a
#: boundary: removing them outright would glue the words either side together ("Title" + "text"
#: becoming "Titletext"), so they are renamed to the nearest allowed tag instead.
_RENAMED_TAGS = {
    "h1": "h2",
    "h5": "h4",
    "h6": "h4",
    "tfoot": "tbody",
    **dict.fromkeys(
        (
            "div",
            "section",
            "article",
            "header",
            "footer",
            "main",
            "aside",
            "nav",
            "figure",
            "figcaption",
            "pre",
            "address",
            "center",
            "dl",
            "dt",
            "dd",
            "caption",
            "details",
            "summary",
            "hgroup",
            "fieldset",
            "legend",
        ),
        "p",
    ),
}

#: Elements removed together with everything inside them: their content is code, styling or
#: embedded documents, never report text.
_DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "svg",
        "math",
        "template",
        "noscript",
        "noembed",
        "noframes",
        "textarea",
        "select",
        "title",
        "xmp",
        "colgroup",
        "head",
    }
)

_TAG_ATTRIBUTES = {"td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}, "a": {"href"}}
_MAX_SPAN = 1000
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("colspan", "rowspan"):
        value = value.strip()
        if value.isascii() and value.isdecimal() and 1 <= int(value) <= _MAX_SPAN:
            return str(int(value))
        return None
    if attribute == "href":
        # nh3 already refuses other schemes and relative URLs; checking the prefix as well keeps
        # the rule true even if a future nh3 widens its defaults.
        return value if value.strip().lower().startswith(_LINK_SCHEMES) else None
    return value


def _cleaner(tags: frozenset[str]) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(tags),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        # "*" is given so that nh3's default generic attributes (lang, title) are not kept.
        attributes={"*": set(), **{tag: set(names) for tag, names in _TAG_ATTRIBUTES.items()}},
        attribute_filter=_filter_attribute,
        strip_comments=True,
        link_rel="noopener noreferrer",
        url_schemes={"http", "https", "mailto"},
        url_relative="deny",
        allowed_classes={"span": {FOOTNOTE_CLASS}},
    )


#: First pass: keeps the renamable tags (without attributes) so that their boundaries survive.
_WIDE_CLEANER = _cleaner(ALLOWED_TAGS | frozenset(_RENAMED_TAGS) | {"hr"})
_CLEANER = _cleaner(ALLOWED_TAGS)

#: One tag in HTML serialised by nh3 (html5ever): lower-case name, attribute values always in
#: double quotes with ``"`` escaped, so a ``>`` inside a value cannot end the match early.
_TAG = re.compile(r'<(/?)([a-z][a-z0-9]*)((?:\s+[^\s"\'<>/=]+(?:="[^"]*")?)*)\s*/?>')
_RENAMABLE = re.compile(
    r"<(/?)(" + "|".join(sorted(_RENAMED_TAGS, key=len, reverse=True)) + r"|hr)>"
)
_HTML_SPACE = " \t\n\r\f"
_MAX_PASSES = 3
_SPACES = re.compile(r"\s+")


class SectionTooLarge(ValueError):
    """A section body is over :data:`MAX_SECTION_CHARS` once cleaned."""

    def __init__(self, size: int, limit: int = MAX_SECTION_CHARS) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"This section is {size:,} characters of HTML and the limit is {limit:,}. "
            "Split the section into two or more smaller sections, then save each one."
        )


def sanitise(html: str) -> str:
    """Safe HTML holding only the report markup described in this module, with every word of
    visible text kept; idempotent: ``sanitise(sanitise(x)) == sanitise(x)``."""
    wide = _WIDE_CLEANER.clean(html)
    renamed = _renamed(wide)
    # With nothing renamed, the wide pass already holds only allowed tags.
    cleaned = wide if renamed is wide else _CLEANER.clean(renamed)
    # One pass is not always a fixed point: for mis-nested input such as "<a><table><a>" the
    # parser builds nested links, which serialise to HTML that parses differently. A second
    # pass settles almost everything; text is the last resort, as it always parses the same.
    for _ in range(_MAX_PASSES):
        again = _CLEANER.clean(cleaned)
        if again == cleaned:
            return cleaned
        cleaned = again
    return _CLEANER.clean(escape(plain_text_of_clean(cleaned), quote=False))


def _renamed(wide: str) -> str:
    """Sanitised HTML with each renamable tag replaced by its report equivalent (the very same
    string when there is none)."""
    if _RENAMABLE.search(wide) is None:
        return wide
    parts: list[str] = []
    position = 0
    for match in _tags(wide):
        # Rename through the tokenizer, not a plain substitution: a "<div>" may sit inside an
        # attribute value, which the serialiser does not escape.
        name = match.group(2)
        if name == "hr":
            # An empty paragraph splits the text around the rule into blocks; blocks() drops it.
            replacement = "<p></p>"
        elif name in _RENAMED_TAGS:
            replacement = f"<{match.group(1)}{_RENAMED_TAGS[name]}>"
        else:
            continue
        parts.append(wide[position : match.start()])
        parts.append(replacement)
        position = match.end()
    parts.append(wide[position:])
    return "".join(parts)


def clean_section(html: str) -> str:
    """The canonical stored form of a section body: sanitised, split into blocks and joined, and
    no longer than :data:`MAX_SECTION_CHARS`; raises :class:`SectionTooLarge` otherwise."""
    if len(html) > MAX_PASTED_CHARS:
        raise SectionTooLarge(len(html))
    cleaned = "".join(blocks(html))
    if len(cleaned) > MAX_SECTION_CHARS:
        raise SectionTooLarge(len(cleaned))
    return cleaned


def blocks(html: str) -> list[str]:
    """The top-level blocks of the sanitised ``html`` (paragraphs, headings, lists, tables,
    block quotes), each a string of safe HTML, in order, losing no text: inline text between
    blocks is wrapped in ``<p>``, stray list items in ``<ul>``, and blank paragraphs dropped."""
    clean = sanitise(html)
    result: list[str] = []
    run_start: int | None = None
    run_end = 0
    run_holds_blocks = False
    items: list[str] = []

    def flush_run() -> None:
        nonlocal run_start, run_holds_blocks
        if run_start is not None:
            run = clean[run_start:run_end].strip(_HTML_SPACE)
            if not _is_blank(run):
                # Pasted HTML can put a block inside an inline element (<a>..<p>..</p></a>). A
                # <p> around it would not survive cleaning, and splitting it from the text
                # beside it would change the words ("0<a>0" reads "00"), so it stays as it is.
                result.append(run if run_holds_blocks else f"<p>{run}</p>")
            run_start, run_holds_blocks = None, False

    def flush_items() -> None:
        if items:
            result.append("<ul>" + "".join(items) + "</ul>")
            items.clear()

    for start, end, tag, holds_blocks in _top_level(clean):
        fragment = clean[start:end]
        if tag == "li":
            flush_run()
            items.append(fragment)
        elif tag in BLOCK_TAGS:
            flush_run()
            flush_items()
            if not (tag == "p" and _is_blank(fragment)):
                result.append(fragment)
        elif tag is None and items and run_start is None and not fragment.strip(_HTML_SPACE):
            continue  # whitespace between stray list items keeps them in one list
        else:
            flush_items()
            if run_start is None:
                run_start = start
            run_end = end
            run_holds_blocks = run_holds_blocks or holds_blocks
    flush_run()
    flush_items()
    return result


def plain_text(html: str) -> str:
    """The visible text of ``html`` with entities decoded: one line per paragraph, heading, list
    item or table row, words separated by single spaces, footnotes and cells set apart by a
    space."""
    return plain_text_of_clean(sanitise(html))


def plain_text_of_clean(clean: str) -> str:
    """:func:`plain_text` of HTML that :func:`sanitise` produced, without sanitising it again."""
    parts: list[str] = []
    position = 0
    for match in _tags(clean):
        parts.append(_SPACES.sub(" ", unescape(clean[position : match.start()])))
        name = match.group(2)
        if name in _LINE_TAGS:
            parts.append("\n")
        elif name in _WORD_BREAK_TAGS:
            parts.append(" ")
        position = match.end()
    parts.append(_SPACES.sub(" ", unescape(clean[position:])))
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def words(html: str) -> list[str]:
    """The words of ``plain_text(html)``, in order."""
    return plain_text(html).split()


def _tags(clean: str) -> Iterator[re.Match[str]]:
    """Every tag in sanitised HTML, in order; a ``<`` that does not start a tag is text."""
    position = clean.find("<")
    while position != -1:
        match = _TAG.match(clean, position)
        if match is None:
            position = clean.find("<", position + 1)
            continue
        yield match
        position = clean.find("<", match.end())


def _top_level(clean: str) -> Iterator[tuple[int, int, str | None, bool]]:
    """Each top-level node of sanitised HTML as (start, end, tag or None for text, whether it
    contains a block-level element)."""
    depth = 0
    node_start = 0
    node_tag = ""
    holds_blocks = False
    position = 0
    for match in _tags(clean):
        closing, name = match.group(1), match.group(2)
        if depth == 0:
            if match.start() > position:
                yield position, match.start(), None, False
            if closing:
                # A stray end tag cannot come out of the serialiser; kept as text to lose nothing.
                yield match.start(), match.end(), None, False
            elif name in _VOID_TAGS:
                yield match.start(), match.end(), name, False
            else:
                depth, node_start, node_tag, holds_blocks = 1, match.start(), name, False
        elif closing:
            depth -= 1
            if depth == 0:
                yield node_start, match.end(), node_tag, holds_blocks
        elif name not in _VOID_TAGS:
            depth += 1
            holds_blocks = holds_blocks or name in _LINE_TAGS or name in ("td", "th")
        position = match.end()
    if depth:
        yield node_start, len(clean), node_tag, holds_blocks
    elif position < len(clean):
        yield position, len(clean), None, False


def _is_blank(fragment: str) -> bool:
    text = unescape(_TAG.sub("", fragment))
    return not text.strip()
