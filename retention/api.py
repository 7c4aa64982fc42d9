"""JSON API for an inspectorate's retention: its rules (every member of staff reads them;
records managers add versions), and the records managers' holds, review and transfer tasks,
dry-run preview and destruction certificates. The workspace routes are in workspace_api.py.

A broken rule answers 422 naming the field (409 when the state forbids it), a missing role
403 with the reason, and anything of another inspectorate 404 as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, request
from flask_login import current_user
from marshmallow import Schema
from marshmallow.experimental.context import Context

from app.api import api, dump, is_api_request, operation, parse_body
from app.api.errors import ApiError
from app.clock import clock
from app.db import get_session
from app.tenancy import MAX_ID, get_or_404
from retention import actions, holds, queries, service
from retention.models import Certificate, Hold, MaterialType, Schedule
from retention.rules import RetentionError, RuleError
from retention.schemas import (
    CertificateDetailSchema,
    CertificatePageSchema,
    HoldInSchema,
    HoldReleasedSchema,
    HoldReleaseSchema,
    HoldSchema,
    PreviewQuerySchema,
    PreviewSchema,
    RetentionClaimSchema,
    RetentionRuleInSchema,
    RetentionRuleSchema,
    ReviewInSchema,
    SettingsInSchema,
    SettingsSchema,
)
from shared_workspace.decisions import DecisionError
from shared_workspace.models import Workspace
from shared_workspace.service import WorkspaceError
from tenants.models import Role, User

TAGS = ["retention"]
F = TypeVar("F", bound=Callable[..., Any])
RECORDS_MANAGERS_ONLY = "Only your inspectorate's records managers manage retention"


def me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def records_managers_only(view: F) -> F:
    """Refuse (403, with the reason) anyone who is not a records manager of their tenant."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.has_role(Role.RECORDS_MANAGER):
            if is_api_request():
                raise ApiError(403, "Forbidden", RECORDS_MANAGERS_ONLY)
            abort(403)
        return view(*args, **kwargs)

    guarded.required_roles = (Role.RECORDS_MANAGER,)  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


@contextmanager
def retention_rules() -> Iterator[None]:
    """A broken retention rule becomes its problem answer."""
    try:
        yield
    except PermissionError as exc:
        raise ApiError(403, "Forbidden", str(exc)) from None
    except (RuleError, RetentionError) as exc:
        if exc.field:
            raise ApiError(
                422, "Unprocessable Content", str(exc), errors={exc.field: [str(exc)]}
            ) from None
        raise ApiError(409, "Conflict", str(exc), errors={"_rule": [str(exc)]}) from None
    except (WorkspaceError, DecisionError) as exc:
        message = str(exc)
        raise ApiError(422, "Unprocessable Content", message, errors={"_rule": [message]}) from None
    except (KeyError, IndexError):
        raise
    except LookupError:
        raise ApiError(404, "Not Found") from None


def workspace_of(workspace_id: int) -> Workspace:
    return get_or_404(get_session(), Workspace, workspace_id)


def require_lead(workspace: Workspace, action: str) -> None:
    """Only the lead inspectorate's staff may; others get 403 with the reason."""
    if me().tenant_id != workspace.lead_tenant_id:
        message = f"Only the lead inspectorate ({workspace.lead_tenant.name}) can {action}"
        if is_api_request():
            raise ApiError(403, "Forbidden", message)
        abort(403)


def hold_of(hold_id: int) -> Hold:
    return get_or_404(get_session(), Hold, hold_id)


def own_claim(schedule_id: int) -> Schedule:
    """One of the user's inspectorate's claims; another's (even on joint material) is 404."""
    claim = get_or_404(get_session(), Schedule, schedule_id)
    if claim.tenant_id != me().tenant_id:
        raise ApiError(404, "Not Found")
    return claim


def certificate_of(certificate_id: int) -> Certificate:
    return get_or_404(get_session(), Certificate, certificate_id)


def known_item(material_type: str, material_id: int) -> bool:
    """Whether a URL names an item that could exist (a known type, an id in range)."""
    return material_type in {m.value for m in MaterialType} and 0 < material_id <= MAX_ID


