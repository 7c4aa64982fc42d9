"""marshmallow schemas for retention: API input and output, and the records managers' forms.

Choices are checked here with the same words the rules use, so the API and the forms answer
alike; the rules themselves (retention.rules, retention.holds) check everything again.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema
from marshmallow.experimental.context import Context

from app.api.schemas import StrictSchema
from app.clock import clock
from app.forms import FormSchema
from retention.models import (
    ACTION_LABELS,
    EVENTS,
    HOLD_REASONS,
    SENSITIVITIES,
    TRIGGER_LABELS,
    Action,
    HoldScope,
    MaterialType,
    RetentionRule,
    Schedule,
    Trigger,
    Unit,
)
from retention.rules import class_label, describe_rule, known_classes

_ID = validate.Range(1, 2**31 - 1, error="Give the id of one of your inspectorate's records")
_DATE_ERRORS = {
    "invalid": "Enter a real date, for example 2027-04-01",
    "required": "Enter a date",
    "null": "Enter a date",
}
OUTCOMES = ("extend", "destroy", "transferred")
MATERIAL_TYPE_LABELS = {
    MaterialType.EVIDENCE_FILE.value: "Evidence file",
    MaterialType.DOCUMENT.value: "Document",
    MaterialType.PRIVATE_NOTE.value: "Private note",
}


def _context(key: str, default: Any) -> Any:
    """What the route dumping the data supplied (``with Context({...})``): tenant names,
    explanations, held claims, the rule versions in effect."""
    return Context.get({}).get(key, default)


def _one_of(choices: Any, message: str) -> validate.OneOf:
    return validate.OneOf(list(choices), error=message)


# --- rules ---------------------------------------------------------------------------------


class _RuleFields:
    material_class = fields.String(
        required=True,
        validate=_one_of(known_classes(), "Choose a class of material from the list"),
    )
    sensitivity = fields.String(
        load_default="any",
        validate=_one_of(SENSITIVITIES, "Sensitivity must be any, standard or sensitive"),
    )
    trigger = fields.String(
        required=True,
        validate=_one_of(
            [t.value for t in Trigger],
            "Choose what starts the clock: publication, upload, closure or an event",
        ),
    )
    event_name = fields.String(
        load_default="",
        validate=_one_of(["", *EVENTS], "Choose which confirmed event starts the clock"),
    )
    offset_unit = fields.String(
        load_default=Unit.DAYS.value,
        validate=_one_of([u.value for u in Unit], "The offset is counted in days, months or years"),
    )
    action = fields.String(
        required=True,
        validate=_one_of(
            [a.value for a in Action], "Choose an action: destroy, review, retain or transfer"
        ),
    )
    effective_from = fields.Date(required=True, error_messages=_DATE_ERRORS)
    note = fields.String(
        load_default="",
        validate=validate.Length(0, 2000, error="Keep the note to 2,000 characters"),
    )


class RetentionRuleInSchema(_RuleFields, StrictSchema):
    offset_amount = fields.Integer(
        load_default=0,
        strict=True,
        error_messages={"invalid": "The offset must be a whole number, e.g. -1 or 3"},
    )


class RuleFormSchema(_RuleFields, FormSchema):
    offset_amount = fields.Integer(
        load_default=0,
        error_messages={"invalid": "Enter the offset as a whole number, for example -1 or 3"},
    )


class RetentionRuleSchema(Schema):
    """A rule version; ``status`` says whether it is the one in effect today (context:
    ``current``, the ids of the versions in effect)."""

    id = fields.Integer()
    material_class = fields.String()
    class_label = fields.Function(lambda r: class_label(r.material_class))
    sensitivity = fields.String()
    trigger = fields.String(metadata={"enum": [t.value for t in Trigger]})
    event_name = fields.String()
    offset_amount = fields.Integer()
    offset_unit = fields.String(metadata={"enum": [u.value for u in Unit]})
    action = fields.String(metadata={"enum": [a.value for a in Action]})
    effective_from = fields.Date()
    note = fields.String()
    description = fields.Function(describe_rule)
    status = fields.Method("_status", metadata={"enum": ["current", "future", "superseded"]})
    created_at = fields.DateTime()

    def _status(self, rule: RetentionRule) -> str:
        if rule.effective_from > clock.today():
            return "future"
        return "current" if rule.id in _context("current", set()) else "superseded"


# --- claims --------------------------------------------------------------------------------


class RetentionClaimSchema(Schema):
    """One inspectorate's claim on one item: what happens to it, when and why (context:
    ``names``, tenant names by id)."""

    id = fields.Integer()
    workspace_id = fields.Integer()
    tenant_id = fields.Integer()
    inspectorate = fields.Method("_inspectorate")
    material_type = fields.String(metadata={"enum": [m.value for m in MaterialType]})
    material_id = fields.Integer()
    title = fields.String()
    owner_tenant_id = fields.Integer()
    owner = fields.Method("_owner")
    joint = fields.Boolean()
    material_classes = fields.Function(lambda s: s.material_class.split(","))
    sensitivity = fields.String()
    created_on = fields.Date()
    rule_id = fields.Integer()
    rule = fields.Function(lambda s: describe_rule(s.rule) if s.rule else None)
    rule_note = fields.Function(lambda s: s.rule.note if s.rule else None)
    trigger = fields.String()
    trigger_label = fields.Function(lambda s: _trigger_label(s))
    trigger_on = fields.Date()
    action = fields.String()
    action_label = fields.Function(lambda s: _action_label(s.override_action or s.action))
    disposal_on = fields.Date()
    due_at = fields.DateTime()
    state = fields.String()
    override_on = fields.Date()
    override_action = fields.String()
    override_reason = fields.String()
    certificate_id = fields.Integer()
    ended_at = fields.DateTime()

    def _inspectorate(self, claim: Schedule) -> str:
        return _context("names", {}).get(claim.tenant_id, "")  # type: ignore[no-any-return]

    def _owner(self, claim: Schedule) -> str:
        return _context("names", {}).get(claim.owner_tenant_id, "")  # type: ignore[no-any-return]


def _trigger_label(claim: Schedule) -> str | None:
    if claim.trigger == Trigger.EVENT and claim.rule is not None:
        return f"the event '{EVENTS.get(claim.rule.event_name, claim.rule.event_name)}'"
    return TRIGGER_LABELS.get(Trigger(claim.trigger)) if claim.trigger else None


def _action_label(action: str) -> str | None:
    return ACTION_LABELS.get(Action(action)) if action else None


class ItemClaimSchema(RetentionClaimSchema):
    """A claim with the sentence that explains it and whether a hold keeps it (context:
    ``explanations`` by claim id, ``held`` claim ids)."""

    explanation = fields.Method("_explanation")
    on_hold = fields.Method("_on_hold")

    def _explanation(self, claim: Schedule) -> str:
        return _context("explanations", {}).get(claim.id, "")  # type: ignore[no-any-return]

    def _on_hold(self, claim: Schedule) -> bool:
        return claim.id in _context("held", set())


class TombstoneSchema(RetentionClaimSchema):
    """What a destroyed (or released) claim was: kept as proof for its certificate."""

    sha256 = fields.String()
    object_key = fields.String()
    object_destroyed = fields.Boolean(attribute="destroy_object")


class RetentionClaimPageSchema(Schema):
    claims = fields.List(fields.Nested(RetentionClaimSchema))
    total = fields.Integer(metadata={"description": "Counted up to 1,000"})
    total_is_capped = fields.Boolean()
    next_cursor = fields.String(allow_none=True)


class ItemRetentionSchema(Schema):
    """What happens to one item, when, and why: every visible claim and the item's fate."""

    workspace_id = fields.Integer()
    material_type = fields.String()
    material_id = fields.Integer()
    title = fields.String()
    joint = fields.Boolean()
    fate = fields.String()
    claims = fields.List(fields.Nested(ItemClaimSchema))


