"""Section bodies: hostile markup removed, report markup kept, cleaning stable, blocks lossless."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_workspace.documents.richtext import (
    ALLOWED_TAGS,
    MAX_PASTED_CHARS,
    MAX_SECTION_CHARS,
    SectionTooLarge,
    blocks,
    clean_section,
    plain_text,
    sanitise,
    words,
)

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: What a report uses, already in canonical form, so cleaning must leave it exactly as it is.
REPORT_HTML = (
    "<h2>Findings</h2>"
    "<p>Victims waited <strong>longer</strong> than <em>expected</em>, <b>often</b> "
    "<i>much</i> longer: 10<sup>3</sup> cases, CO<sub>2</sub>"
    '<span class="footnote">Source: HMICFRS case file review, 2024.</span>.</p>'
    "<h3>Police</h3><ul><li>One</li><li>Two</li></ul>"
    "<h4>Probation</h4><ol><li>First</li></ol>"
    '<table><thead><tr><th colspan="2">Area</th></tr></thead>'
    '<tbody><tr><td rowspan="2">North</td><td>12</td></tr><tr><td>14</td></tr></tbody></table>'
    "<blockquote><p>A quotation from a victim.</p></blockquote>"
    '<p><a href="https://www.justiceinspectorates.gov.uk/" rel="noopener noreferrer">site</a> '
    '<a href="mailto:enquiries@example.gov.uk" rel="noopener noreferrer">email</a><br>'
    'and <a href="http://example.org/a?b=1&amp;c=2" rel="noopener noreferrer">query</a></p>'
)

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<style>body { display: none }</style>",
    "<img src=x onerror=alert(1)>",
    '<p onclick="alert(1)" onmouseover="alert(2)">text</p>',
    '<a href="javascript:alert(1)">link</a>',
    '<a href=" JaVaScRiPt:alert(1)">link</a>',
    '<a href="jav&#x09;ascript:alert(1)">link</a>',
    '<a href="&#106;avascript:alert(1)">link</a>',
    '<a href="vbscript:msgbox(1)">link</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">link</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    '<p style="background:url(javascript:alert(1))">text</p>',
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x">',
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    '<span class="footnote" id="javascript:alert(1)" onmouseover="alert(1)">note</span>',
    '<a href="https://example.org" target="_blank" rel="opener">link</a>',
    "<template><script>alert(1)</script></template>",
    "<!--<script>alert(1)</script>-->",
]

#: Markup that must never come out of cleaning, whatever went in.
FORBIDDEN = re.compile(
    r"<(script|style|iframe|svg|math|img|object|embed|form|meta|base|template|noscript)\b"
    r"|\son[a-z]+\s*=|\sstyle\s*=|\sid\s*=|\starget\s*=|\ssrcdoc\s*=|\sbackground\s*="
    r"|javascript:|vbscript:|data:",
    re.IGNORECASE,
)
TAG = re.compile(r'<(/?)([a-z][a-z0-9]*)((?:\s+[^\s"\'<>/=]+(?:="[^"]*")?)*)\s*/?>')
ATTRIBUTE = re.compile(r'([^\s=]+)="([^"]*)"')
ALLOWED_ATTRIBUTES = {
    "a": {"href", "rel"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "span": {"class"},
}

TAG_NAMES = sorted(
    ALLOWED_TAGS
    | {"h1", "h5", "h6", "div", "section", "pre", "hr", "caption", "tfoot", "dl", "dt", "dd"}
    | {"script", "style", "svg", "math", "iframe", "img", "noscript", "template", "title"}
    | {"textarea", "form", "select", "option", "u", "code", "col", "colgroup", "font", "ins"}
)
ATTRIBUTES = st.sampled_from(
    [
        "",
        ' class="footnote"',
        ' class="footnote other"',
        ' class="other"',
        ' id="fn-1"',
        ' href="https://example.org/a?b=1&c=2"',
        ' href="javascript:alert(1)"',
        ' href="mailto:someone@example.gov.uk"',
        ' href="/relative"',
        ' href="#fn-1"',
        ' href="https://example.org/<div>"',
        ' colspan="2"',
        ' rowspan=" 3 "',
        ' colspan="-1"',
        ' onclick="alert(1)"',
        ' style="color:red"',
        " title='a>b'",
        ' src="data:text/html,x"',
    ]
)
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10
) | st.sampled_from(
    ["&amp;", "&nbsp;", "&lt;", "<", ">", "&", '"', "\n", "  ", "&#0;", "<!--", "-->", "<!x>"]
)
#: Tag soup: unbalanced, mis-nested and hostile, the way pasted HTML often is.
HTML = st.lists(
    st.one_of(
        st.builds("<{}{}>".format, st.sampled_from(TAG_NAMES), ATTRIBUTES),
        st.sampled_from(TAG_NAMES).map("</{}>".format),
        TEXT,
    ),
    max_size=30,
).map("".join)


def assert_only_report_markup(html: str) -> None:
    assert FORBIDDEN.search(html) is None, html
    for match in TAG.finditer(html):
        name, attributes = match.group(2), dict(ATTRIBUTE.findall(match.group(3)))
        assert name in ALLOWED_TAGS, html
        assert set(attributes) <= ALLOWED_ATTRIBUTES.get(name, set()), html
        if "href" in attributes:
            assert attributes["href"].startswith(("http://", "https://", "mailto:")), html
        if "rel" in attributes:
            assert attributes["rel"] == "noopener noreferrer", html
        if "class" in attributes:
            assert attributes["class"] in ("footnote", ""), html
        for span in ("colspan", "rowspan"):
            if span in attributes:
                assert attributes[span].isdigit(), html


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_markup_is_removed(hostile: str) -> None:
    cleaned = sanitise(hostile)
    assert_only_report_markup(cleaned)
    assert "alert(1)</" not in cleaned


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_markup_is_removed_inside_report_text(hostile: str) -> None:
    # Nothing follows the hostile part: an unclosed <style> or <math> rightly swallows the rest.
    cleaned = clean_section(f"<p>Before</p>{hostile}")
    assert_only_report_markup(cleaned)
    assert cleaned.startswith("<p>Before</p>")


def test_script_and_style_content_is_dropped_not_shown_as_text() -> None:
    assert plain_text("<p>a</p><script>alert(1)</script><style>p{}</style><p>b</p>") == "a\nb"


def test_links_keep_http_https_and_mailto_only_and_always_get_noopener() -> None:
    cleaned = sanitise(
        '<a href="https://a.example">1</a><a href="ftp://b.example">2</a>'
        '<a href="/relative">3</a><a href="mailto:x@example.org" rel="nofollow">4</a>'
    )
    assert cleaned == (
        '<a href="https://a.example" rel="noopener noreferrer">1</a>'
        '<a rel="noopener noreferrer">2</a><a rel="noopener noreferrer">3</a>'
        '<a href="mailto:x@example.org" rel="noopener noreferrer">4</a>'
    )


def test_report_markup_is_kept_exactly() -> None:
    assert sanitise(REPORT_HTML) == REPORT_HTML
    assert clean_section(REPORT_HTML) == REPORT_HTML


def test_footnote_class_is_kept_and_other_classes_are_not() -> None:
    cleaned = sanitise('<span class="footnote big">n</span><p class="footnote">p</p>')
    assert cleaned == '<span class="footnote">n</span><p>p</p>'


def test_table_spans_must_be_small_whole_numbers() -> None:
    cleaned = sanitise(
        '<table><tr><td colspan=" 2 ">a</td><td rowspan="0">b</td>'
        '<td colspan="9999">c</td><th rowspan="2x">d</th></tr></table>'
    )
    assert cleaned == (
        '<table><tbody><tr><td colspan="2">a</td><td>b</td><td>c</td><th>d</th></tr>'
        "</tbody></table>"
    )


def test_pasted_headings_and_containers_become_report_markup_without_gluing_words() -> None:
    cleaned = clean_section("<h1>Title</h1>text<div>one</div><div>two</div>a<hr>b<h6>small</h6>")
    assert cleaned == (
        "<h2>Title</h2><p>text</p><p>one</p><p>two</p><p>a</p><p>b</p><h4>small</h4>"
    )


@PROPERTY
@given(HTML)
def test_sanitise_is_idempotent(html: str) -> None:
    once = sanitise(html)
    assert sanitise(once) == once


@PROPERTY
@given(HTML)
def test_sanitised_output_holds_only_report_markup(html: str) -> None:
    assert_only_report_markup(sanitise(html))


@PROPERTY
@given(HTML)
def test_clean_section_is_stable(html: str) -> None:
    once = clean_section(html)
    assert clean_section(once) == once
    assert "".join(blocks(once)) == once


@PROPERTY
@given(HTML)
def test_blocks_keep_every_word(html: str) -> None:
    joined = "".join(blocks(html))
    assert words(joined) == words(html)
    assert plain_text(joined) == plain_text(html)


@PROPERTY
@given(HTML)
def test_each_block_stands_alone(html: str) -> None:
    for block in blocks(html):
        assert blocks(block) == [block]


def test_text_outside_blocks_is_wrapped_in_paragraphs() -> None:
    assert blocks("  intro <b>bold</b>\n<h2>Heading</h2> tail ") == [
        "<p>intro <b>bold</b></p>",
        "<h2>Heading</h2>",
        "<p>tail</p>",
    ]


def test_stray_list_items_are_gathered_into_one_list() -> None:
    assert blocks("<li>a</li>\n<li>b</li><p>c</p>") == ["<ul><li>a</li><li>b</li></ul>", "<p>c</p>"]


def test_blank_paragraphs_are_dropped() -> None:
    assert blocks("<p></p><p>&nbsp;</p><p><br></p><p>kept</p>") == ["<p>kept</p>"]


def test_plain_text_has_a_line_per_block_and_decodes_entities() -> None:
    html = (
        "<h2>Fish &amp; chips</h2><p>A\n  long   line<br>broken"
        '<span class="footnote">Note</span>.</p><ul><li>one</li><li>two</li></ul>'
        "<table><tr><td>a</td><td>b</td></tr></table><p>&lt;script&gt; 5&nbsp;m</p>"
    )
    expected = "Fish & chips\nA long line broken Note .\none\ntwo\na b\n<script> 5 m"
    assert plain_text(html) == expected


def test_a_section_over_the_limit_is_refused_with_a_way_out() -> None:
    with pytest.raises(SectionTooLarge) as raised:
        clean_section("<p>" + "x" * MAX_SECTION_CHARS + "</p>")
    message = str(raised.value)
    assert f"{MAX_SECTION_CHARS:,}" in message
    assert "Split the section" in message
    assert raised.value.limit == MAX_SECTION_CHARS


def test_the_limit_applies_to_cleaned_html() -> None:
    padding = '<p style="color: red; font-family: Calibri">x</p>' * 5_000
    assert len(padding) > MAX_SECTION_CHARS
    assert clean_section(padding) == "<p>x</p>" * 5_000


def test_huge_pastes_are_refused_before_cleaning() -> None:
    with pytest.raises(SectionTooLarge):
        clean_section("x" * (MAX_PASTED_CHARS + 1))


def test_a_section_just_under_the_limit_is_accepted() -> None:
    body = "<p>" + "x" * (MAX_SECTION_CHARS - len("<p></p>")) + "</p>"
    assert clean_section(body) == body
