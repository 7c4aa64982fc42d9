"""JSON API for letters, the media strategy, circulations, the publication schedule and the
recommendations tracker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Response, jsonify
from marshmallow import Schema, fields, validate

from app.api import api, dump, operation, parse_body
from app.api.errors import ApiError
from app.api.schemas import StrictSchema
from app.db import get_session
from shared_workspace.api import _in, _me, _rules, _workspace
from shared_workspace.documents.models import Document
from shared_workspace.models import Site
from shared_workspace.publication import circulations, letters, media, schedule, tracker
from shared_workspace.publication.models import Circulation, Letter, Recommendation

TAGS = ["publication"]
ID = fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1))


@contextmanager
def _checks() -> Iterator[None]:
    try:
        with _rules():
            yield
    except letters.NotSendable as exc:
        raise ApiError(409, "Conflict", str(exc), errors={"send": exc.reasons}) from None
    except (letters.LetterError, media.MediaError, tracker.TrackerError) as exc:
        raise ApiError(
            422, "Unprocessable Content", str(exc), errors={exc.field: [str(exc)]}
        ) from None
    except schedule.ScheduleError as exc:
        raise ApiError(409, "Conflict", str(exc)) from None


class LetterInSchema(StrictSchema):
    addressee_name = fields.String(required=True, validate=validate.Length(1, 200))
    addressee_role = fields.String(load_default="", validate=validate.Length(0, 200))
    addressee_email = fields.String(load_default="", validate=validate.Length(0, 320))
    title = fields.String(load_default="", validate=validate.Length(0, 300))
    body = fields.String(load_default="", validate=validate.Length(0, 200_000))
    site_id = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(1, 2**31 - 1),
        error_messages={
            "required": "Choose the inspected site the letter is about (one letter per site "
            "and addressee)"
        },
    )


class LetterSchema(Schema):
    id = fields.Integer()
    site_id = fields.Integer()
    document_id = fields.Integer()
    addressee_name = fields.String()
    addressee_role = fields.String()
    addressee_email = fields.String()
    title = fields.String()
    dated_on = fields.Date(allow_none=True)
    status = fields.String()
    sent_at = fields.DateTime(allow_none=True)
    delivery = fields.String()


class StrategyInSchema(StrictSchema):
    launch = fields.String(validate=validate.OneOf(["soft", "proactive"]))
    key_messages = fields.String(validate=validate.Length(0, 20_000))
    quoted = fields.List(
        fields.String(validate=validate.Length(1, 40)), validate=validate.Length(0, 20)
    )
    interview_bids = fields.String(validate=validate.OneOf(["lead_only", "spread"]))
    spokespeople = fields.String(validate=validate.Length(0, 5000))
    briefings = fields.String(validate=validate.Length(0, 5000))
    post_publication = fields.String(validate=validate.Length(0, 5000))


class StrategySchema(Schema):
    launch = fields.String()
    key_messages = fields.String()
    quoted_tenant_ids = fields.List(fields.Integer())
    interview_bids = fields.String()
    spokespeople = fields.String()
    briefings = fields.String()
    post_publication = fields.String()
    subject_id = fields.Integer(allow_none=True)
    press_notice_id = fields.Integer(allow_none=True)
    missing = fields.List(fields.String())


class PressNoticeSchema(Schema):
    document_id = fields.Integer(attribute="id")
    title = fields.String()
    kind = fields.String()
    version = fields.Integer(attribute="head_number")
    subject_id = fields.Integer()


class CirculationInSchema(StrictSchema):
    document_id = ID
    recipient = fields.String(required=True, validate=validate.Length(1, 300))
    organisation = fields.String(load_default="", validate=validate.Length(0, 300))
    kind = fields.String(
        load_default="critical_reader",
        validate=validate.OneOf(["critical_reader", "inspected_body"]),
    )
    scope = fields.String(
        load_default="factual_accuracy", validate=validate.OneOf(["factual_accuracy", "wider"])
    )
    sent_on = fields.Date(required=True)
    working_days = fields.Integer(strict=True, load_default=10, validate=validate.Range(1, 60))


class CirculationSchema(Schema):
    id = fields.Integer()
    document_id = fields.Integer()
    version_number = fields.Integer()
    recipient = fields.String()
    organisation = fields.String()
    kind = fields.String()
    scope = fields.String()
    sent_on = fields.Date()
    working_days = fields.Integer()
    due_on = fields.Date()
    responded_on = fields.Date(allow_none=True)
    #: In the list only: comments recorded, and how many still have no response.
    comments = fields.Integer(dump_only=True)
    awaiting_response = fields.Integer(dump_only=True)


class ResponseDateSchema(StrictSchema):
    responded_on = fields.Date(required=True)


class SendSchema(Schema):
    kind = fields.String()
    delivery = fields.String()
    sender = fields.Function(lambda s: s.sender.slug)
    recipient_name = fields.String()
    recipient_email = fields.String()
    send_on = fields.Date()
    status = fields.String()


class ScheduleSchema(Schema):
    publication_date = fields.Date(allow_none=True)
    warning = fields.String(allow_none=True)
    sends = fields.List(fields.Nested(SendSchema))


class RecommendationInSchema(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(1, 5000))
    organisation = fields.String(required=True, validate=validate.Length(1, 300))
    kind = fields.String(validate=validate.OneOf(["recommendation", "concern", "issue_to_address"]))
    measure = fields.String(load_default="", validate=validate.Length(0, 5000))
    due_on = fields.Date(load_default=None)
    evidence = fields.String(load_default="", validate=validate.Length(0, 5000))
    report_section = fields.String(load_default="", validate=validate.Length(0, 300))


class RecommendationResponseInSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(list(tracker.STATUSES)))
    action_taken = fields.String(required=True, validate=validate.Length(1, 5000))
    responded_on = fields.Date(required=True)


class RecommendationSchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    kind = fields.String()
    priority = fields.Function(lambda r: tracker.PRIORITY[r.kind])
    text = fields.String()
    organisation = fields.String()
    responsible = fields.Function(lambda r: r.responsible.slug)
    measure = fields.String()
    due_on = fields.Date(allow_none=True)
    evidence = fields.String()
    report_section = fields.String()


@api.get("/workspaces/<int:workspace_id>/letters")
@operation(summary="The letter register", tags=TAGS, response=LetterSchema, many=True)
def list_letters(workspace_id: int) -> Response:
    return dump(LetterSchema(many=True), letters.register(get_session(), _workspace(workspace_id)))


@api.post("/workspaces/<int:workspace_id>/letters")
@operation(
    summary="Draft a commissioning letter (lead only)",
    tags=TAGS,
    body=LetterInSchema,
    response=LetterSchema,
    status=201,
    scope="write",
)
def create_letter(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(LetterInSchema())
    site = _in(Site, workspace, data.pop("site_id"))
    with _checks():
        letter = letters.create_letter(get_session(), workspace, _me(), site=site, **data)
    return dump(LetterSchema(), letter, 201)


@api.post("/workspaces/<int:workspace_id>/letters/<int:letter_id>/authority")
@operation(
    summary="Ask every development group representative to authorise it (§17)",
    tags=TAGS,
    response=LetterSchema,
    scope="write",
)
def request_authority(workspace_id: int, letter_id: int) -> Response:
    workspace = _workspace(workspace_id)
    letter = _in(Letter, workspace, letter_id)
    with _checks():
        letters.request_authority(get_session(), workspace, letter, _me())
    return dump(LetterSchema(), letter)


@api.post("/workspaces/<int:workspace_id>/letters/<int:letter_id>/send")
@operation(
    summary="Send it today, if authorised and six weeks before fieldwork (§16-17)",
    tags=TAGS,
    response=LetterSchema,
    status=202,
    scope="write",
)
def send_letter(workspace_id: int, letter_id: int) -> Response:
    workspace = _workspace(workspace_id)
    letter = _in(Letter, workspace, letter_id)
    with _checks():
        letters.send(get_session(), workspace, letter, _me())
    return dump(LetterSchema(), letter, 202)


@api.get("/workspaces/<int:workspace_id>/media-strategy")
@operation(summary="The consolidated media strategy", tags=TAGS, response=StrategySchema)
def get_strategy(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    db = get_session()
    row = media.strategy(db, workspace)
    body = StrategySchema().dump(row) if row else {}
    body["missing"] = media.missing_voices(db, workspace)
    return _json(body)


def _json(body: dict) -> Response:  # type: ignore[type-arg]
    return jsonify(body)


@api.put("/workspaces/<int:workspace_id>/media-strategy")
@operation(
    summary="Draft or change the media strategy (lead only; voids approvals)",
    tags=TAGS,
    body=StrategyInSchema,
    response=StrategySchema,
    scope="write",
)
def save_strategy(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(StrategyInSchema())
    if "quoted" in data:
        slugs = {p.tenant.slug: p.tenant_id for p in workspace.participants}
        unknown = [s for s in data["quoted"] if s not in slugs]
        if unknown:
            raise ApiError(
                422,
                "Unprocessable Content",
                "Not participating: " + ", ".join(unknown),
                errors={"quoted": unknown},
            )
        data["quoted_tenant_ids"] = sorted({slugs[s] for s in data.pop("quoted")})
    with _checks():
        row = media.save_strategy(get_session(), workspace, _me(), data)
    body = StrategySchema().dump(row)
    body["missing"] = media.missing_voices(get_session(), workspace)
    return _json(body)


@api.post("/workspaces/<int:workspace_id>/media-strategy/press-notice")
@operation(
    summary="The lead drafts the press notice, a co-edited document (§45); idempotent",
    tags=TAGS,
    response=PressNoticeSchema,
    status=201,
    scope="write",
)
def draft_press_notice(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    with _checks():
        document = media.draft_press_notice(get_session(), workspace, _me())
    return dump(PressNoticeSchema(), document, 201)


@api.get("/workspaces/<int:workspace_id>/circulations")
@operation(
    summary="Drafts sent to critical readers and the inspected body",
    tags=TAGS,
    response=CirculationSchema,
    many=True,
)
def list_circulations(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    db = get_session()
    counts = circulations.open_counts(db, workspace)
    rows = CirculationSchema(many=True).dump(media.circulations(db, workspace))
    for row in rows:
        row["comments"], row["awaiting_response"] = counts.get(row["id"], (0, 0))
    return jsonify(rows)


@api.post("/workspaces/<int:workspace_id>/circulations")
@operation(
    summary="Record who received which draft and by when they reply (working days)",
    tags=TAGS,
    body=CirculationInSchema,
    response=CirculationSchema,
    status=201,
    scope="write",
)
def circulate(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(CirculationInSchema())
    if "document_id" not in data:
        raise ApiError(
            422,
            "Unprocessable Content",
            "Name the draft document",
            errors={"document_id": ["Required"]},
        )
    document = _in(Document, workspace, data.pop("document_id"))
    with _checks():
        row = media.circulate(get_session(), workspace, _me(), document=document, **data)
    return dump(CirculationSchema(), row, 201)


@api.post("/workspaces/<int:workspace_id>/circulations/<int:circulation_id>/response")
@operation(
    summary="Record that the reader replied",
    tags=TAGS,
    body=ResponseDateSchema,
    response=CirculationSchema,
    scope="write",
)
def circulation_response(workspace_id: int, circulation_id: int) -> Response:
    workspace = _workspace(workspace_id)
    row = _in(Circulation, workspace, circulation_id)
    data = parse_body(ResponseDateSchema())
    media.record_response(get_session(), row, data["responded_on"])
    return dump(CirculationSchema(), row)


@api.get("/workspaces/<int:workspace_id>/publication-schedule")
@operation(summary="Who sends what to whom, and when", tags=TAGS, response=ScheduleSchema)
def get_schedule(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    return dump(ScheduleSchema(), _schedule_body(workspace))


def _schedule_body(workspace) -> dict:  # type: ignore[no-untyped-def, type-arg]
    warning = (
        media.working_day_warning(workspace.publication_date)
        if workspace.publication_date
        else None
    )
    return {
        "publication_date": workspace.publication_date,
        "warning": warning,
        "sends": schedule.schedule(get_session(), workspace),
    }


@api.post("/workspaces/<int:workspace_id>/publication-schedule")
@operation(
    summary="Build the schedule from the consolidated list (lead only)",
    tags=TAGS,
    response=ScheduleSchema,
    scope="write",
)
def build_schedule(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    if _me().tenant_id != workspace.lead_tenant_id:
        raise ApiError(
            422,
            "Unprocessable Content",
            "Only the lead inspectorate builds the publication schedule",
        )
    with _checks():
        schedule.build(get_session(), workspace)
    return dump(ScheduleSchema(), _schedule_body(workspace))


@api.get("/workspaces/<int:workspace_id>/recommendations")
@operation(
    summary="The recommendations tracker", tags=TAGS, response=RecommendationSchema, many=True
)
def list_recommendations(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    return dump(
        RecommendationSchema(many=True), [r for r, _ in tracker.rows(get_session(), workspace.id)]
    )


@api.post("/workspaces/<int:workspace_id>/recommendations")
@operation(
    summary="Add a recommendation (SMART: a measure and a date)",
    tags=TAGS,
    body=RecommendationInSchema,
    response=RecommendationSchema,
    status=201,
    scope="write",
)
def add_recommendation(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(RecommendationInSchema())
    with _checks():
        row = tracker.add(get_session(), workspace, _me(), **data)
    return dump(RecommendationSchema(), row, 201)


@api.post("/workspaces/<int:workspace_id>/recommendations/<int:recommendation_id>/responses")
@operation(
    summary="Record the organisation's response or a progress update (§46)",
    tags=TAGS,
    body=RecommendationResponseInSchema,
    status=201,
    scope="write",
)
def respond(workspace_id: int, recommendation_id: int) -> Response:
    workspace = _workspace(workspace_id)
    row = _in(Recommendation, workspace, recommendation_id)
    data = parse_body(RecommendationResponseInSchema())
    with _checks():
        tracker.respond(get_session(), row, **data)
    return Response(status=201)


@api.post("/workspaces/<int:workspace_id>/recommendations/import")
@operation(
    summary="Import recommendations from CSV (text, organisation, measure, due, kind); bad rows "
    "named",
    tags=TAGS,
    status=201,
    scope="write",
)
def import_recommendations(workspace_id: int) -> Response:
    from datetime import date

    from flask import request

    workspace = _workspace(workspace_id)
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(422, "Unprocessable Content", "Send the CSV in a field called file")
    data = upload.stream.read(2 * 1024 * 1024 + 1)
    if len(data) > 2 * 1024 * 1024:
        raise ApiError(413, "Content Too Large", "The file is over the 2 MB limit")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, "Unprocessable Content", "Save the file as CSV UTF-8") from None
    good, problems = tracker.parse_import(text)
    added = 0
    for row in good:
        due = (row.get("due") or "").strip()
        try:
            with _checks():
                tracker.add(
                    get_session(),
                    workspace,
                    _me(),
                    text=row["text"],
                    organisation=row["organisation"],
                    kind=row["kind"] or None,
                    measure=row.get("measure") or "",
                    due_on=date.fromisoformat(due) if due else None,
                )
        except ApiError as exc:
            problems.append(f"{row['text'][:40]}: {exc.detail}")
            continue
        added += 1
    return _json({"added": added, "problems": problems})


# Registered here so the package's routes are all imported with this module.
from shared_workspace.publication import circulations_api as _circulations_api  # noqa: E402, F401
