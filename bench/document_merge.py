"""Saving and diffing a 100-page report, against the time to load it from the database.

A fresh PostgreSQL database (dropped afterwards) holds one joint inspection led by HMI
Probation with HMI Prisons taking part, and a report of 60 sections totalling about 50,000
words of generated but realistic prose: several paragraphs per section, sub-headings, lists,
tables and footnotes. Everything is made through the app's own services as the app role
(row-level security on), and measured in this process through the app's ``Database`` with
the session scoped as a request would be (``set_context``, the actor for the audit chain).

- **load** (the baseline): a fresh session gets the document, selects its head version and
  builds the ``Version`` tuple.
- **save with merge**: HMI Prisons saves its edit of one section (a paragraph rewritten, one
  added) on version 2 while the head is version 3 (HMI Probation changed another section):
  ``service.save`` cleans the 60 sections it is sent, locks the document, reads both
  versions, merges three-way and writes version 4, its audit event and the decision
  subject. Only the ``service.save`` call is timed (its flushes, hence every write, are
  inside it; the commit is not: each repetition is rolled back so the next finds the same
  state).
- **diff**: a fresh session loads versions 1 and 2 (six sections changed: paragraphs
  rewritten, added and deleted, a list item and a table cell) and ``diff_versions`` them.

The three alternate, round after round, and the medians are compared. The figure is the
median save in ms and the ratio save / load, lower is better; a second BENCH line,
``document_diff``, reports the diff the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.harness import BenchResult, median, note
from bench.rls import APP_ROLE, ensure_app_role, migrate, pg_url, scratch_database

NAME = "document_merge"
DIFF_NAME = "document_diff"
#: Save with merge / load. Moving the text is the floor: a save reads two versions (base and
#: head) where a load reads one, and writes two rows that each hold the whole text (the new
#: version and its audit event), about four loads' worth. One more load's worth covers the
#: rest: sanitising the sections the writer changed, merging them, hashing, the lock and
#: the decision subject. More than five means work done again that need not be (e.g.
#: re-sanitising the sections that did not change, a third read of a version).
TARGET = 5.0
#: Diff / load. Two loads are unavoidable; an unchanged section costs a string comparison,
#: so the word-level diff of the handful of edited sections should cost at most about one
#: load more.
DIFF_TARGET = 3.0

SECTIONS = 60
WORDS = 50_000
SEED = 20_240_601
LEAD = "hmiprobation"
OTHER = "hmiprisons"

#: Measurement: rounds of (load, save, diff), after WARMUP rounds, until either bound.
WARMUP = 3
MAX_ROUNDS = 60
MIN_ROUNDS = 10
TIME_BUDGET = 25.0

#: The version 1 → 2 edits (diff) touch these sections; version 3 changes HEAD_EDIT and the
#: measured save changes PENDING_EDIT (both away from the diff's sections).
DIFF_EDITS = (3, 11, 19, 27, 35, 43)
HEAD_EDIT = 8
PENDING_EDIT = 50


# --- the report -----------------------------------------------------------------------------

_SUBJECTS = (
    "Probation practitioners",
    "Prison offender managers",
    "Senior leaders in the region",
    "Police neighbourhood teams",
    "Local authority housing officers",
    "Resettlement caseworkers",
    "Commissioned accommodation providers",
    "Staff in the custody suites",
    "Middle managers",
    "Keyworkers on the residential units",
    "The integrated offender management team",
    "Health and substance misuse workers",
    "Community accommodation service staff",
    "Victim liaison officers",
    "Public protection leads",
)
_VERBS = (
    "had a clear understanding of",
    "did not consistently record",
    "worked well with colleagues to address",
    "were often unaware of",
    "made timely referrals about",
    "struggled to get information about",
    "shared information effectively about",
    "rarely reviewed",
    "gave sufficient attention to",
    "did not always act on",
    "took a thoughtful approach to",
    "were not given the time to consider",
)
_OBJECTS = (
    "the risks posed by people on release",
    "accommodation needs identified before release",
    "multi-agency public protection arrangements",
    "the local housing pathway",
    "safeguarding concerns about children",
    "the outcomes of pre-release planning",
    "licence conditions and their purpose",
    "the needs of women leaving custody",
    "domestic abuse information held by the police",
    "the continuity of health care after release",
    "the views of the people they supervised",
    "risk management plans agreed with partners",
    "debt, benefits and identification documents",
    "education, training and employment on release",
)
_QUALIFIERS = (
    "in most of the cases we inspected",
    "in {a} of the {b} cases we examined",
    "despite clear national guidance",
    "although this varied between sites",
    "which left some people without support on the day of release",
    "particularly where people were released on a Friday",
    "when caseloads were manageable",
    "in the prisons we visited",
    "according to the staff we interviewed",
    "in line with the expectations of the national model",
    "but this was not reflected in the records",
    "and this had improved since our last inspection",
)
_OPENERS = (
    "",
    "",
    "However, ",
    "In contrast, ",
    "We found that ",
    "Inspectors saw that ",
    "Overall, ",
    "In several areas, ",
    "As a result, ",
    "Encouragingly, ",
)
_TOPICS = (
    "Leadership and governance",
    "Partnership working",
    "Pre-release planning",
    "Accommodation on release",
    "Information sharing",
    "Risk of serious harm",
    "Public protection",
    "Safeguarding children",
    "Health and substance misuse",
    "Education, training and employment",
    "Finance, benefit and debt",
    "Women leaving custody",
    "Diversity and inclusion",
    "Staffing and workloads",
    "Quality assurance",
)
_ASPECTS = ("strategy", "delivery at the sites", "outcomes for people", "the view of partners")


def _sentence(rng: random.Random) -> str:
    qualifier = rng.choice(_QUALIFIERS)
    if "{a}" in qualifier:
        total = rng.randint(12, 60)
        qualifier = qualifier.format(a=rng.randint(2, total - 1), b=total)
    opener = rng.choice(_OPENERS)
    subject = rng.choice(_SUBJECTS)
    if opener:
        subject = subject[0].lower() + subject[1:]
    return f"{opener}{subject} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {qualifier}."


def paragraph(rng: random.Random, sentences: int | None = None) -> str:
    """One paragraph of report prose (about 60 to 130 words), sometimes with a footnote."""
    text = " ".join(_sentence(rng) for _ in range(sentences or rng.randint(4, 7)))
    if rng.random() < 0.12:
        text += (
            f'<span class="footnote">Inspection case file review, site {rng.randint(1, 9)}, '
            f"{rng.choice(('March', 'June', 'October'))} 2025.</span>"
        )
    if rng.random() < 0.15:
        text = f"<strong>{rng.choice(_TOPICS)}.</strong> " + text
    return f"<p>{text}</p>"


def _list(rng: random.Random) -> str:
    items = "".join(f"<li>{_sentence(rng)}</li>" for _ in range(rng.randint(3, 5)))
    tag = rng.choice(("ul", "ol"))
    return f"<{tag}>{items}</{tag}>"


def _table(rng: random.Random) -> str:
    rows = "".join(
        f"<tr><td>Site {n}</td><td>{rng.randint(10, 60)}</td><td>{rng.randint(20, 95)}%</td></tr>"
        for n in range(1, rng.randint(4, 8))
    )
    return (
        "<table><thead><tr><th>Site</th><th>Cases inspected</th><th>Rated sufficient</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _body(rng: random.Random, number: int, words: int) -> str:
    from shared_workspace.documents.richtext import words as count_words

    parts: list[str] = []
    counted = 0
    while counted < words:
        roll = rng.random()
        if parts and roll < 0.08:
            part = f"<h3>{number}.{len(parts)} {rng.choice(_TOPICS)}: {rng.choice(_ASPECTS)}</h3>"
        elif parts and roll < 0.18:
            part = _list(rng)
        elif parts and roll < 0.22 and number % 4 == 0:
            part = _table(rng)
        else:
            part = paragraph(rng)
        added = len(count_words(part))
        if parts and counted + added - words > words - counted:
            break  # stopping here is nearer the section's length than adding this part
        parts.append(part)
        counted += added
    return "".join(parts)


def report_sections(seed: int = SEED) -> list[dict[str, str]]:
    """60 sections of about 50,000 words in all (section lengths vary between about 500
    and 1,200 words), as a writer would send them: ``[{key, title, body}]``."""
    rng = random.Random(seed)
    weights = [rng.uniform(0.6, 1.4) for _ in range(SECTIONS)]
    scale = WORDS / sum(weights)
    sections = []
    for number, weight in enumerate(weights, start=1):
        topic = _TOPICS[(number - 1) % len(_TOPICS)]
        aspect = _ASPECTS[(number - 1) // len(_TOPICS) % len(_ASPECTS)]
        sections.append(
            {
                "key": f"s{number:02d}",
                "title": f"{number}. {topic}: {aspect}",
                "body": _body(rng, number, round(weight * scale)),
            }
        )
    return sections


def word_count(sections: Sequence[Mapping[str, str]]) -> int:
    from shared_workspace.documents.richtext import words

    return sum(len(words(section["body"])) for section in sections)


def edit_section(
    sections: Sequence[Mapping[str, str]], index: int, change: Callable[[list[str]], None]
) -> list[dict[str, str]]:
    """A copy of ``sections`` with section ``index``'s blocks changed in place by ``change``."""
    from shared_workspace.documents.richtext import blocks

    edited = [dict(section) for section in sections]
    parts = blocks(edited[index]["body"])
    change(parts)
    edited[index]["body"] = "".join(parts)
    return edited


