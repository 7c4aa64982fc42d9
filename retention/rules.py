"""Retention rules: the founding tenants' rules, validation, and which rule applies.

Which rule applies to an item is decided by the item's **class chain** (most specific class
first: an interview's notes are ``interview_notes``, then ``evidence.interview``, then
``evidence``, then ``all``), its sensitivity (a rule for the item's own sensitivity beats a
rule for ``any``) and the day the item came into being (the latest version of the rule in
effect on that day). A rule's offset is counted from its trigger's date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import LONDON
from app.db import purpose
from retention.models import (
    ACTION_LABELS,
    EVENTS,
    MATERIAL_CLASSES,
    SENSITIVITIES,
    TRIGGER_LABELS,
    Action,
    RetentionRule,
    Trigger,
    Unit,
)
from shared_workspace.evidence.models import Method
from tenants.models import Role, User

#: The read-only purpose under which the product reads other inspectorates' rules, to
#: schedule their claims on joint material and to propose the retention agreement.
RULES_PURPOSE = "retention-rules"
#: "Since always": the founding rules apply to everything already held.
FOUNDING_FROM = date(2000, 1, 1)
#: Bounds on an offset, per unit (a century is the longest anyone keeps inspection records).
OFFSET_LIMITS = {Unit.DAYS: 36_500, Unit.MONTHS: 1_200, Unit.YEARS: 100}


class RetentionError(ValueError):
    """A retention action that cannot be done; the message says why and how to fix it."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def require_records_manager(user: User) -> None:
    if not user.has_role(Role.RECORDS_MANAGER):
        raise PermissionError("Only your inspectorate's records managers manage retention")


