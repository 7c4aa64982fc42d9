"""Documents as PDF (weasyprint) and DOCX (python-docx) in the lead inspectorate's house style:
protective marking in header and footer, a DRAFT watermark until the final report decision is
agreed, and a version stamp. The PDF is rendered from the same HTML as the page.

Exports run as a job (a long report takes seconds); the job reports its progress in its own
short transactions so the page polling it sees it move.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

from docx import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor
from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_database, set_context, utcnow
from app.jobs import job
from app.storage import get_storage
from shared_workspace import decisions
from shared_workspace.documents.models import Document, DocumentExport, DocumentVersion
from shared_workspace.models import Workspace

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def is_draft(session: Session, workspace: Workspace, document: Document) -> bool:
    """Exports say DRAFT until the final report decision is agreed (§40); the terms of
    reference stop being a draft when their own decision is agreed (§9)."""
    kind = "terms_of_reference" if document.kind == "terms_of_reference" else "final_report"
    return not decisions.is_agreed(session, workspace, kind)


def render_html(
    workspace: Workspace, document: Document, row: DocumentVersion, *, draft: bool
) -> str:
    return render_template(
        "documents/export.html",
        workspace=workspace,
        document=document,
        version=row,
        draft=draft,
        colour=workspace.lead_tenant.colour,
    )


def to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()  # no base URL: nothing outside the document is loaded


class _DocxWriter(HTMLParser):
    """Turns the sanitised report HTML into python-docx paragraphs, lists, tables and notes."""

    def __init__(self, docx: Any, rgb: RGBColor) -> None:
        super().__init__(convert_charrefs=True)
        self.docx, self.rgb = docx, rgb
        self.paragraph: Any = None
        self.bold = self.italic = self.superscript = self.subscript = 0
        self.lists: list[str] = []
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None
        self.footnote: list[str] | None = None
        self.notes: list[str] = []
        self.href = ""

    def _new(self, style: str | None = None) -> Any:
        self.paragraph = self.docx.add_paragraph(style=style)
        return self.paragraph

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "span" and attributes.get("class") == "footnote":
            self.footnote = []
        elif self.footnote is not None:
            return
        elif tag in ("h2", "h3", "h4"):
            heading = self.docx.add_heading(level=int(tag[1]))
            self.paragraph = heading
        elif tag == "p" or tag == "blockquote":
            self._new("Quote" if tag == "blockquote" else None)
        elif tag in ("ul", "ol"):
            self.lists.append(tag)
        elif tag == "li":
            self._new("List Number" if self.lists and self.lists[-1] == "ol" else "List Bullet")
        elif tag == "table":
            self.table = []
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag in ("strong", "b"):
            self.bold += 1
        elif tag in ("em", "i"):
            self.italic += 1
        elif tag == "sup":
            self.superscript += 1
        elif tag == "sub":
            self.subscript += 1
        elif tag == "br" and self.paragraph is not None:
            self.paragraph.add_run().add_break()
        elif tag == "a":
            self.href = attributes.get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self.footnote is not None:
            self.notes.append("".join(self.footnote).strip())
            self.footnote = None
            self._run(f"{len(self.notes)}", superscript=True)
        elif self.footnote is not None:
            return
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag in ("td", "th") and self.cell is not None and self.table:
            self.table[-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "table" and self.table is not None:
            rows = [r for r in self.table if r]
            if rows:
                width = max(len(r) for r in rows)
                grid = self.docx.add_table(rows=len(rows), cols=width)
                grid.style = "Table Grid"
                for i, cells in enumerate(rows):
                    for j, text in enumerate(cells):
                        grid.cell(i, j).text = text
            self.table = None
        elif tag in ("strong", "b"):
            self.bold -= 1
        elif tag in ("em", "i"):
            self.italic -= 1
        elif tag == "sup":
            self.superscript -= 1
        elif tag == "sub":
            self.subscript -= 1
        elif tag == "a":
            if self.href and not self.href.startswith("mailto:"):
                self._run(f" ({self.href})")
            self.href = ""

    def handle_data(self, data: str) -> None:
        if self.footnote is not None:
            self.footnote.append(data)
        elif self.cell is not None:
            self.cell.append(data)
        elif data.strip() or self.paragraph is not None:
            self._run(data)

    def _run(self, text: str, superscript: bool = False) -> None:
        if self.paragraph is None:
            self._new()
        run = self.paragraph.add_run(text)
        run.bold = bool(self.bold) or None
        run.italic = bool(self.italic) or None
        run.font.superscript = superscript or bool(self.superscript) or None
        run.font.subscript = bool(self.subscript) or None

    def finish_section(self) -> None:
        """Footnotes go at the end of their section, numbered as in the text."""
        self.close()
        if self.notes:
            for number, note in enumerate(self.notes, start=1):
                para = self.docx.add_paragraph()
                mark = para.add_run(f"{number} ")
                mark.font.superscript = True
                para.add_run(note).font.size = Pt(9)
            self.notes = []
        self.paragraph = None


def to_docx(
    workspace: Workspace,
    document: Document,
    row: DocumentVersion,
    *,
    draft: bool,
    progress: Callable[[int], None] = lambda _p: None,
) -> bytes:
    docx = DocxDocument()
    colour = workspace.lead_tenant.colour.lstrip("#")
    rgb = RGBColor(int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))
    stamp = _stamp(document, row)
    for section in docx.sections:
        top = section.header.paragraphs[0]
        top.text = document.marking + ("  ·  DRAFT" if draft else "")
        top.alignment = WD_ALIGN_PARAGRAPH.CENTER
        bottom = section.footer.paragraphs[0]
        bottom.text = f"{document.marking}  ·  {stamp}"
        bottom.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if draft:
        mark = docx.add_paragraph()
        run = mark.add_run("DRAFT")
        run.bold, run.font.size = True, Pt(28)
        run.font.color.rgb = RGBColor(0xB1, 0xB4, 0xB6)
    caption = docx.add_paragraph(f"{workspace.lead_tenant.name}: {document.kind_label.lower()}")
    caption.runs[0].font.size = Pt(11)
    title = docx.add_heading(document.title, level=0)
    for run in title.runs:
        run.font.color.rgb = rgb
    total = max(len(row.sections), 1)
    for index, section in enumerate(row.sections, start=1):
        heading = docx.add_heading(section["title"], level=1)
        for run in heading.runs:
            run.font.color.rgb = rgb
        writer = _DocxWriter(docx, rgb)
        writer.feed(section["body"])
        writer.finish_section()
        if index % 5 == 0:
            progress(10 + 80 * index // total)
    docx.add_paragraph(stamp).runs[0].font.size = Pt(9)
    buffer = io.BytesIO()
    docx.save(buffer)
    return buffer.getvalue()


def _stamp(document: Document, row: DocumentVersion) -> str:
    when = row.created_at.strftime("%-d %B %Y %H:%M UTC")
    return f"Version {row.number} of {document.title}, saved {when} by {row.tenant.short_name}"


def _progress(export_id: int, tenant_id: int, value: int, **fields: Any) -> None:
    """Record progress in a transaction of its own, so pollers see it before the job ends."""
    with get_database(current_app._get_current_object()).transaction() as session:
        set_context(session, tenant_id=tenant_id)
        row = session.get(DocumentExport, export_id)
        if row is not None:
            row.progress = value
            for name, field_value in fields.items():
                setattr(row, name, field_value)


def export_key(export: DocumentExport) -> str:
    return (
        f"exports/{export.tenant_id}/{export.workspace_id}/documents/"
        f"{export.document_id}-v{export.version_number}-{export.id}.{export.format}"
    )


@job
def build_export(session: Session, export_id: int, tenant_id: int) -> str:
    """Render one export to storage. Idempotent: a finished export is left alone, and a rerun
    after a crash overwrites the same key."""
    set_context(session, tenant_id=tenant_id)
    export = session.get(DocumentExport, export_id)
    if export is None or export.status == "done":
        return "nothing to do"
    document = session.get(Document, export.document_id)
    workspace = session.get(Workspace, export.workspace_id)
    row = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == export.document_id,
            DocumentVersion.number == export.version_number,
        )
    )
    if document is None or workspace is None or row is None:
        _progress(export_id, tenant_id, 0, status="failed", error="The document has gone")
        return "failed"
    _progress(export_id, tenant_id, 5, status="running")
    try:
        if export.format == "pdf":
            html = render_html(workspace, document, row, draft=export.draft)
            _progress(export_id, tenant_id, 20)
            body = to_pdf(html)
        else:
            body = to_docx(
                workspace,
                document,
                row,
                draft=export.draft,
                progress=lambda p: _progress(export_id, tenant_id, p),
            )
        _progress(export_id, tenant_id, 90)
        key = export_key(export)
        get_storage().put(
            key,
            io.BytesIO(body),
            content_type=CONTENT_TYPES[export.format],
            size=len(body),
            tags={"kind": "document-export"},
        )
    except Exception as exc:
        _progress(
            export_id,
            tenant_id,
            0,
            status="failed",
            error=f"The export failed: {type(exc).__name__}",
        )
        raise
    # Retention may have destroyed the document (and expired this export) while it rendered:
    # then the object just written must not outlive it.
    locked = session.scalar(
        select(DocumentExport)
        .where(DocumentExport.id == export_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    destroyed = session.scalar(
        select(Document.destroyed_at)
        .where(Document.id == export.document_id)
        .execution_options(populate_existing=True)
    )
    if locked is None or locked.status == "failed" or destroyed is not None:
        get_storage().delete(key)
        if locked is not None:
            locked.status, locked.storage_key = "failed", ""
            locked.error = locked.error or "The document was destroyed under the retention rules"
        session.flush()
        return "destroyed"
    export.storage_key = key
    export.status, export.progress, export.finished_at = "done", 100, utcnow()
    session.flush()
    return key