class PreviewQuerySchema(Schema):
    class Meta:
        unknown = "exclude"

    days = fields.Integer(
        load_default=30,
        validate=validate.Range(0, 3660, error="Preview between 0 and 3,660 days ahead"),
        error_messages={"invalid": "Give the number of days as a whole number, e.g. 30"},
    )
    workspace = fields.Integer(
        load_default=None,
        validate=_ID,
        error_messages={"invalid": "Give the workspace's id"},
    )


class PreviewSchema(Schema):
    days = fields.Integer()
    until = fields.Date(metadata={"description": "The last day the preview covers"})
    workspace_id = fields.Integer(allow_none=True)
    due_count = fields.Integer()
    held_count = fields.Integer()
    due = fields.List(fields.Nested(RetentionClaimSchema))
    held = fields.List(fields.Nested(RetentionClaimSchema))


# --- reviews -------------------------------------------------------------------------------


class _ReviewFields:
    outcome = fields.String(
        required=True,
        validate=_one_of(
            OUTCOMES, "Choose extend, approve destruction (destroy) or confirm the transfer"
        ),
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(1, 2000, error="Say why, for the record (up to 2,000 characters)"),
    )
    new_date = fields.Date(load_default=None, allow_none=True, error_messages=_DATE_ERRORS)