class RuleError(ValueError):
    """A rule that cannot be saved; the message says how to fix it."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def known_classes() -> dict[str, str]:
    classes = dict(MATERIAL_CLASSES)
    from shared_workspace.evidence.models import METHOD_LABELS

    for method, label in METHOD_LABELS.items():
        classes[f"evidence.{method.value}"] = f"Evidence: {label.lower()}"
    return classes


def class_label(name: str) -> str:
    return known_classes().get(name, name)


@dataclass(frozen=True)
class FoundingRule:
    material_class: str
    sensitivity: str
    trigger: Trigger
    offset_amount: int
    offset_unit: Unit
    action: Action
    note: str
    event_name: str = ""


#: DOMAIN.md's retention column (001 §48), as rules. Every founding tenant has a rule for
#: ``all`` so no item is left without one.
FOUNDING_RULES: dict[str, tuple[FoundingRule, ...]] = {
    "hmcpsi": (
        FoundingRule(
            "all",
            "any",
            Trigger.PUBLICATION,
            -1,
            Unit.DAYS,
            Action.DESTROY,
            "All inspection material other than data and the published report is destroyed "
            "the day before publication (001 §48; HMCPSI handbook: interview notes).",
        ),
        FoundingRule(
            "data",
            "any",
            Trigger.PUBLICATION,
            0,
            Unit.DAYS,
            Action.RETAIN,
            "Data is kept (001 §48).",
        ),
        FoundingRule(
            "published_report",
            "any",
            Trigger.PUBLICATION,
            0,
            Unit.DAYS,
            Action.RETAIN,
            "The published report is kept (001 §48).",
        ),
    ),
    "hmicfrs": (
        FoundingRule(
            "all",
            "any",
            Trigger.CLOSURE,
            0,
            Unit.DAYS,
            Action.TRANSFER,
            "Documents used in the inspection are retained on the records system (001 §48).",
        ),
        FoundingRule(
            "notebooks",
            "any",
            Trigger.EVENT,
            0,
            Unit.DAYS,
            Action.DESTROY,
            "Inspectors' notebooks are destroyed once all notes are on the evidence "
            "gathering tool (001 §48).",
            event_name="notes_transcribed",
        ),
    ),
    "hmiprobation": (
        FoundingRule(
            "all",
            "standard",
            Trigger.PUBLICATION,
            10,
            Unit.YEARS,
            Action.DESTROY,
            "Kept up to ten years depending on the sensitivity of the data (001 §48).",
        ),
        FoundingRule(
            "all",
            "sensitive",
            Trigger.PUBLICATION,
            3,
            Unit.MONTHS,
            Action.DESTROY,
            "Sensitive data is kept three months (001 §48: between three months and ten "
            "years depending on sensitivity).",
        ),
    ),
    "hmiprisons": (
        FoundingRule(
            "all",
            "any",
            Trigger.PUBLICATION,
            3,
            Unit.YEARS,
            Action.REVIEW,
            "Electronic copies of evidence are kept three years, then reviewed; they can be "
            "kept longer, e.g. when a follow-up thematic is planned (001 §48).",
        ),
        FoundingRule(
            "paper_copies",
            "any",
            Trigger.PUBLICATION,
            1,
            Unit.MONTHS,
            Action.DESTROY,
            "Paper copies are destroyed soon after publication (001 §48).",
        ),
    ),
}


def seed_founding_rules(session: Session, tenant_id: int, slug: str) -> int:
    """Give a founding tenant its rules once; returns how many were added."""
    existing = session.scalar(
        select(RetentionRule.id).where(RetentionRule.tenant_id == tenant_id).limit(1)
    )
    if existing is not None:
        return 0
    rules = FOUNDING_RULES.get(slug, ())
    for rule in rules:
        session.add(
            RetentionRule(
                tenant_id=tenant_id,
                material_class=rule.material_class,
                sensitivity=rule.sensitivity,
                trigger=rule.trigger.value,
                event_name=rule.event_name,
                offset_amount=rule.offset_amount,
                offset_unit=rule.offset_unit.value,
                action=rule.action.value,
                effective_from=FOUNDING_FROM,
                note=rule.note,
            )
        )
    session.flush()
    return len(rules)


def validate_rule(fields: dict[str, object]) -> dict[str, object]:
    """Check a rule's fields; return them cleaned or raise RuleError naming the field."""
    material_class = str(fields.get("material_class") or "").strip()
    if material_class not in known_classes():
        raise RuleError("Choose a class of material from the list", "material_class")
    sensitivity = str(fields.get("sensitivity") or "any")
    if sensitivity not in SENSITIVITIES:
        raise RuleError("Sensitivity must be any, standard or sensitive", "sensitivity")
    trigger = str(fields.get("trigger") or "")
    if trigger not in {t.value for t in Trigger}:
        raise RuleError(
            "Choose what starts the clock: publication, upload, closure or an event", "trigger"
        )
    event_name = str(fields.get("event_name") or "")
    if trigger == Trigger.EVENT and event_name not in EVENTS:
        raise RuleError("Choose which confirmed event starts the clock", "event_name")
    if trigger != Trigger.EVENT:
        event_name = ""
    unit = str(fields.get("offset_unit") or "days")
    if unit not in {u.value for u in Unit}:
        raise RuleError("The offset is counted in days, months or years", "offset_unit")
    amount = fields.get("offset_amount", 0)
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise RuleError("The offset must be a whole number, e.g. -1 or 3", "offset_amount")
    limit = OFFSET_LIMITS[Unit(unit)]
    if not -limit <= amount <= limit:
        raise RuleError(f"The offset must be between -{limit} and {limit} {unit}", "offset_amount")
    action = str(fields.get("action") or "")
    if action not in {a.value for a in Action}:
        raise RuleError("Choose an action: destroy, review, retain or transfer", "action")
    effective_from = fields.get("effective_from")
    if not isinstance(effective_from, date):
        raise RuleError("Say from which date the rule applies, e.g. 1 4 2027", "effective_from")
    note = str(fields.get("note") or "").strip()
    if len(note) > 2000:
        raise RuleError("Keep the note to 2,000 characters", "note")
    return {
        "material_class": material_class,
        "sensitivity": sensitivity,
        "trigger": trigger,
        "event_name": event_name,
        "offset_amount": amount,
        "offset_unit": unit,
        "action": action,
        "effective_from": effective_from,
        "note": note,
    }