def _paragraph_indexes(parts: Sequence[str]) -> list[int]:
    return [n for n, part in enumerate(parts) if part.startswith("<p>")]


def _diff_edits(sections: Sequence[Mapping[str, str]], rng: random.Random) -> list[dict[str, str]]:
    """Version 2: six sections edited the ways report drafting edits them."""

    def rewrite(parts: list[str]) -> None:
        paras = _paragraph_indexes(parts)
        parts[paras[1]] = paragraph(rng)
        parts[paras[-1]] = parts[paras[-1]].replace(" the ", " each ", 3)

    def insert(parts: list[str]) -> None:
        parts.insert(_paragraph_indexes(parts)[2], paragraph(rng))

    def delete(parts: list[str]) -> None:
        del parts[_paragraph_indexes(parts)[1]]

    def touch_list_and_table(parts: list[str]) -> None:
        for n, part in enumerate(parts):
            if part.startswith(("<ul>", "<ol>", "<table>")):
                parts[n] = part.replace("</li>", " (to be confirmed)</li>", 1).replace(
                    "%</td>", "% (revised)</td>", 1
                )
                return
        parts.append(f"<ul><li>{_sentence(rng)}</li><li>{_sentence(rng)}</li></ul>")

    changes = (rewrite, insert, delete, touch_list_and_table, rewrite, insert)
    for index, change in zip(DIFF_EDITS, changes, strict=True):
        sections = edit_section(sections, index, change)
    return list(sections)