def dump_with(schema: Schema, obj: Any, status: int = 200, **context: Any) -> Response:
    """Dump with what the schemas' computed fields need (tenant names, explanations...)."""
    with Context(context):
        return dump(schema, obj, status)


def current_ids(tenant_id: int) -> set[int]:
    today = clock.today()
    return {
        r.id for r in actions.current_rules(get_session(), tenant_id) if r.effective_from <= today
    }


# --- rules ---------------------------------------------------------------------------------


@api.get("/retention/rules")
@operation(
    summary="Your inspectorate's retention rules, every version (status: current, future or "
    "superseded)",
    tags=TAGS,
    response=RetentionRuleSchema,
    many=True,
    scope="read",
)
def list_retention_rules() -> Response:
    tenant_id = me().tenant_id
    rules = queries.rule_versions(get_session(), tenant_id)
    return dump_with(RetentionRuleSchema(many=True), rules, current=current_ids(tenant_id))


@api.post("/retention/rules")
@records_managers_only
@operation(
    summary="Add a version of one of your inspectorate's rules, applying from a date; every "
    "open schedule is recomputed",
    tags=TAGS,
    body=RetentionRuleInSchema,
    response=RetentionRuleSchema,
    status=201,
    scope="write",
)
def add_retention_rule() -> Response:
    data = parse_body(RetentionRuleInSchema())
    with retention_rules():
        rule = actions.add_rule(get_session(), me(), data)
    return dump_with(RetentionRuleSchema(), rule, 201, current=current_ids(rule.tenant_id))


@api.get("/retention/settings")
@records_managers_only
@operation(
    summary="Your inspectorate's retention settings (how many days ahead destruction is warned)",
    tags=TAGS,
    response=SettingsSchema,
    scope="read",
)
def get_retention_settings() -> Response:
    days = service.warning_days(get_session(), me().tenant)
    return dump(SettingsSchema(), {"warning_days": days})


@api.put("/retention/settings")
@records_managers_only
@operation(
    summary="Set how many days ahead records managers and lead inspectors hear of destruction",
    tags=TAGS,
    body=SettingsInSchema,
    response=SettingsSchema,
    scope="write",
)
def put_retention_settings() -> Response:
    data = parse_body(SettingsInSchema())
    with retention_rules():
        days = service.set_warning_days(get_session(), me(), data["warning_days"])
    return dump(SettingsSchema(), {"warning_days": days})


# --- holds ---------------------------------------------------------------------------------


@api.get("/retention/holds")
@records_managers_only
@operation(
    summary="Your inspectorate's holds, active first (?active=true|false)",
    tags=TAGS,
    response=HoldSchema,
    many=True,
    scope="read",
)
def list_retention_holds() -> Response:
    wanted = {"true": True, "false": False}.get(request.args.get("active", ""))
    return dump(HoldSchema(many=True), queries.holds(get_session(), me().tenant_id, active=wanted))


@api.post("/retention/holds")
@records_managers_only
@operation(
    summary="Hold an item, a workspace or all your inspectorate's material (reason and review "
    "date needed); nothing held is destroyed",
    tags=TAGS,
    body=HoldInSchema,
    response=HoldSchema,
    status=201,
    scope="write",
)
def place_retention_hold() -> Response:
    data = parse_body(HoldInSchema())
    with retention_rules():
        hold = holds.place_hold(get_session(), me(), **data)
    return dump(HoldSchema(), hold, 201)


@api.post("/retention/holds/<int:hold_id>/release")
@records_managers_only
@operation(
    summary="Release a hold (reason needed); what it kept is due again at once if its date "
    "has passed",
    tags=TAGS,
    body=HoldReleaseSchema,
    response=HoldReleasedSchema,
    scope="write",
)
def release_retention_hold(hold_id: int) -> Response:
    hold = hold_of(hold_id)
    data = parse_body(HoldReleaseSchema())
    with retention_rules():
        due_now = holds.release_hold(get_session(), me(), hold, data["reason"])
    return dump(HoldReleasedSchema(), {"hold": hold, "due_now": due_now})


