"""Commissioning letters (001 §15-17, annex 2): written together as a document, authorised by
every participating inspectorate's development group representative, sent at least six weeks
before the site's fieldwork, through the mail backend, with a register of what went when."""

from __future__ import annotations

import io
from datetime import date
from email.message import EmailMessage

from email_validator import EmailNotValidError, validate_email
from flask import render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import clock
from app.db import set_context, utcnow
from app.jobs import enqueue, job
from app.mail import MailError, get_mailer, new_message
from shared_workspace import decisions
from shared_workspace.documents import service as documents
from shared_workspace.documents.models import Document, DocumentVersion
from shared_workspace.models import Member, Site, Subject, Workspace, WorkspaceRole
from shared_workspace.publication.models import Letter
from shared_workspace.service import LETTER_NOTICE
from tenants.models import User


class LetterError(ValueError):
    def __init__(self, message: str, field: str = "_rule") -> None:
        super().__init__(message)
        self.field = field


class NotSendable(LetterError):
    """Sending is refused; ``reasons`` lists each thing still needed."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("The letter cannot be sent yet: " + "; ".join(reasons))
        self.reasons = reasons


def create_letter(
    session: Session,
    workspace: Workspace,
    user: User,
    *,
    addressee_name: str,
    title: str,
    body: str,
    addressee_role: str = "",
    addressee_email: str = "",
    site: Site | None = None,
) -> Letter:
    """A letter (lead only) to one addressee at one inspected site: its body is a one-section
    document anyone may co-edit. A second letter to the same addressee at the same site is
    refused."""
    if user.tenant_id != workspace.lead_tenant_id:
        raise LetterError("Only the lead inspectorate drafts commissioning letters")
    if not addressee_name.strip():
        raise LetterError("Say who the letter is to", "addressee_name")
    if addressee_email:
        _check_email(addressee_email)
    # Letters are one per inspected site and addressee, and the six-week rule counts back
    # from that site's fieldwork (§16): a letter without a site could never be checked.
    if site is None:
        raise LetterError(
            "Choose the inspected site the letter is about: the six-week rule counts back "
            "from its fieldwork (§16)",
            "site_id",
        )
    if site.workspace_id != workspace.id:
        raise LetterError("That site is not part of this inspection", "site_id")
    _refuse_duplicate(session, site, addressee_name, addressee_email)
    document = documents.create_document(
        session,
        workspace,
        user,
        kind="letter",
        title=f"Letter to {addressee_name.strip()}"[:300],
        sections=[{"key": "body", "title": "Letter", "body": body}],
    )
    letter = Letter(
        workspace_id=workspace.id,
        site_id=site.id,
        document_id=document.id,
        addressee_name=addressee_name.strip()[:200],
        addressee_role=addressee_role.strip()[:200],
        addressee_email=addressee_email.strip()[:320],
        title=title.strip()[:300] or workspace.title,
    )
    try:
        # Two people drafting the same letter at once: the unique constraint decides.
        with session.begin_nested():
            session.add(letter)
            session.flush()
    except IntegrityError:
        raise LetterError(
            f"There is already a letter to {letter.addressee_name} about {site.name}: edit that "
            "one instead of drafting another",
            "addressee_name",
        ) from None
    return letter


def _refuse_duplicate(session: Session, site: Site, name: str, email: str) -> None:
    """One letter per site and addressee: the same name (ignoring case and spacing) or the
    same email address at the same site is the same addressee."""
    wanted_name = " ".join(name.split()).casefold()
    wanted_email = email.strip().casefold()
    for other in session.scalars(select(Letter).where(Letter.site_id == site.id)):
        same_name = " ".join(other.addressee_name.split()).casefold() == wanted_name
        same_email = bool(wanted_email) and other.addressee_email.casefold() == wanted_email
        if same_name or same_email:
            raise LetterError(
                f"There is already a letter to {other.addressee_name} about {site.name} "
                f"(“{other.title}”, {other.status}): edit that one instead of drafting another",
                "addressee_name",
            )


def _check_email(address: str) -> None:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        message = f"{address!r} is not a valid email address ({exc})"
        raise LetterError(message, "addressee_email") from None


def subject_of(session: Session, letter: Letter) -> Subject:
    document = session.get(Document, letter.document_id)
    assert document is not None and document.subject_id is not None
    subject = session.get(Subject, document.subject_id)
    assert subject is not None
    return subject


def request_authority(
    session: Session, workspace: Workspace, letter: Letter, user: User
) -> decisions.Decision:
    """Ask every development group representative to authorise the letter as it stands."""
    subject = subject_of(session, letter)
    existing = session.scalar(
        select(decisions.Decision).where(
            decisions.Decision.subject_id == subject.id,
            decisions.Decision.status.in_(("open", "agreed")),
        )
    )
    if existing is not None:
        return existing
    if user.tenant_id != workspace.lead_tenant_id:
        raise LetterError("Only the lead inspectorate asks for a letter's authority")
    rejected = session.scalar(
        select(decisions.Decision.id).where(
            decisions.Decision.subject_id == subject.id,
            decisions.Decision.status == "rejected",
            decisions.Decision.subject_hash == subject.content_hash,
        )
    )
    if rejected is not None:
        raise LetterError(
            "This version of the letter was rejected: change it as the reason asks, then ask "
            "for authority again"
        )
    return _propose(session, workspace, subject, user)


def _propose(session: Session, workspace: Workspace, subject: Subject, user: User):  # type: ignore[no-untyped-def]
    # Each letter is its own commissioning decision: the one-per-kind rule of propose() is for
    # workspace-wide decisions, so open the decision directly.
    decision = decisions.Decision(
        workspace_id=workspace.id,
        kind="commissioning_letters",
        subject_id=subject.id,
        subject_version=subject.version,
        subject_hash=subject.content_hash,
        proposed_by_id=user.id,
        status="open",
    )
    session.add(decision)
    session.flush()
    return decision


def authority(session: Session, letter: Letter) -> decisions.Decision | None:
    """The letter's commissioning decision, latest first."""
    subject = subject_of(session, letter)
    return session.scalar(
        select(decisions.Decision)
        .where(decisions.Decision.subject_id == subject.id)
        .order_by(decisions.Decision.id.desc())
    )


