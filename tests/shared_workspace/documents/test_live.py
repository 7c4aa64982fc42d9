"""Live co-editing without a socket: the editor's shape of a section body, the wire protocol's
checks, and the service rules (who may write, storing updates, compaction into versions)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from pycrdt import Doc, XmlFragment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_workspace.documents import live_content, live_service, richtext, service
from shared_workspace.documents import live_protocol as wire
from shared_workspace.documents.live_models import LiveUpdate
from shared_workspace.documents.models import Document
from shared_workspace.models import Workspace
from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone

BODIES = [
    "<p>Plain words.</p>",
    '<p>Hello <strong>bold <em>both</em></strong> and <a href="https://example.org/a?b=1&amp;c=2">'
    "a link</a>.</p><h2>Findings</h2><h3>Detail</h3><h4>Small</h4>",
    "<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul><ol><li>first</li></ol>",
    '<blockquote><p>quoted</p></blockquote><p>a<br>b <span class="footnote">Source: HMICFRS'
    " data, 2024.</span> 1 &lt; 2</p>",
    "<p>x<sup>2</sup> H<sub>2</sub>O</p>",
    '<table><thead><tr><th colspan="2">Area</th></tr></thead><tbody><tr><td rowspan="2">'
    "<p>one</p><p>two</p></td><td>Good <strong>work</strong></td></tr><tr><td><ul><li>a</li>"
    "</ul></td></tr></tbody></table><p>After the table.</p>",
    "<table><tr><td>1</td><td></td></tr></table>",
    "",
    "just text, no markup",
]


@pytest.mark.parametrize("body", BODIES)
def test_a_stored_body_survives_the_live_editor_unchanged(body: str) -> None:
    clean = richtext.clean_section(body)
    doc = Doc()
    doc.apply_update(live_content.seed_update(clean))
    assert live_content.body_of(doc) == clean


def test_tables_are_edited_live_cell_by_cell() -> None:
    """A table typed into live: the header row stays in <thead>, spans are kept, and a cell
    holding one paragraph is written as the form writes it."""
    from pycrdt import XmlElement

    body = richtext.clean_section(
        "<table><thead><tr><th>Area</th><th>Rating</th></tr></thead>"
        "<tbody><tr><td>Leadership</td><td>Good</td></tr></tbody></table>"
    )
    doc = Doc()
    doc.apply_update(live_content.seed_update(body))
    table = doc.get(live_content.FRAGMENT, type=XmlFragment).children[0]
    assert str(table.tag) == "table"
    head, row = list(table.children)
    assert head.attributes.get("head") is True and str(head.children[0].tag) == "table_header"
    rating = row.children[1].children[0].children[0]  # cell > paragraph > text
    rating.insert(len(rating), " overall")
    # The editor adds a row with a merged cell (prosemirror-tables' shape, numbers as sent).
    added = table.children.append(XmlElement("table_row", {"head": False}))
    cell = added.children.append(XmlElement("table_cell", {"colspan": 2.0, "rowspan": 1}))
    cell.children.append(XmlElement("paragraph"))
    assert live_content.body_of(doc) == (
        "<table><thead><tr><th>Area</th><th>Rating</th></tr></thead><tbody><tr><td>Leadership"
        '</td><td>Good overall</td></tr><tr><td colspan="2"></td></tr></tbody></table>'
    )


def test_hostile_table_attributes_are_not_stored() -> None:
    from pycrdt import XmlElement, XmlText

    doc = Doc()
    table = doc.get(live_content.FRAGMENT, type=XmlFragment).children.append(XmlElement("table"))
    row = table.children.append(XmlElement("table_row", {"head": "<script>"}))
    cell = row.children.append(
        XmlElement("table_cell", {"colspan": "2 onclick=alert(1)", "rowspan": 10**9})
    )
    cell.children.append(XmlElement("paragraph")).children.append(XmlText("x"))
    body = live_content.body_of(doc)
    assert body == "<table><tbody><tr><td>x</td></tr></tbody></table>"


def test_a_hostile_editor_cannot_store_markup_the_form_could_not() -> None:
    doc = Doc()
    fragment = doc.get(live_content.FRAGMENT, type=XmlFragment)
    from pycrdt import XmlElement, XmlText

    script = fragment.children.append(XmlElement("script"))
    script.children.append(XmlText("alert(1)"))
    paragraph = fragment.children.append(XmlElement("paragraph"))
    text = paragraph.children.append(XmlText())
    text.insert(0, "click", {"link": {"href": "javascript:alert(1)"}})
    body = live_content.body_of(doc)
    assert "<script" not in body
    assert "javascript:" not in body
    assert "alert(1)" in body  # the words are kept, as text


def test_a_version_saved_by_other_means_replaces_only_the_blocks_it_changed() -> None:
    doc = Doc()
    doc.apply_update(live_content.seed_update("<p>one</p><p>two</p><p>three</p>"))
    first = doc.get(live_content.FRAGMENT, type=XmlFragment).children[0]
    assert live_content.apply_body(doc, "<p>one</p><p>TWO</p><p>three</p><p>four</p>")
    assert live_content.body_of(doc) == "<p>one</p><p>TWO</p><p>three</p><p>four</p>"
    # The untouched paragraph is the same CRDT element: someone typing in it loses nothing.
    assert doc.get(live_content.FRAGMENT, type=XmlFragment).children[0] == first
    assert not live_content.apply_body(doc, "<p>one</p><p>TWO</p><p>three</p><p>four</p>")


@pytest.mark.parametrize(
    "frame",
    [
        "text",
        b"",
        b"\x00",
        b"\x00\x00",
        b"\x00\x00\x05ab",
        b"\x00\x09\x00",
        b"\x05",
        b"\x03\x00",
        b"\x00" + b"\xff" * 9,
    ],
)
def test_frames_that_do_not_parse_exactly_are_refused(frame: bytes | str) -> None:
    with pytest.raises(wire.Refused) as refused:
        wire.parse(frame)
    assert refused.value.code == wire.CLOSE_MALFORMED


def test_an_oversized_frame_is_refused_before_it_is_read() -> None:
    with pytest.raises(wire.Refused) as refused:
        wire.parse(b"\x00\x02" + b"\x00" * (wire.MAX_FRAME + 1))
    assert refused.value.code == wire.CLOSE_TOO_LARGE


def test_awareness_round_trips_and_refuses_non_objects() -> None:
    entries = [wire.AwarenessEntry(2**52 + 7, 3, {"cursor": None}), wire.AwarenessEntry(5, 1, None)]
    assert wire.parse_awareness(wire.encode_awareness(entries)) == entries
    with pytest.raises(wire.Refused):
        wire.parse_awareness(b"\x01\x01\x01\x02[]")


# --- service rules ------------------------------------------------------------------------


@pytest.fixture
def pair(client: FlaskClient, session: Session) -> tuple[Inspectorate, Inspectorate, int]:
    lead = inspectorate(session, client, "hmiprobation")
    other = inspectorate(session, client, "hmiprisons")
    ws = lead.call(
        "POST", "/api/v1/workspaces", {"title": "Resettlement", "participants": ["hmiprisons"]}
    ).get_json()["id"]
    name_everyone(ws, lead, other)
    answer = lead.call(
        "POST",
        f"/api/v1/workspaces/{ws}/documents",
        {
            "kind": "report",
            "title": "Joint report",
            "sections": [
                {"key": "summary", "title": "Summary", "body": "<p>One.</p><p>Two.</p>"},
                {"key": "owned", "title": "Owned", "body": "<p>Theirs.</p>"},
            ],
        },
    ).get_json()
    path = f"/api/v1/workspaces/{ws}/documents/{answer['id']}/sections/owned/owner"
    assert lead.call("PUT", path, {"tenant": "hmiprisons"}).status_code == 200
    return lead, other, int(answer["id"])


def _identity(session: Session, party: Inspectorate) -> live_service.Identity:
    live_service.act_as(session, party.user.id, party.tenant.id)
    return live_service.identity_of(party.user)


def _typed(session: Session, section_id: int, text: str) -> bytes:
    doc = Doc()
    for payload in live_service.updates(session, section_id):
        doc.apply_update(payload)
    before = doc.get_state()
    paragraph = doc.get(live_content.FRAGMENT, type=XmlFragment).children[0]
    paragraph.children[0].insert(len(paragraph.children[0]), text)
    return doc.get_update(before)


def test_only_the_drafting_inspectorate_stores_updates_and_compaction_names_the_writers(
    session: Session, pair: tuple[Inspectorate, Inspectorate, int]
) -> None:
    lead, other, document_id = pair
    who = _identity(session, lead)
    document = session.get(Document, document_id)
    assert document is not None
    owned = live_service.open_section(session, document, "owned")
    target = live_service.Target(document.workspace_id, document_id, "owned")
    update = _typed(session, owned.id, " Not mine.")
    assert live_service.store_update(session, who, target, owned.id, update) is (
        live_service.Access.READ
    )
    stored = session.scalar(
        select(func.count()).where(
            LiveUpdate.live_section_id == owned.id, LiveUpdate.compacted.is_(False)
        )
    )
    assert stored == 0

    summary = live_service.open_section(session, document, "summary")
    target = live_service.Target(document.workspace_id, document_id, "summary")
    for party, text in ((lead, " From probation."), (other, " From prisons.")):
        me = _identity(session, party)
        update = _typed(session, summary.id, text)
        assert live_service.store_update(session, me, target, summary.id, update) is (
            live_service.Access.EDIT
        )
    result = live_service.compact(session, summary.id)
    assert result.version_number == 2
    head = service.head(session, document)
    assert head.sections[0]["body"] == "<p>One. From probation. From prisons.</p><p>Two.</p>"
    assert "hmiprobation lead person (HMIPROBATION)" in head.note
    assert "hmiprisons lead person (HMIPRISONS)" in head.note
    # Idempotent: nothing new, no new version.
    assert live_service.compact(session, summary.id).version_number is None


def test_compaction_merges_with_a_save_made_meanwhile_and_brings_the_room_up_to_it(
    session: Session, pair: tuple[Inspectorate, Inspectorate, int]
) -> None:
    lead, _other, document_id = pair
    who = _identity(session, lead)
    document = session.get(Document, document_id)
    assert document is not None
    summary = live_service.open_section(session, document, "summary")
    target = live_service.Target(document.workspace_id, document_id, "summary")
    update = _typed(session, summary.id, " Live words.")
    live_service.store_update(session, who, target, summary.id, update)
    # Someone saves the second paragraph through the form meanwhile.
    workspace = session.get(Workspace, document.workspace_id)
    head = service.head(session, document)
    sections = [dict(s) for s in head.sections]
    sections[0]["body"] = "<p>One.</p><p>Two, edited on the form.</p>"
    service.save(session, workspace, document, lead.user, base_number=1, sections=sections)

    result = live_service.compact(session, summary.id)
    assert result.version_number == 3
    body = service.head(session, document).sections[0]["body"]
    assert body == "<p>One. Live words.</p><p>Two, edited on the form.</p>"
    assert result.server_update is not None
    doc = Doc()
    for payload in live_service.updates(session, summary.id):
        doc.apply_update(payload)
    assert live_content.body_of(doc) == body


def test_an_overlapping_form_save_is_not_overwritten_by_the_live_text(
    session: Session, pair: tuple[Inspectorate, Inspectorate, int]
) -> None:
    """#5's rule holds between the two paths: the live text becomes the version (everyone in
    the room is typing into it) and the form writer gets their text back as a pending save
    with both texts side by side."""
    lead, other, document_id = pair
    who = _identity(session, lead)
    document = session.get(Document, document_id)
    assert document is not None
    summary = live_service.open_section(session, document, "summary")
    target = live_service.Target(document.workspace_id, document_id, "summary")
    live_service.store_update(
        session, who, target, summary.id, _typed(session, summary.id, " Live.")
    )
    workspace = session.get(Workspace, document.workspace_id)
    sections = [dict(s) for s in service.head(session, document).sections]
    sections[0]["body"] = "<p>One, rewritten on the form.</p><p>Two.</p>"
    _identity(session, other)
    form = service.save(session, workspace, document, other.user, base_number=1, sections=sections)
    assert form.version is not None and form.version.number == 2

    result = live_service.compact(session, summary.id)
    assert result.version_number == 3
    head = service.head(session, document)
    assert head.sections[0]["body"] == "<p>One. Live.</p><p>Two.</p>"
    assert "overlapped and was returned to its writer" in head.note
    _identity(session, other)
    (pending,) = service.open_pending(session, document, other.user)
    assert pending.head_number == 3
    assert pending.sections[0]["body"] == "<p>One, rewritten on the form.</p><p>Two.</p>"
    (conflict,) = pending.conflicts
    assert conflict["key"] == "summary"
    assert "Live." in conflict["head_body"]
    assert "rewritten on the form" in conflict["pending_body"]
    # The writer resolves it like any conflict: their choice becomes the next version.
    saved = service.resolve_pending(
        session, workspace, pending, other.user, {"summary": conflict["pending_body"]}
    )
    assert saved.version is not None
    assert "rewritten on the form" in service.head(session, document).sections[0]["body"]


def test_the_overlapping_writer_gets_their_text_back_not_whoever_saved_last(
    session: Session, pair: tuple[Inspectorate, Inspectorate, int]
) -> None:
    lead, other, document_id = pair
    who = _identity(session, other)
    document = session.get(Document, document_id)
    assert document is not None
    summary = live_service.open_section(session, document, "summary")
    target = live_service.Target(document.workspace_id, document_id, "summary")
    update = _typed(session, summary.id, " Live.")
    live_service.store_update(session, who, target, summary.id, update)
    workspace = session.get(Workspace, document.workspace_id)
    # HMI Probation rewrites the summary on the form (version 2) ...
    _identity(session, lead)
    sections = [dict(s) for s in service.head(session, document).sections]
    sections[0]["body"] = "<p>One, by Probation.</p><p>Two.</p>"
    service.save(session, workspace, document, lead.user, base_number=1, sections=sections)
    # ... then HMI Prisons saves only the section it owns (version 3).
    _identity(session, other)
    sections = [dict(s) for s in service.head(session, document).sections]
    sections[1]["body"] = "<p>Theirs, edited.</p>"
    service.save(session, workspace, document, other.user, base_number=2, sections=sections)

    assert live_service.compact(session, summary.id).version_number == 4
    _identity(session, other)
    assert service.open_pending(session, document, other.user) == []
    _identity(session, lead)
    (pending,) = service.open_pending(session, document, lead.user)
    assert "One, by Probation." in pending.conflicts[0]["pending_body"]
