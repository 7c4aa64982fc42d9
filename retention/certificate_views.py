"""Destruction certificate pages for records managers: the register (with its CSV), each
certificate with its tombstones and whether they still match its digest, and its CSV and PDF
exports. Every download is audited."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app import audit
from app.db import get_session
from app.tenancy import get_or_404
from retention import exports, queries, service
from retention.api import me, records_managers_only
from retention.models import Certificate
from retention.views import bp


@bp.get("/retention/certificates")
@records_managers_only
def certificates() -> str:
    page = queries.certificates_page(
        get_session(), me().tenant_id, cursor=request.args.get("cursor")
    )
    return render_template("retention/certificates.html", page=page)


@bp.get("/retention/certificates.csv")
@records_managers_only
def certificates_csv() -> Response:
    """The register of the inspectorate's certificates (audited)."""
    db = get_session()
    rows = list(
        db.scalars(
            select(Certificate)
            .where(Certificate.tenant_id == me().tenant_id)
            .order_by(Certificate.id)
        )
    )
    audit.record(
        db,
        tenant_id=me().tenant_id,
        action="retention.certificates.exported",
        object_type="tenant",
        object_id=me().tenant_id,
        changes={"certificates": len(rows)},
    )
    return _download(exports.register_csv(rows), "text/csv", "destruction-certificates.csv")


def _verified(certificate: Certificate) -> bool:
    from retention.sweep import certificate_digest

    return (
        certificate.state == "complete"
        and certificate_digest(get_session(), certificate.id)[0] == certificate.digest
    )


@bp.get("/retention/certificates/<int:certificate_id>")
@records_managers_only
def certificate(certificate_id: int) -> str:
    db = get_session()
    cert = get_or_404(db, Certificate, certificate_id)
    page = queries.tombstones_page(db, cert, cursor=request.args.get("cursor"), limit=100)
    return render_template(
        "retention/certificate.html",
        certificate=cert,
        page=page,
        verified=_verified(cert),
        names=service.tenant_names(db),
        titles=queries.workspace_titles(db, {t.workspace_id for t in page.rows}),
        outcome=exports.outcome,
        pdf_rows=exports.PDF_ROWS,
    )


@bp.get("/retention/certificates/<int:certificate_id>/certificate.<any(csv, pdf):fmt>")
@records_managers_only
def certificate_export(certificate_id: int, fmt: str) -> Response:
    """A complete certificate as CSV (every tombstone) or PDF; each download is audited."""
    db = get_session()
    cert = get_or_404(db, Certificate, certificate_id)
    if cert.state != "complete":
        flash("This certificate is not complete yet: the next sweep finishes it", "info")
        return redirect(url_for("retention.certificate", certificate_id=cert.id))
    names = service.tenant_names(db)
    audit.record(
        db,
        tenant_id=me().tenant_id,
        action="retention.certificate.downloaded",
        object_type="retention_certificate",
        object_id=cert.id,
        changes={"format": fmt, "items": cert.items, "digest": cert.digest},
    )
    filename = f"destruction-certificate-{cert.id}.{fmt}"
    if fmt == "csv":
        return _download("".join(exports.certificate_csv(db, cert, names)), "text/csv", filename)
    body = exports.certificate_pdf(db, cert, names, _verified(cert))
    return _download(body, "application/pdf", filename)


def _download(body: str | bytes, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
