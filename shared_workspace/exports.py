"""Terms of reference as PDF (weasyprint) and DOCX (python-docx) in the lead's house style,
with annex 3's sections in order and the protective marking on every page."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.shared import Pt, RGBColor
from flask import render_template

from shared_workspace.models import Subject, Workspace

#: Annex 3's sections, in order.
TERMS_SECTIONS = [
    ("background", "Background"),
    ("aims", "Aims"),
    ("question", "The inspection question"),
    ("criteria", "Criteria and sub-questions"),
    ("sites", "Site selection"),
    ("methodology", "Methodology"),
    ("timetable", "Timetable"),
]
MARKING = "OFFICIAL"


def _items(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value not in (None, "") else []


def terms_pdf(workspace: Workspace, subject: Subject) -> bytes:
    """A PDF of the terms of reference; fonts and styles come from the app, nothing remote."""
    from weasyprint import HTML

    html = render_template(
        "workspaces/terms_export.html",
        workspace=workspace,
        subject=subject,
        sections=TERMS_SECTIONS,
        items=_items,
        marking=MARKING,
        colour=workspace.lead_tenant.colour,
    )
    # No base URL: the document references nothing outside itself.
    return HTML(string=html).write_pdf()


def terms_docx(workspace: Workspace, subject: Subject) -> bytes:
    document = Document()
    colour = workspace.lead_tenant.colour.lstrip("#")
    rgb = RGBColor(int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))
    for section in document.sections:
        section.header.paragraphs[0].text = MARKING
        section.footer.paragraphs[0].text = MARKING
    caption = document.add_paragraph(f"{workspace.lead_tenant.name}: terms of reference")
    caption.runs[0].font.size = Pt(11)
    title = document.add_heading(workspace.title, level=0)
    for run in title.runs:
        run.font.color.rgb = rgb
    others = [
        p.tenant.name for p in workspace.participants if p.tenant_id != workspace.lead_tenant_id
    ]
    document.add_paragraph("A joint inspection with " + ", ".join(others) + ".")
    for key, heading in TERMS_SECTIONS:
        values = _items(subject.content.get(key))
        if not values:
            continue
        document.add_heading(heading, level=1).runs[0].font.color.rgb = rgb
        if len(values) == 1 and not isinstance(subject.content.get(key), list):
            document.add_paragraph(values[0])
        else:
            for value in values:
                document.add_paragraph(value, style="List Bullet")
    document.add_paragraph(f"Version {subject.version}.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