def _head_edit(sections: Sequence[Mapping[str, str]], rng: random.Random) -> list[dict[str, str]]:
    """Version 3 (HMI Probation): one paragraph of HEAD_EDIT rewritten."""

    def change(parts: list[str]) -> None:
        parts[_paragraph_indexes(parts)[0]] = paragraph(rng)

    return edit_section(sections, HEAD_EDIT, change)


def pending_edit(sections: Sequence[Mapping[str, str]], rng: random.Random) -> list[dict[str, str]]:
    """HMI Prisons' edit on version 2: a paragraph of PENDING_EDIT rewritten, one added."""

    def change(parts: list[str]) -> None:
        paras = _paragraph_indexes(parts)
        parts[paras[1]] = paragraph(rng)
        parts.insert(paras[-1] + 1, paragraph(rng))

    return edit_section(sections, PENDING_EDIT, change)


# --- the data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Writer:
    user_id: int
    tenant_id: int
    slug: str
    #: A read/write API token, when asked for.
    token: str = ""


@dataclass(frozen=True)
class SeededReport:
    workspace_id: int
    document_id: int
    #: The lead's writers first, then the other inspectorate's.
    writers: tuple[Writer, ...]


def act(session: Any, user: Any) -> None:
    """Scope ``session`` to ``user`` as a signed-in request would (tenant, user, audit actor)."""
    from app.audit import Actor
    from app.db import set_context

    set_context(session, tenant_id=user.tenant_id, user_id=user.id)
    session.info["actor"] = Actor(user.id, user.tenant_id, user.email)


