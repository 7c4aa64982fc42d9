"""Comments on circulated drafts (001 §39, §41; `000`: factual accuracy): each comment a
critical reader or the inspected body made, where it points, and the inspection team's
response to it, with who answered and when."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import clock
from app.db import utcnow
from shared_workspace.models import Workspace
from shared_workspace.publication.media import MediaError
from shared_workspace.publication.models import Circulation, CirculationComment
from tenants.models import User

OUTCOMES = {
    "accepted": "Accepted: the draft is changed",
    "partially_accepted": "Partially accepted",
    "not_accepted": "Not accepted",
}
MAX_TEXT = 20_000


def _participant(workspace: Workspace, user: User) -> None:
    if user.tenant_id not in {p.tenant_id for p in workspace.participants}:
        raise MediaError("Your inspectorate does not take part in this inspection")


def add_comment(
    session: Session,
    workspace: Workspace,
    circulation: Circulation,
    user: User,
    *,
    text: str,
    source: str = "",
    reference: str = "",
    received_on: date | None = None,
) -> CirculationComment:
    """Record one comment received on the circulated draft; the first comment also records
    that the reader replied. Nothing is stored when an input is wrong."""
    _participant(workspace, user)
    if circulation.workspace_id != workspace.id:
        raise MediaError("That circulation belongs to another inspection", "circulation_id")
    text = text.strip()
    if not text:
        raise MediaError("Write the comment as it was made", "text")
    if len(text) > MAX_TEXT:
        raise MediaError(f"A comment is at most {MAX_TEXT:,} characters", "text")
    received_on = received_on or clock.today()
    if received_on < circulation.sent_on:
        raise MediaError(
            f"The draft went out on {circulation.sent_on:%-d %B %Y}: a comment on it cannot "
            "have arrived before that",
            "received_on",
        )
    if received_on > clock.today():
        raise MediaError("A comment cannot be received in the future", "received_on")
    default_source = circulation.recipient + (
        f", {circulation.organisation}" if circulation.organisation else ""
    )
    row = CirculationComment(
        workspace_id=workspace.id,
        circulation_id=circulation.id,
        text=text,
        source=(source.strip() or default_source)[:300],
        reference=reference.strip()[:300],
        received_on=received_on,
        recorded_by=user,
    )
    session.add(row)
    if circulation.responded_on is None:
        circulation.responded_on = received_on
    session.flush()
    return row


def respond(
    session: Session,
    workspace: Workspace,
    comment: CirculationComment,
    user: User,
    *,
    outcome: str,
    response: str,
) -> CirculationComment:
    """Record the team's response to one comment (a later response replaces it; the audit log
    keeps the earlier one)."""
    _participant(workspace, user)
    if comment.workspace_id != workspace.id:
        raise MediaError("That comment belongs to another inspection", "comment_id")
    if outcome not in OUTCOMES:
        raise MediaError("Say whether the comment is accepted, partially or not", "outcome")
    response = response.strip()
    if not response:
        reason = "what changes" if outcome == "accepted" else "why"
        raise MediaError(f"Write the response to the comment: say {reason}", "response")
    if len(response) > MAX_TEXT:
        raise MediaError(f"A response is at most {MAX_TEXT:,} characters", "response")
    comment.outcome, comment.response = outcome, response
    comment.responded_by, comment.responded_at = user, utcnow()
    session.flush()
    return comment


def comments(session: Session, circulation: Circulation) -> list[CirculationComment]:
    """The circulation's comments in the order they were received."""
    return list(
        session.scalars(
            select(CirculationComment)
            .where(
                CirculationComment.workspace_id == circulation.workspace_id,
                CirculationComment.circulation_id == circulation.id,
            )
            .order_by(CirculationComment.received_on, CirculationComment.id)
        )
    )


def open_counts(session: Session, workspace: Workspace) -> dict[int, tuple[int, int]]:
    """Per circulation: (comments, comments still without a response), in one query."""
    counts: dict[int, tuple[int, int]] = {}
    for circulation_id, outcome in session.execute(
        select(CirculationComment.circulation_id, CirculationComment.outcome).where(
            CirculationComment.workspace_id == workspace.id
        )
    ):
        total, waiting = counts.get(circulation_id, (0, 0))
        counts[circulation_id] = (total + 1, waiting + (outcome is None))
    return counts