# --- reviews -------------------------------------------------------------------------------


@api.get("/retention/reviews")
@records_managers_only
@operation(
    summary="Review and transfer tasks: your inspectorate's claims waiting for a records "
    "manager (at most 1,000, oldest first)",
    tags=TAGS,
    response=RetentionClaimSchema,
    many=True,
    scope="read",
)
def list_retention_tasks() -> Response:
    db = get_session()
    tasks = service.review_tasks(db, me().tenant_id)
    return dump_with(RetentionClaimSchema(many=True), tasks, names=service.tenant_names(db))


@api.post("/retention/schedules/<int:schedule_id>/review")
@records_managers_only
@operation(
    summary="Answer a task: extend (new_date, reason), destroy (approve destruction) or "
    "transferred (confirm the transfer)",
    tags=TAGS,
    body=ReviewInSchema,
    response=RetentionClaimSchema,
    scope="write",
)
def answer_retention_task(schedule_id: int) -> Response:
    claim = own_claim(schedule_id)
    data = parse_body(ReviewInSchema())
    with retention_rules():
        actions.review(get_session(), me(), claim, **data)
    return dump_with(RetentionClaimSchema(), claim, names=service.tenant_names(get_session()))


# --- preview -------------------------------------------------------------------------------


def run_preview(days: int, workspace_id: int | None) -> dict[str, Any]:
    db = get_session()
    if workspace_id is not None:
        workspace_of(workspace_id)
    with retention_rules():
        found = service.preview(db, me().tenant_id, days, workspace_id)
    return {
        "days": days,
        "until": clock.today() + timedelta(days=days),
        "workspace_id": workspace_id,
        "due_count": len(found["due"]),
        "held_count": len(found["held"]),
        **found,
    }


@api.get("/retention/preview")
@records_managers_only
@operation(
    summary="Dry run: what your inspectorate's sweeps of the next ?days=N days destroy, and "
    "what holds keep (?workspace=ID narrows it); nothing changes",
    tags=TAGS,
    response=PreviewSchema,
    scope="read",
)
def retention_preview() -> Response:
    query = PreviewQuerySchema().load(request.args.to_dict())
    result = run_preview(query["days"], query["workspace"])
    return dump_with(PreviewSchema(), result, names=service.tenant_names(get_session()))


# --- certificates --------------------------------------------------------------------------


@api.get("/retention/certificates")
@records_managers_only
@operation(
    summary="Your inspectorate's destruction certificates, newest first (cursor, limit)",
    tags=TAGS,
    response=CertificatePageSchema,
    scope="read",
)
def list_destruction_certificates() -> Response:
    page = queries.certificates_page(
        get_session(),
        me().tenant_id,
        cursor=request.args.get("cursor"),
        limit=queries.page_size(request.args.get("limit")),
    )
    return dump(
        CertificatePageSchema(),
        {
            "certificates": page.rows,
            "total": page.total,
            "total_is_capped": page.total_is_capped,
            "next_cursor": page.next_cursor,
        },
    )


@api.get("/retention/certificates/<int:certificate_id>")
@records_managers_only
@operation(
    summary="A destruction certificate and its tombstones, in id order (cursor, limit), and "
    "whether they still hash to its digest",
    tags=TAGS,
    response=CertificateDetailSchema,
    scope="read",
)
def get_destruction_certificate(certificate_id: int) -> Response:
    from retention.sweep import certificate_digest

    db = get_session()
    certificate = certificate_of(certificate_id)
    page = queries.tombstones_page(
        db,
        certificate,
        cursor=request.args.get("cursor"),
        limit=queries.page_size(request.args.get("limit")),
    )
    verified = (
        certificate.state == "complete"
        and certificate_digest(db, certificate.id)[0] == certificate.digest
    )
    return dump_with(
        CertificateDetailSchema(),
        {
            "certificate": certificate,
            "digest_verified": verified,
            "tombstones": page.rows,
            "next_cursor": page.next_cursor,
        },
        names=service.tenant_names(db),
    )