def seed_report(
    database: str,
    sections: Sequence[Mapping[str, str]],
    *,
    writers_per_tenant: int = 1,
    tokens: bool = False,
) -> SeededReport:
    """The founding tenants, ``writers_per_tenant`` people in each of HMI Probation (lead) and
    HMI Prisons, named in the workspace by their own inspectorate, and the report at version
    1, all through the app's services as the app role; with ``tokens``, each person gets a
    read/write API token."""
    from app import _import_models
    from app.audit import Actor
    from app.db import Database, set_context
    from shared_workspace import service as workspaces
    from shared_workspace.documents import service as documents
    from shared_workspace.models import WorkspaceRole
    from tenants.auth import create_token
    from tenants.models import Role
    from tenants.seed import seed_founding_tenants
    from tenants.service import create_user

    _import_models()
    db = Database(pg_url(database, APP_ROLE), pool_size=1)
    try:
        with db.transaction() as session:
            session.info["actor"] = Actor(None, None, "bench")
            set_context(session, tenant_id=None, platform_admin=True)
            tenants = {tenant.slug: tenant for tenant in seed_founding_tenants(session)}
            people = []
            for slug in (LEAD, OTHER):
                tenant = tenants[slug]
                set_context(session, tenant_id=tenant.id)
                for n in range(1, writers_per_tenant + 1):
                    people.append(
                        create_user(
                            session,
                            tenant=tenant,
                            email=f"writer{n:02d}@{tenant.domains[0]}",
                            name=f"Writer {n} ({tenant.short_name})",
                            roles={Role.LEAD_INSPECTOR, Role.INSPECTOR},
                        )
                    )
            lead = people[0]
            act(session, lead)
            workspace = workspaces.create_workspace(
                session,
                title="Resettlement: a joint thematic inspection",
                lead=lead,
                participants=[tenants[OTHER]],
            )
            writers = []
            for person in people:
                act(session, person)
                role = WorkspaceRole.LEAD_INSPECTOR if person is lead else WorkspaceRole.TEAM_MEMBER
                workspaces.name_member(
                    session, workspace, person=person, role=role, named_by=person
                )
                token = ""
                if tokens:
                    _row, token = create_token(
                        session, person, name="bench", scopes={"read", "write"}
                    )
                writers.append(Writer(person.id, person.tenant_id, person.tenant.slug, token))
            act(session, lead)
            document = documents.create_document(
                session,
                workspace,
                lead,
                kind="report",
                title="Resettlement: a joint thematic inspection (draft report)",
                sections=sections,
            )
            seeded = SeededReport(workspace.id, document.id, tuple(writers))
    finally:
        db.engine.dispose()
    return seeded


# --- the measurements -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    workspace_id: int
    document_id: int
    writer: Writer
    #: The writer's whole text, as the API would pass it (cleaned by the save).
    pending: list[dict[str, str]]
    base_number: int
    head_number: int
    diff_from: int
    diff_to: int


