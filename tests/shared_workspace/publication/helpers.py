"""Plain helpers for the publication tests: sites, letters, authority, nominations, the
outbox and moving the clock to a London morning."""

from __future__ import annotations

from datetime import date, datetime, time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Flask

from app.clock import LONDON, clock
from app.mail import OutboxMailer
from tests.shared_workspace.fixtures import Inspectorate


def travel(day: date, at: time = time(9)) -> None:
    """Move the clock to ``at`` on ``day`` in London (the autouse fixture resets it)."""
    clock.reset()
    clock.advance(datetime.combine(day, at, LONDON) - clock.now())


def site(lead: Inspectorate, ws: int, starts: date | None, name: str = "HMP Manchester") -> int:
    body: dict[str, Any] = {"name": name, "body_type": "prison"}
    if starts is not None:
        body["fieldwork_starts_on"] = str(starts)
    response = lead.call("POST", f"/api/v1/workspaces/{ws}/sites", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def letter(lead: Inspectorate, ws: int, site_id: int, **extra: Any) -> dict[str, Any]:
    body = {
        "addressee_name": "Ann Bell",
        "addressee_role": "Governor",
        "addressee_email": "ann.bell@justice.gov.uk",
        "title": "Joint inspection of resettlement",
        "body": "<p>We will inspect resettlement at your prison.</p>",
        "site_id": site_id,
    }
    body.update(extra)
    response = lead.call("POST", f"/api/v1/workspaces/{ws}/letters", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def decision_of(party: Inspectorate, ws: int, kind: str) -> dict[str, Any]:
    decisions = party.call("GET", f"/api/v1/workspaces/{ws}/decisions").get_json()
    return next(d for d in decisions if d["kind"] == kind)


def authorise(parties: list[Inspectorate], ws: int, letter_id: int) -> None:
    parties[0].call("POST", f"/api/v1/workspaces/{ws}/letters/{letter_id}/authority")
    decision = decision_of(parties[0], ws, "commissioning_letters")
    for party in parties:
        response = party.call(
            "POST",
            f"/api/v1/workspaces/{ws}/decisions/{decision['id']}/answer",
            {"approve": True},
        )
        assert response.status_code == 200, response.get_json()


def outbox(app: Flask) -> OutboxMailer:
    return OutboxMailer(Path(app.extensions["config"].instance_path) / "outbox")


def new_mail(app: Flask, before: list[Path]) -> list[EmailMessage]:
    """Messages the outbox gained since ``before`` (the outbox lives as long as the app)."""
    seen = set(before)
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in outbox(app).messages()
        if path not in seen
    ]


def nominate(
    party: Inspectorate, ws: int, rows: list[dict[str, Any]], purpose: str = "publication"
) -> None:
    ids = []
    for row in rows:
        entry = party.call("POST", "/api/v1/stakeholders", row)
        assert entry.status_code == 201, entry.get_json()
        ids.append(entry.get_json()["id"])
    response = party.call(
        "POST",
        f"/api/v1/workspaces/{ws}/stakeholders/nominations",
        {"entry_ids": ids, "purpose": purpose},
    )
    assert response.status_code in (200, 201), response.get_json()


def person(given: str, family: str, organisation: str, email: str, category: str) -> dict[str, Any]:
    return {
        "given_name": given,
        "family_name": family,
        "organisation": organisation,
        "emails": [email],
        "category": category,
    }


def sign_off_report(parties: list[Inspectorate], ws: int) -> int:
    """The final report, signed off by every inspectorate's chief inspector (§40)."""
    lead = parties[0]
    report = lead.call(
        "POST",
        f"/api/v1/workspaces/{ws}/documents",
        {
            "kind": "report",
            "title": "Joint inspection of resettlement",
            "sections": [{"title": "Summary", "body": "<p>Findings.</p>"}],
        },
    )
    assert report.status_code == 201, report.get_json()
    proposed = lead.call(
        "POST",
        f"/api/v1/workspaces/{ws}/decisions",
        {"kind": "final_report", "subject_id": report.get_json()["subject_id"]},
    )
    assert proposed.status_code == 201, proposed.get_json()
    for party in parties:
        answered = party.call(
            "POST",
            f"/api/v1/workspaces/{ws}/decisions/{proposed.get_json()['id']}/answer",
            {"approve": True},
        )
        assert answered.status_code == 200, answered.get_json()
    return report.get_json()["id"]