def send_blockers(
    session: Session, workspace: Workspace, letter: Letter, send_on: date
) -> list[str]:
    """Why the letter may not go on ``send_on``; empty when it may (§16-17)."""
    reasons = []
    decision = authority(session, letter)
    subject = subject_of(session, letter)
    if decision is None:
        reasons.append("nobody has been asked to authorise it")
    elif decision.status != "agreed" or decision.subject_hash != subject.content_hash:
        waiting = decisions.waiting_for(decision, workspace)
        names = [p.tenant.short_name for p in workspace.participants if p.tenant_id in waiting]
        reasons.append(
            "the development group representatives of "
            + (", ".join(names) if names else "every inspectorate")
            + " have not authorised this version (§17)"
        )
    site = session.get(Site, letter.site_id)
    if site is None or site.fieldwork_starts_on is None:
        where = site.name if site is not None else "the letter's site"
        reasons.append(
            f"the fieldwork start date for {where} is not set, so the six-week rule (§16) "
            "cannot be checked"
        )
    else:
        latest = site.fieldwork_starts_on - LETTER_NOTICE
        if send_on > latest:
            reasons.append(
                f"fieldwork at {site.name} starts on {site.fieldwork_starts_on:%-d %B %Y}: "
                f"letters must go by {latest:%-d %B %Y}, six weeks before (§16)"
            )
    if not letter.addressee_email:
        reasons.append(f"there is no email address for {letter.addressee_name}")
    if letter.status in ("sending", "sent"):
        reasons.append(f"it is already {letter.status}")
    return reasons


def send(session: Session, workspace: Workspace, letter: Letter, user: User) -> Letter:
    """Queue the letter for sending today, if every rule allows; nothing is sent otherwise."""
    if user.tenant_id != workspace.lead_tenant_id:
        raise LetterError("Only the lead inspectorate sends commissioning letters")
    today = clock.today()
    reasons = send_blockers(session, workspace, letter, today)
    if reasons:
        raise NotSendable(reasons)
    letter.status, letter.dated_on = "sending", today
    session.flush()
    enqueue(deliver_letter, letter.id, user.tenant_id, user.id)
    return letter