@contextmanager
def scoped(db: Any, writer: Writer) -> Iterator[Any]:
    """A fresh session scoped to ``writer``, rolled back and closed on the way out."""
    from app.db import set_context

    session = db.sessionmaker()
    try:
        set_context(session, tenant_id=writer.tenant_id, user_id=writer.user_id)
        yield session
    finally:
        session.rollback()
        session.close()


def load_head(db: Any, scenario: Scenario) -> tuple[float, Any]:
    """Seconds to load the head version in a fresh session, and the version loaded."""
    from shared_workspace.documents import service
    from shared_workspace.documents.models import Document

    began = time.perf_counter()
    with scoped(db, scenario.writer) as session:
        document = session.get(Document, scenario.document_id)
        version = service.as_version(service.head(session, document).sections)
        elapsed = time.perf_counter() - began
    return elapsed, version


def save_merged(db: Any, scenario: Scenario) -> tuple[float, Any]:
    """Seconds ``service.save`` takes to merge the pending edit onto the head and write it
    (rolled back afterwards), and what it returned."""
    from shared_workspace.documents import service
    from shared_workspace.documents.models import Document
    from shared_workspace.models import Workspace
    from tenants.models import User

    with scoped(db, scenario.writer) as session:
        user = session.get(User, scenario.writer.user_id)
        act(session, user)
        workspace = session.get(Workspace, scenario.workspace_id)
        document = session.get(Document, scenario.document_id)
        began = time.perf_counter()
        saved = service.save(
            session,
            workspace,
            document,
            user,
            base_number=scenario.base_number,
            sections=scenario.pending,
        )
        elapsed = time.perf_counter() - began
        outcome = (
            saved.version.number if saved.version is not None else None,
            saved.merged_with,
            saved.conflicted,
        )
    return elapsed, outcome


def diff_two(db: Any, scenario: Scenario) -> tuple[float, Any]:
    """Seconds to load two versions in a fresh session and diff them, and the diff."""
    from shared_workspace.documents import service
    from shared_workspace.documents.diff import diff_versions
    from shared_workspace.documents.models import Document

    began = time.perf_counter()
    with scoped(db, scenario.writer) as session:
        document = session.get(Document, scenario.document_id)
        old, new = (
            service.as_version(service.version(session, document, number).sections)
            for number in (scenario.diff_from, scenario.diff_to)
        )
        diff = diff_versions(old, new)
        elapsed = time.perf_counter() - began
    return elapsed, diff


def prepare(database: str) -> Scenario:
    """Seed the report (version 1), then save version 2 (six sections edited, HMI Probation)
    and version 3 (HEAD_EDIT, HMI Probation); the pending edit is HMI Prisons' on version 2."""
    from app.db import Database, set_context
    from shared_workspace.documents import service
    from shared_workspace.documents.models import Document
    from shared_workspace.models import Workspace
    from tenants.models import User

    rng = random.Random(SEED + 1)
    v1 = report_sections()
    seeded = seed_report(database, v1)
    lead, other = seeded.writers
    v2 = _diff_edits(v1, rng)
    v3 = _head_edit(v2, rng)
    db = Database(pg_url(database, APP_ROLE), pool_size=1)
    try:
        for number, sections in ((2, v2), (3, v3)):
            with db.transaction() as session:
                set_context(session, tenant_id=lead.tenant_id, user_id=lead.user_id)
                user = session.get(User, lead.user_id)
                act(session, user)
                workspace = session.get(Workspace, seeded.workspace_id)
                document = session.get(Document, seeded.document_id)
                saved = service.save(
                    session,
                    workspace,
                    document,
                    user,
                    base_number=number - 1,
                    sections=sections,
                )
                if saved.version is None or saved.version.number != number:
                    raise RuntimeError(f"seeding version {number} gave {saved}")
    finally:
        db.engine.dispose()
    note(
        f"{NAME}: report of {len(v1)} sections, {word_count(v1):,} words, "
        f"{sum(len(s['body']) for s in v1) / 1024:.0f} KiB of HTML; versions 1-3 saved"
    )
    return Scenario(
        workspace_id=seeded.workspace_id,
        document_id=seeded.document_id,
        writer=other,
        pending=pending_edit(v2, rng),
        base_number=2,
        head_number=3,
        diff_from=1,
        diff_to=2,
    )