class ReviewInSchema(_ReviewFields, StrictSchema):
    pass


class ReviewFormSchema(_ReviewFields, FormSchema):
    @pre_load
    def _no_date(self, data: Any, **_: Any) -> Any:
        """An empty date means none (only extending needs one)."""
        if isinstance(data, dict) and data.get("new_date") == "":
            data = {**data, "new_date": None}
        return data


# --- holds ---------------------------------------------------------------------------------


class _HoldFields:
    scope = fields.String(
        required=True,
        validate=_one_of(
            [s.value for s in HoldScope],
            "Hold an item, a workspace or all your inspectorate's material",
        ),
    )
    reason_kind = fields.String(
        required=True,
        validate=_one_of(
            HOLD_REASONS, "Choose why: legal, complaint, FOI request, follow-up or other"
        ),
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(
            1, 2000, error="Say why the material is held, e.g. the case or request reference"
        ),
    )
    review_on = fields.Date(required=True, error_messages=_DATE_ERRORS)
    material_type = fields.String(
        load_default="",
        validate=_one_of(["", *MATERIAL_TYPE_LABELS], "Choose the kind of item"),
    )

    @validates_schema(skip_on_field_errors=False)
    def _what_is_held(self, data: dict[str, Any], **_: Any) -> None:
        scope = data.get("scope")
        if scope == HoldScope.WORKSPACE and not data.get("workspace_id"):
            raise ValidationError("Choose the inspection to hold", "workspace_id")
        if scope == HoldScope.ITEM:
            if not data.get("material_type"):
                raise ValidationError("Choose the kind of item", "material_type")
            if not data.get("material_id"):
                raise ValidationError("Give the item's id", "material_id")


class HoldInSchema(_HoldFields, StrictSchema):
    workspace_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=_ID)
    material_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=_ID)


class HoldFormSchema(_HoldFields, FormSchema):
    workspace_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=_ID,
        error_messages={"invalid": "Choose the inspection to hold"},
    )
    material_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=_ID,
        error_messages={"invalid": "Give the item's id as a whole number"},
    )

    @pre_load
    def _no_choice(self, data: Any, **_: Any) -> Any:
        """An empty choice is no choice."""
        if isinstance(data, dict):
            data = {
                key: None if key in {"workspace_id", "material_id"} and value == "" else value
                for key, value in data.items()
            }
        return data


class _ReleaseFields:
    reason = fields.String(
        required=True,
        validate=validate.Length(1, 2000, error="Say why the hold is released"),
    )


class HoldReleaseSchema(_ReleaseFields, StrictSchema):
    pass


class ReleaseFormSchema(_ReleaseFields, FormSchema):
    pass