def chief_inspectors(session: Session, workspace: Workspace) -> list[tuple[str, str]]:
    """(name, inspectorate) of each participating inspectorate's chief inspector / HMI."""
    rows = session.execute(
        select(User.name, Member.tenant_id)
        .join(Member, Member.user_id == User.id)
        .where(
            Member.workspace_id == workspace.id,
            Member.role == WorkspaceRole.CHIEF_INSPECTOR.value,
        )
        .order_by(Member.tenant_id, User.name)
    ).all()
    names = {p.tenant_id: p.tenant.name for p in workspace.participants}
    seen = {}
    for name, tenant_id in rows:
        seen.setdefault(tenant_id, (name, names.get(tenant_id, "")))
    return [seen[p.tenant_id] for p in workspace.participants if p.tenant_id in seen]


def letter_pdf(session: Session, workspace: Workspace, letter: Letter) -> bytes:
    """The letter on CJJI headed paper: chief inspectors, addressee, date, title, body,
    sign-off (annex 2)."""
    from weasyprint import HTML

    document = session.get(Document, letter.document_id)
    assert document is not None
    row = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.number == document.head_number,
        )
    )
    assert row is not None
    html = render_template(
        "publication/letter.html",
        workspace=workspace,
        letter=letter,
        body=row.sections[0]["body"] if row.sections else "",
        chiefs=chief_inspectors(session, workspace),
        dated=letter.dated_on or clock.today(),
    )
    return HTML(string=html).write_pdf()


def letter_docx(session: Session, workspace: Workspace, letter: Letter) -> bytes:
    """The same letter as a Word document, for an inspectorate that sends from its own system."""
    from docx import Document as DocxDocument

    from shared_workspace.documents.exports import _DocxWriter

    document = session.get(Document, letter.document_id)
    assert document is not None
    row = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.number == document.head_number,
        )
    )
    assert row is not None
    docx = DocxDocument()
    chiefs = chief_inspectors(session, workspace)
    docx.add_heading("Criminal Justice Joint Inspection", level=1)
    for name, inspectorate in chiefs:
        docx.add_paragraph(f"{name}, {inspectorate}")
    docx.add_paragraph("By email")
    docx.add_paragraph(
        letter.addressee_name + (f"\n{letter.addressee_role}" if letter.addressee_role else "")
    )
    docx.add_paragraph(f"{(letter.dated_on or clock.today()):%-d %B %Y}")
    docx.add_paragraph(f"Dear {letter.addressee_name},")
    docx.add_heading(letter.title, level=2)
    writer = _DocxWriter(docx, None)
    writer.feed(row.sections[0]["body"] if row.sections else "")
    writer.finish_section()
    docx.add_paragraph("Yours sincerely,")
    for name, inspectorate in chiefs:
        docx.add_paragraph(f"{name}\n{inspectorate}")
    buffer = io.BytesIO()
    docx.save(buffer)
    return buffer.getvalue()


@job
def deliver_letter(session: Session, letter_id: int, tenant_id: int, user_id: int) -> str:
    """Job: email the letter as a PDF. Idempotent: a letter already sent is left alone."""
    set_context(session, tenant_id=tenant_id, user_id=user_id)
    letter = session.get(Letter, letter_id)
    if letter is None or letter.status == "sent":
        return "nothing to do"
    workspace = session.get(Workspace, letter.workspace_id)
    assert workspace is not None
    message: EmailMessage = new_message(
        letter.addressee_email,
        f"{letter.title}: joint inspection",
        f"Dear {letter.addressee_name},\n\nPlease find attached our letter about "
        f"{letter.title}.\n\nCriminal Justice Joint Inspection\n",
    )
    pdf = letter_pdf(session, workspace, letter)
    message.add_attachment(
        io.BytesIO(pdf).getvalue(),
        maintype="application",
        subtype="pdf",
        filename=f"letter-{letter.id}.pdf",
    )
    try:
        message_id = get_mailer().send(message)
    except MailError as exc:
        letter.status, letter.delivery = "failed", str(exc)
        session.flush()
        return "failed"
    letter.status, letter.sent_at, letter.delivery = (
        "sent",
        utcnow(),
        f"handed over as {message_id}",
    )
    site = session.get(Site, letter.site_id)
    if site is not None and site.letters_sent_on is None:
        site.letters_sent_on = letter.dated_on
    session.flush()
    return "sent"


def register(session: Session, workspace: Workspace) -> list[Letter]:
    """Every letter of the inspection, newest first: the letter register."""
    return list(
        session.scalars(
            select(Letter).where(Letter.workspace_id == workspace.id).order_by(Letter.id.desc())
        )
    )