def check(db: Any, scenario: Scenario) -> None:
    """The three operations do what they are measured for, before any timing."""
    from shared_workspace.documents.diff import DiffKind

    _seconds, version = load_head(db, scenario)
    if len(version) != SECTIONS:
        raise RuntimeError(f"the head has {len(version)} sections, expected {SECTIONS}")
    _seconds, outcome = save_merged(db, scenario)
    expected = (scenario.head_number + 1, scenario.head_number, False)
    if outcome != expected:
        raise RuntimeError(
            f"the save gave (version, merged_with, conflicted) = {outcome}, expected {expected}"
        )
    _seconds, diff = diff_two(db, scenario)
    changed = sorted(d.key for d in diff if d.kind is DiffKind.CHANGED)
    wanted = sorted(f"s{index + 1:02d}" for index in DIFF_EDITS)
    if changed != wanted or len(diff) != SECTIONS:
        raise RuntimeError(f"the diff marks {changed} changed, expected {wanted}")


def run() -> BenchResult:
    """Seed a scratch database, then time load, save with merge and diff in alternation.

    Prints the ``document_diff`` BENCH line itself; returns the save's result. The database
    is dropped on return, also after an error.
    """
    from app.db import Database

    note(
        f"{NAME}: {SECTIONS} sections, ~{WORDS:,} words; {WARMUP} warm-up rounds, then "
        f"{MIN_ROUNDS}-{MAX_ROUNDS} rounds of (load, save with merge, diff) within "
        f"{TIME_BUDGET:g}s"
    )
    ensure_app_role()
    samples: dict[str, list[float]] = {"load": [], "save": [], "diff": []}
    operations = (("load", load_head), ("save", save_merged), ("diff", diff_two))
    with scratch_database(NAME) as database:
        migrate(database)
        scenario = prepare(database)
        db = Database(pg_url(database, APP_ROLE), pool_size=2)
        try:
            check(db, scenario)
            for _ in range(WARMUP):
                for _label, operation in operations:
                    operation(db, scenario)
            started = time.monotonic()
            for round_number in range(MAX_ROUNDS):
                if round_number >= MIN_ROUNDS and time.monotonic() - started > TIME_BUDGET:
                    break
                # Rotate the order, so no operation always runs right after the same one.
                shift = round_number % len(operations)
                for label, operation in operations[shift:] + operations[:shift]:
                    seconds, _result = operation(db, scenario)
                    samples[label].append(seconds * 1000)
        finally:
            db.engine.dispose()
    ms = {label: median(values) for label, values in samples.items()}
    rounds = len(samples["load"])
    note(
        f"{NAME}: {rounds} rounds; median load {ms['load']:.2f} ms, save with merge "
        f"{ms['save']:.2f} ms, diff {ms['diff']:.2f} ms "
        f"(min {min(samples['load']):.2f} / {min(samples['save']):.2f} / "
        f"{min(samples['diff']):.2f} ms)"
    )
    note(
        f"{NAME}: save / load {ms['save'] / ms['load']:.2f} (target {TARGET:g}), "
        f"diff / load {ms['diff'] / ms['load']:.2f} (target {DIFF_TARGET:g})"
    )
    diff_result = BenchResult(
        name=DIFF_NAME,
        figure=ms["diff"],
        unit="ms",
        ratio=ms["diff"] / ms["load"],
        target=DIFF_TARGET,
        higher_is_better=False,
    )
    # The runner prints one line per benchmark; this one reports a second, in its format.
    print(diff_result.line(), flush=True)
    return BenchResult(
        name=NAME,
        figure=ms["save"],
        unit="ms",
        ratio=ms["save"] / ms["load"],
        target=TARGET,
        higher_is_better=False,
    )
