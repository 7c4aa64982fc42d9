"""Destruction certificates as CSV (every tombstone, formula-safe) and PDF (weasyprint, in
the inspectorate's colours), and the register of certificates as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import render_template
from sqlalchemy.orm import Session

from app.clock import clock
from retention import queries
from retention.models import Certificate, Schedule
from retention.rules import class_label, describe_rule
from shared_workspace.stakeholders.directory import neutralise

#: A PDF lists this many tombstones at most; the CSV always lists every one and the digest
#: covers them all. weasyprint lays out about 50 table rows a second, and a certificate can
#: end 50,000 claims: the PDF is the readable proof, built inside the request.
PDF_ROWS = 200
MARKING = "OFFICIAL"
TOMBSTONE_COLUMNS = [
    "certificate",
    "tombstone",
    "workspace_id",
    "workspace",
    "material_type",
    "material_id",
    "title",
    "owner",
    "joint",
    "material_class",
    "sensitivity",
    "created_on",
    "rule_id",
    "rule",
    "trigger",
    "trigger_on",
    "disposal_on",
    "override_reason",
    "outcome",
    "ended_at",
    "sha256",
]
REGISTER_COLUMNS = [
    "certificate",
    "inspectorate",
    "state",
    "started_at",
    "completed_at",
    "items",
    "objects_deleted",
    "digest",
]


def outcome(tombstone: Schedule) -> str:
    """What the sweep did with this claim, in words."""
    if tombstone.destroy_object:
        return "item destroyed"
    return "claim ended; item kept for another inspectorate"


def _writer() -> tuple[io.StringIO, Any]:
    buffer = io.StringIO()
    return buffer, csv.writer(buffer)


def _row(writer: Any, cells: Sequence[object]) -> None:
    writer.writerow([neutralise("" if c is None else str(c)) for c in cells])


def tombstone_cells(
    certificate: Certificate,
    tombstone: Schedule,
    names: dict[int, str],
    titles: dict[int, str],
) -> list[object]:
    chain = tombstone.material_class.split(",")
    return [
        certificate.id,
        tombstone.id,
        tombstone.workspace_id,
        titles.get(tombstone.workspace_id, ""),
        tombstone.material_type,
        tombstone.material_id,
        tombstone.title,
        names.get(tombstone.owner_tenant_id, ""),
        "yes" if tombstone.joint else "no",
        class_label(chain[0]),
        tombstone.sensitivity,
        tombstone.created_on.isoformat(),
        tombstone.rule_id,
        describe_rule(tombstone.rule) if tombstone.rule else "",
        tombstone.trigger,
        tombstone.trigger_on.isoformat() if tombstone.trigger_on else "",
        tombstone.disposal_on.isoformat() if tombstone.disposal_on else "",
        tombstone.override_reason,
        outcome(tombstone),
        tombstone.ended_at.isoformat() if tombstone.ended_at else "",
        tombstone.sha256,
    ]


def certificate_csv(
    session: Session, certificate: Certificate, names: dict[int, str]
) -> Iterable[str]:
    """Every tombstone of the certificate, one line each; text never runs as a formula."""
    tombstones = list(queries.all_tombstones(session, certificate))
    titles = queries.workspace_titles(session, {t.workspace_id for t in tombstones})
    buffer, writer = _writer()

    def line(cells: Sequence[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        _row(writer, cells)
        return buffer.getvalue()

    yield "\ufeff" + line(TOMBSTONE_COLUMNS)
    for tombstone in tombstones:
        yield line(tombstone_cells(certificate, tombstone, names, titles))


def register_csv(certificates: Iterable[Certificate]) -> str:
    buffer, writer = _writer()
    _row(writer, REGISTER_COLUMNS)
    for c in certificates:
        _row(
            writer,
            [
                c.id,
                c.tenant.name,
                c.state,
                c.started_at.isoformat(),
                c.completed_at.isoformat() if c.completed_at else "",
                c.items,
                c.objects_deleted,
                c.digest,
            ],
        )
    return "\ufeff" + buffer.getvalue()


def certificate_pdf(
    session: Session, certificate: Certificate, names: dict[int, str], verified: bool
) -> bytes:
    """The certificate on one or more A4 pages: who, when, how many, the digest, and the
    tombstones (the first PDF_ROWS of them); nothing outside the document is loaded."""
    from weasyprint import HTML

    tombstones = list(queries.all_tombstones(session, certificate, limit=PDF_ROWS))
    html = render_template(
        "retention/certificate_pdf.html",
        certificate=certificate,
        tombstones=tombstones,
        titles=queries.workspace_titles(session, {t.workspace_id for t in tombstones}),
        names=names,
        verified=verified,
        outcome=outcome,
        describe_rule=describe_rule,
        class_label=class_label,
        limit=PDF_ROWS,
        marking=MARKING,
        colour=certificate.tenant.colour,
        printed_on=clock.today(),
    )
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]
