"""The publication plan (001 §42-43, `000` "Publication" and "Press notice"): from the
consolidated distribution list, who sends what to whom and when. Embargoed copies go to
sponsoring departments five working days before publication for inspectorates whose policy
says so; the press notice goes to the inspected body three working days before; the report
goes to everyone on the day, and interviewees get a thank-you letter on the day. A periodic
job sends what is due through the mail backend, carrying the agreed press notice or the
signed-off report; a send whose attachment is not agreed yet waits (an embargoed copy or
press notice still waiting on publication day is not sent at all)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.clock import LONDON, clock
from app.db import set_context, utcnow
from app.jobs import job, periodic
from app.mail import MailError, get_mailer, new_message
from app.workdays import add_working_days
from shared_workspace.models import Workspace
from shared_workspace.publication.attachments import Attachments
from shared_workspace.publication.models import ScheduledSend
from shared_workspace.stakeholders.models import Nomination, Recipient
from tenants.models import Tenant

EMBARGO_WORKING_DAYS = 5
PRESS_NOTICE_WORKING_DAYS = 3
SEND_INTERVAL_SECONDS = 15 * 60
#: Sends that only make sense before publication day.
BEFORE = ("embargoed_copy", "press_notice")


class ScheduleError(ValueError):
    pass


def _sources_by_recipient(rows: list[Recipient]) -> dict[int, set[int]]:
    return {r.id: {int(s["tenant_id"]) for s in r.sources} for r in rows}


def build(session: Session, workspace: Workspace) -> list[ScheduledSend]:
    """(Re)build the schedule from the consolidated list and the publication date; sends
    already made are kept, the rest are replaced."""
    if workspace.publication_date is None:
        raise ScheduleError("Set the publication date first (on the timetable and plan page)")
    publication = workspace.publication_date
    recipients = list(
        session.scalars(select(Recipient).where(Recipient.workspace_id == workspace.id))
    )
    if not recipients:
        raise ScheduleError("Consolidate the stakeholder lists first")
    session.execute(
        delete(ScheduledSend).where(
            ScheduledSend.workspace_id == workspace.id, ScheduledSend.status != "sent"
        )
    )
    tenants = {p.tenant_id: p.tenant for p in workspace.participants}
    sources = _sources_by_recipient(recipients)
    engagement = _interviewees(session, workspace)
    rows: list[ScheduledSend] = []

    def add(kind: str, sender: int, recipient: Recipient, on: date) -> None:
        rows.append(
            ScheduledSend(
                workspace_id=workspace.id,
                kind=kind,
                sender_tenant_id=sender,
                recipient_name=recipient.name,
                recipient_email=recipient.email,
                send_on=on,
            )
        )

    embargo_on = add_working_days(publication, -EMBARGO_WORKING_DAYS)
    press_on = add_working_days(publication, -PRESS_NOTICE_WORKING_DAYS)
    for recipient in recipients:
        nominated_by = sources[recipient.id]
        if recipient.category == "sponsoring_department":
            # An inspectorate whose policy says so (HMI Prisons, HMI Probation, HMCPSI; not
            # HMICFRS) sends an embargoed copy to the sponsoring department it nominated. A
            # person two of them nominated gets one copy (§43): from the list's sender for
            # them when that inspectorate sends embargoed copies, else the first that does.
            senders = [
                tenant_id
                for tenant_id in sorted(nominated_by)
                if (tenant := tenants.get(tenant_id)) is not None and tenant.embargoed_copy
            ]
            if senders:
                sender = (
                    recipient.sender_tenant_id
                    if recipient.sender_tenant_id in senders
                    else senders[0]
                )
                add("embargoed_copy", sender, recipient, embargo_on)
        if recipient.category == "inspected_body":
            add("press_notice", workspace.lead_tenant_id, recipient, press_on)
        add("publication", recipient.sender_tenant_id, recipient, publication)
        if any(n in engagement for n in (int(s["nomination_id"]) for s in recipient.sources)):
            add("thank_you", recipient.sender_tenant_id, recipient, publication)
    session.add_all(rows)
    session.flush()
    return rows


def _interviewees(session: Session, workspace: Workspace) -> set[int]:
    """Nominations for engagement during the inspection: the people interviewed."""
    return set(
        session.scalars(
            select(Nomination.id).where(
                Nomination.workspace_id == workspace.id,
                Nomination.purpose.in_(("engagement", "both")),
            )
        )
    )


def schedule(session: Session, workspace: Workspace) -> list[ScheduledSend]:
    return list(
        session.scalars(
            select(ScheduledSend)
            .where(ScheduledSend.workspace_id == workspace.id)
            .order_by(ScheduledSend.send_on, ScheduledSend.kind, ScheduledSend.recipient_name)
        )
    )


LABELS = {
    "embargoed_copy": "Embargoed copy",
    "press_notice": "Press notice to the inspected body",
    "publication": "Report on publication",
    "thank_you": "Thank-you letter to interviewee",
}


@dataclass(frozen=True)
class CalendarDay:
    day: date
    #: In the month being shown (days of the neighbouring months pad the first and last week).
    in_month: bool
    #: Why it is not a working day: "Saturday", "Sunday" or the bank holiday's name.
    closed: str | None
    sends: tuple[tuple[str, int], ...]
    publication: bool


@dataclass(frozen=True)
class CalendarMonth:
    first: date
    weeks: list[list[CalendarDay]]


def calendar(workspace: Workspace, rows: list[ScheduledSend]) -> list[CalendarMonth]:
    """Month grids (Monday first) from the first send to publication: per day, how many of
    each kind of send go, with weekends and England and Wales bank holidays marked."""
    import calendar as stdlib_calendar

    from app.workdays import bank_holiday_name

    days = [r.send_on for r in rows]
    if workspace.publication_date:
        days.append(workspace.publication_date)
    if not days:
        return []
    counts: dict[date, dict[str, int]] = {}
    for row in rows:
        per_kind = counts.setdefault(row.send_on, {})
        per_kind[row.kind] = per_kind.get(row.kind, 0) + 1
    months = []
    year, month = min(days).year, min(days).month
    last = max(days)
    grid = stdlib_calendar.Calendar(firstweekday=0)
    while (year, month) <= (last.year, last.month):
        weeks = []
        for week in grid.monthdatescalendar(year, month):
            weeks.append(
                [
                    CalendarDay(
                        day=day,
                        in_month=day.month == month,
                        closed=bank_holiday_name(day)
                        or (day.strftime("%A") if day.weekday() >= 5 else None),
                        sends=tuple(
                            (kind, counts[day][kind])
                            for kind in LABELS
                            if kind in counts.get(day, {})
                        ),
                        publication=day == workspace.publication_date,
                    )
                    for day in week
                ]
            )
        months.append(CalendarMonth(date(year, month, 1), weeks))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def ics(workspace: Workspace, rows: list[ScheduledSend]) -> bytes:
    """The schedule as an iCalendar file: one all-day event per date and kind of send."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//CJJI//Joint inspections//EN")
    calendar.add("version", "2.0")
    grouped: dict[tuple[date, str], list[ScheduledSend]] = {}
    for row in rows:
        grouped.setdefault((row.send_on, row.kind), []).append(row)
    for (day, kind), sends in sorted(grouped.items()):
        event = Event()
        event.add("uid", f"{workspace.id}-{kind}-{day.isoformat()}@cjji.example.gov.uk")
        event.add("summary", f"{LABELS[kind]}: {workspace.title} ({len(sends)})")
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("dtstamp", datetime.combine(day, time(9), LONDON))
        names = [f"{s.recipient_name} <{s.recipient_email}>" for s in sends]
        event.add("description", "\n".join(names))
        calendar.add_component(event)
    if workspace.publication_date:
        event = Event()
        event.add("uid", f"{workspace.id}-publication@cjji.example.gov.uk")
        event.add("summary", f"Publication: {workspace.title}")
        event.add("dtstart", workspace.publication_date)
        event.add("dtend", workspace.publication_date + timedelta(days=1))
        event.add("dtstamp", datetime.combine(workspace.publication_date, time(9), LONDON))
        calendar.add_component(event)
    return calendar.to_ical()