class HoldSchema(Schema):
    id = fields.Integer()
    scope = fields.String(metadata={"enum": [s.value for s in HoldScope]})
    workspace_id = fields.Integer(allow_none=True)
    material_type = fields.String()
    material_id = fields.Integer(allow_none=True)
    reason_kind = fields.String(metadata={"enum": list(HOLD_REASONS)})
    reason_label = fields.Function(lambda h: HOLD_REASONS.get(h.reason_kind, h.reason_kind))
    reason = fields.String()
    review_on = fields.Date()
    placed_by = fields.Function(lambda h: h.placed_by.name if h.placed_by else None)
    placed_at = fields.DateTime()
    active = fields.Function(lambda h: h.released_at is None)
    released_at = fields.DateTime()
    release_reason = fields.String()


class HoldReleasedSchema(Schema):
    hold = fields.Nested(HoldSchema)
    due_now = fields.Integer(
        metadata={"description": "Claims of your inspectorate due now that nothing holds"}
    )


# --- certificates --------------------------------------------------------------------------


class CertificateSchema(Schema):
    id = fields.Integer()
    inspectorate = fields.Function(lambda c: c.tenant.name)
    state = fields.String(metadata={"enum": ["pending", "complete"]})
    started_at = fields.DateTime()
    completed_at = fields.DateTime()
    items = fields.Integer(metadata={"description": "Claims the sweep ended"})
    objects_deleted = fields.Integer()
    digest = fields.String(
        metadata={"description": "SHA-256 over the tombstones in id order (see the CSV export)"}
    )


class CertificatePageSchema(Schema):
    certificates = fields.List(fields.Nested(CertificateSchema))
    total = fields.Integer(metadata={"description": "Counted up to 1,000"})
    total_is_capped = fields.Boolean()
    next_cursor = fields.String(allow_none=True)


class CertificateDetailSchema(Schema):
    certificate = fields.Nested(CertificateSchema)
    digest_verified = fields.Boolean(
        metadata={"description": "The tombstones still hash to the certificate's digest"}
    )
    tombstones = fields.List(fields.Nested(TombstoneSchema))
    next_cursor = fields.String(allow_none=True)


# --- workspace actions ---------------------------------------------------------------------


class EventInSchema(StrictSchema):
    name = fields.String(required=True, validate=_one_of(EVENTS, "Choose an event from the list"))
    confirmed_on = fields.Date(load_default=None, allow_none=True, error_messages=_DATE_ERRORS)


class EventFormSchema(FormSchema):
    event = fields.String(required=True, validate=_one_of(EVENTS, "Choose an event from the list"))
    confirmed_on = fields.Date(required=True, error_messages=_DATE_ERRORS)


class EventSchema(Schema):
    id = fields.Integer()
    workspace_id = fields.Integer()
    tenant_id = fields.Integer()
    name = fields.String(metadata={"enum": list(EVENTS)})
    label = fields.Function(lambda e: EVENTS.get(e.name, e.name))
    confirmed_on = fields.Date()
    confirmed_by_id = fields.Integer()


class CloseInSchema(StrictSchema):
    closed_on = fields.Date(load_default=None, allow_none=True, error_messages=_DATE_ERRORS)


class CloseFormSchema(FormSchema):
    closed_on = fields.Date(required=True, error_messages=_DATE_ERRORS)


class ClosedSchema(Schema):
    workspace_id = fields.Integer()
    closed_on = fields.Date()
    schedules_moved = fields.Integer()


class AgreementProposedSchema(Schema):
    decision_id = fields.Integer()
    status = fields.String()
    subject_version = fields.Integer()
    content = fields.Dict(metadata={"description": "Every participant's rules side by side"})


class SettingsInSchema(StrictSchema):
    warning_days = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, 365, error="Enter a whole number of days from 1 to 365"),
    )


class SettingsSchema(Schema):
    warning_days = fields.Integer(
        metadata={"description": "Days ahead people hear about destruction"}
    )


class SettingsFormSchema(FormSchema):
    warning_days = fields.Integer(
        required=True,
        validate=validate.Range(1, 365, error="Enter a whole number of days from 1 to 365"),
        error_messages={
            "required": "Enter how many days ahead people should hear",
            "invalid": "Enter a whole number of days, like 14",
        },
    )