def disposal_date(trigger_on: date, amount: int, unit: str) -> date:
    return trigger_on + relativedelta(**{unit: amount})


def start_of_day(day: date) -> datetime:
    """London midnight at the start of ``day``, in UTC."""
    return datetime.combine(day, time(0), LONDON).astimezone(UTC)


def describe_rule(rule: RetentionRule) -> str:
    """ "Destroy 1 day before the publication date" and the like."""
    action = ACTION_LABELS[Action(rule.action)]
    if rule.action == Action.RETAIN:
        return action
    trigger = (
        f"the event '{EVENTS.get(rule.event_name, rule.event_name)}'"
        if rule.trigger == Trigger.EVENT
        else TRIGGER_LABELS[Trigger(rule.trigger)]
    )
    amount = rule.offset_amount
    if amount == 0:
        return f"{action} on {trigger}"
    unit = rule.offset_unit if abs(amount) != 1 else rule.offset_unit.rstrip("s")
    side = "before" if amount < 0 else "after"
    return f"{action} {abs(amount)} {unit} {side} {trigger}"


def evidence_chain(method: str, retention_class: str) -> list[str]:
    """Most specific class first, for an evidence file of an item."""
    base = [f"evidence.{method}", "evidence", "all"]
    override = {
        "data": "data",
        "published-report": "published_report",
        "notebook": "notebooks",
        "paper": "paper_copies",
        "correspondence": "correspondence",
    }.get(retention_class)
    if override == "published_report":
        return ["published_report", "all"]
    if override:
        return [override, *base]
    if method == Method.DATA:
        return ["data", *base]
    if method in (Method.INTERVIEW, Method.FOCUS_GROUP):
        return ["interview_notes", *base]
    return base


DOCUMENT_CHAINS = {
    "report": ["published_report", "working_drafts", "all"],
    "letter": ["letters", "correspondence", "all"],
}
NOTE_CHAIN = ["notebooks", "working_drafts", "all"]


def document_chain(kind: str) -> list[str]:
    return DOCUMENT_CHAINS.get(kind, ["working_drafts", "all"])


class RuleBook:
    """Every version of some tenants' rules, loaded once for a batch of schedules."""

    def __init__(self, session: Session, tenant_ids: Iterable[int]) -> None:
        wanted = sorted(set(tenant_ids))
        with purpose(session, RULES_PURPOSE):
            rules = session.scalars(
                select(RetentionRule)
                .where(RetentionRule.tenant_id.in_(wanted))
                .order_by(RetentionRule.effective_from.desc(), RetentionRule.id.desc())
            ).all()
        self.versions: dict[tuple[int, str, str], list[RetentionRule]] = defaultdict(list)
        self.by_id: dict[int, RetentionRule] = {}
        for rule in rules:
            self.versions[(rule.tenant_id, rule.material_class, rule.sensitivity)].append(rule)
            self.by_id[rule.id] = rule

    def resolve(
        self,
        tenant_id: int,
        chain: list[str],
        sensitivity: str,
        created_on: date,
        allowed: set[int] | None = None,
    ) -> RetentionRule | None:
        """The rule for an item: most specific class, own sensitivity before ``any``, the
        latest version in effect on ``created_on`` (limited to ``allowed`` ids: an agreement)."""
        for material_class in chain:
            for wanted in (sensitivity, "any"):
                for rule in self.versions.get((tenant_id, material_class, wanted), ()):
                    if allowed is not None and rule.id not in allowed:
                        continue
                    if rule.effective_from <= created_on:
                        return rule
        return None