def send_due(session: Session, today: date | None = None) -> int:
    """Send every scheduled item due today or earlier, tenant by tenant; idempotent."""
    today = today or clock.today()
    set_context(session, tenant_id=None)
    tenant_ids = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    mailer = get_mailer()
    attachments = Attachments(session)
    sent = 0
    for tenant_id in tenant_ids:
        set_context(session, tenant_id=tenant_id)
        due = session.scalars(
            select(ScheduledSend).where(
                ScheduledSend.sender_tenant_id == tenant_id,
                ScheduledSend.status == "scheduled",
                ScheduledSend.send_on <= today,
            )
        ).all()
        for row in due:
            workspace = session.get(Workspace, row.workspace_id)
            if workspace is None or not row.recipient_email:
                row.status, row.delivery = "failed", "no email address"
                continue
            message = new_message(
                row.recipient_email,
                f"{LABELS[row.kind]}: {workspace.title}",
                _text(row, workspace),
            )
            attachment = attachments.get(workspace, row.kind)
            if isinstance(attachment, str):
                published = workspace.publication_date
                if row.kind in BEFORE and published is not None and published <= today:
                    # An embargoed copy or press notice is of no use once the report is out.
                    reason = attachment.removeprefix("waiting: ")
                    row.status = "failed"
                    row.delivery = f"not sent before publication on {published:%-d %B %Y}: {reason}"
                else:
                    # Kept scheduled: it goes on the first run after what it carries is agreed.
                    row.delivery = attachment
                continue
            filename, pdf = attachment
            message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
            try:
                row.delivery = mailer.send(message)
            except MailError as exc:
                row.status, row.delivery = "failed", str(exc)
                continue
            row.status, row.sent_at = "sent", utcnow()
            sent += 1
        session.flush()
    set_context(session, tenant_id=None)
    return sent


def _text(row: ScheduledSend, workspace: Workspace) -> str:
    when = workspace.publication_date.strftime("%-d %B %Y") if workspace.publication_date else ""
    if row.kind == "embargoed_copy":
        return (
            f"Dear {row.recipient_name},\n\nThe joint report “{workspace.title}” is attached "
            f"under embargo until its publication on {when}.\n"
        )
    if row.kind == "press_notice":
        return (
            f"Dear {row.recipient_name},\n\nThe press notice for “{workspace.title}”, to be "
            f"published on {when}, is attached.\n"
        )
    if row.kind == "thank_you":
        return (
            f"Dear {row.recipient_name},\n\nThank you for taking part in the joint inspection "
            f"“{workspace.title}”, published today. The report is attached.\n"
        )
    return (
        f"Dear {row.recipient_name},\n\nThe joint report “{workspace.title}” is published today; "
        "it is attached.\n"
    )


@periodic(SEND_INTERVAL_SECONDS)
@job
def send_scheduled(session: Session) -> int:
    return send_due(session)
