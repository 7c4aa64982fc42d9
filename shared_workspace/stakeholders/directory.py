"""Each inspectorate's own stakeholder directory: add and edit entries, import CSV or XLSX
with a preview and a row-by-row report (nothing silently dropped or changed), export CSV with
formulas neutralised."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.jobs import job
from shared_workspace.stakeholders.models import (
    CATEGORIES,
    ENTRY_KINDS,
    ImportBatch,
    StakeholderEntry,
)
from tenants.models import User

#: Largest file accepted for import; a directory of 50,000 rows fits in a few megabytes.
MAX_IMPORT_BYTES = 10 * 1024 * 1024
#: The whole request of an import: the file and the form around it.
MAX_IMPORT_BODY_BYTES = MAX_IMPORT_BYTES + 64 * 1024
MAX_IMPORT_ROWS = 50_000
COLUMNS = (
    "kind",
    "title",
    "given_name",
    "family_name",
    "role",
    "organisation",
    "emails",
    "phones",
    "address",
    "category",
    "tags",
    "consent",
    "do_not_contact",
    "notes",
)
LIMITS = {
    "title": 40,
    "given_name": 100,
    "family_name": 100,
    "role": 200,
    "organisation": 300,
    "address": 1000,
    "notes": 5000,
}
#: What a spreadsheet may run as a formula when a cell starts with it (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class DirectoryError(ValueError):
    def __init__(self, message: str, field: str = "_file") -> None:
        super().__init__(message)
        self.field = field


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


def _bool(value: str, default: bool) -> bool | None:
    text = value.strip().lower()
    if not text:
        return default
    if text in ("yes", "y", "true", "1"):
        return True
    if text in ("no", "n", "false", "0"):
        return False
    return None


def check(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """An entry's fields from raw values, with the errors that stop it and the warnings that
    do not. Values are kept as written (only trimmed); nothing is silently corrected."""
    errors: list[str] = []
    warnings: list[str] = []
    raw = {key: str(values.get(key) or "").strip() for key in COLUMNS}
    for key, value in raw.items():
        if any(ch < " " and ch not in "\n\t" for ch in value):
            errors.append(f"{key}: remove the hidden control characters")
        if key in LIMITS and len(value) > LIMITS[key]:
            errors.append(f"{key}: {len(value)} characters, the limit is {LIMITS[key]}")
        if value.startswith(FORMULA_PREFIXES[:4]) and key not in ("phones",):
            warnings.append(
                f"{key}: starts with {value[0]!r}; kept as text, never run as a formula"
            )
    kind = raw["kind"] or "person"
    if kind not in ENTRY_KINDS:
        errors.append(f"kind: {kind!r} is not one of {', '.join(ENTRY_KINDS)}")
    category = raw["category"].lower().replace(" ", "_") or "other"
    if category not in CATEGORIES:
        errors.append(f"category: {raw['category']!r} is not one of {', '.join(CATEGORIES)}")
    if not (raw["given_name"] or raw["family_name"] or raw["role"] or raw["organisation"]):
        errors.append("give a name, a role or an organisation")
    emails = _split(raw["emails"])
    for email in emails:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as exc:
            errors.append(f"emails: {email!r} is not a valid address ({exc})")
    phones = _split(raw["phones"])
    for phone in phones:
        try:
            parsed = phonenumbers.parse(phone, "GB")
            valid = phonenumbers.is_valid_number(parsed)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            errors.append(f"phones: {phone!r} is not a valid phone number")
    consent = _bool(raw["consent"], True)
    do_not_contact = _bool(raw["do_not_contact"], False)
    if consent is None:
        errors.append("consent: write yes or no")
    if do_not_contact is None:
        errors.append("do_not_contact: write yes or no")
    fields = {
        "kind": kind,
        "title": raw["title"],
        "given_name": raw["given_name"],
        "family_name": raw["family_name"],
        "role": raw["role"],
        "organisation": raw["organisation"],
        "emails": emails,
        "phones": phones,
        "address": raw["address"],
        "category": category,
        "tags": _split(raw["tags"]),
        "consent": bool(consent),
        "do_not_contact": bool(do_not_contact),
        "notes": raw["notes"],
    }
    return fields, errors, warnings


def save_entry(
    session: Session, user: User, values: Mapping[str, Any], entry: StakeholderEntry | None = None
) -> StakeholderEntry:
    """Add or change an entry of the user's own directory; DirectoryError lists every problem."""
    fields, errors, _warnings = check(values)
    if errors:
        raise DirectoryError("; ".join(errors), "entry")
    if entry is None:
        entry = StakeholderEntry(tenant_id=user.tenant_id)
        session.add(entry)
    for key, value in fields.items():
        setattr(entry, key, value)
    session.flush()
    return entry


def search(
    session: Session, text: str = "", category: str = "", limit: int = 200, offset: int = 0
) -> list[StakeholderEntry]:
    """The tenant's entries (the session is tenant-scoped), filtered, by family name."""
    query = select(StakeholderEntry)
    if text:
        like = f"%{text.replace('%', '').replace('_', '')[:100]}%"
        query = query.where(
            or_(
                StakeholderEntry.given_name.ilike(like),
                StakeholderEntry.family_name.ilike(like),
                StakeholderEntry.organisation.ilike(like),
                StakeholderEntry.role.ilike(like),
            )
        )
    if category in CATEGORIES:
        query = query.where(StakeholderEntry.category == category)
    return list(
        session.scalars(
            query.order_by(StakeholderEntry.family_name, StakeholderEntry.organisation)
            .limit(limit)
            .offset(offset)
        )
    )


def _decode(data: bytes) -> tuple[str, list[str]]:
    """The text of a CSV upload; UTF-8 (with or without BOM) or, failing that, Windows-1252."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise DirectoryError(
            "The file is not UTF-8 or Windows text. Save it as “CSV UTF-8” and upload it again"
        ) from None
    return text, ["The file was not UTF-8; it was read as Windows-1252. Check accented names."]


def _header(cells: Sequence[str]) -> list[str]:
    header = [str(c or "").strip().lower().replace(" ", "_") for c in cells]
    known = [h for h in header if h in COLUMNS]
    if not known or not ({"given_name", "family_name", "organisation", "role"} & set(known)):
        raise DirectoryError(
            "The first row must name the columns, e.g. "
            + ", ".join(COLUMNS[:7])
            + ". Download the template for every column"
        )
    return header


def read_rows(filename: str, data: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of a CSV or XLSX upload as {line, values}; file-level notes alongside."""
    if len(data) > MAX_IMPORT_BYTES:
        raise DirectoryError(
            f"The file is {len(data) / 1024 / 1024:.0f} MB; the limit is "
            f"{MAX_IMPORT_BYTES // 1024 // 1024} MB. Split it into smaller files"
        )
    if not data:
        raise DirectoryError("The file is empty")
    lower = filename.lower()
    notes: list[str] = []
    if lower.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif lower.endswith(".csv") or lower.endswith(".txt"):
        text, notes = _decode(data)
        rows = _csv_rows(text)
    else:
        raise DirectoryError("Upload a .csv or .xlsx file")
    if len(rows) > MAX_IMPORT_ROWS:
        raise DirectoryError(f"The file has {len(rows):,} rows; the limit is {MAX_IMPORT_ROWS:,}")
    return rows, notes


#: A quoted field may hold line breaks (a postal address); one that is still open after this
#: many lines is taken for a stray quote rather than swallowing the rest of the file.
MAX_RECORD_LINES = 20


_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def _csv_record(lines: list[str], start: int) -> tuple[list[str] | str, int]:
    """The record starting at ``lines[start]`` and how many lines it spans, or why that line
    cannot be read (then it spans one line, so reading goes on with the next)."""
    for extent in range(1, min(MAX_RECORD_LINES, len(lines) - start) + 1):
        chunk = "\n".join(lines[start : start + extent])
        try:
            records = list(csv.reader(io.StringIO(chunk, newline=""), strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                continue  # an open quoted field, which may close on a later line
            # Past this line, the "closing" quote was some later field's opening one.
            return ("an opening quote is never closed" if extent > 1 else str(exc)), 1
        return (records[0] if records else []), extent
    return "an opening quote is never closed", 1


def _csv_records(text: str) -> Iterator[tuple[int, list[str] | str]]:
    """(line number, cells) per record, or (line number, reason) for a line that cannot be
    read: a stray quote costs its own line, never the rest of the file."""
    lines = _LINE_BREAKS.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    number = 0
    while number < len(lines):
        record, extent = _csv_record(lines, number)
        yield number + 1, record
        number += extent


def _csv_rows(text: str) -> list[dict[str, Any]]:
    records = _csv_records(text)
    first = next(records, None)
    if first is None:
        raise DirectoryError("The file is empty")
    if isinstance(first[1], str):
        raise DirectoryError(f"Line 1 cannot be read: {first[1]}")
    header = _header(first[1])
    rows: list[dict[str, Any]] = []
    for line, cells in records:
        if isinstance(cells, str):
            # A stray quote: report the line and carry on with the next one.
            rows.append({"line": line, "values": {}, "unreadable": cells})
        elif any(c.strip() for c in cells):
            rows.append(_row(line, header, cells))
    return rows


def _xlsx_rows(data: bytes) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise DirectoryError("The file is not a readable .xlsx workbook") from None
    sheet = book.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    first = next(lines, None)
    if first is None:
        raise DirectoryError("The workbook's first sheet is empty")
    header = _header([str(c) if c is not None else "" for c in first])
    rows = []
    for number, cells in enumerate(lines, start=2):
        values = ["" if c is None else str(c) for c in cells]
        if any(v.strip() for v in values):
            rows.append(_row(number, header, values))
    book.close()
    return rows


def _row(line: int, header: list[str], cells: Sequence[str]) -> dict[str, Any]:
    values = {h: cells[i] if i < len(cells) else "" for i, h in enumerate(header) if h in COLUMNS}
    extra = [c for c in cells[len(header) :] if str(c).strip()]
    row: dict[str, Any] = {"line": line, "values": values}
    if extra:
        row["extra_cells"] = len(extra)
    return row


#: Files larger than this are checked by a job, with a progress bar, not in the request.
SYNC_IMPORT_BYTES = 256 * 1024


def preview(session: Session, user: User, filename: str, data: bytes) -> ImportBatch:
    """Check every row and keep the result for the user to confirm; nothing is imported yet.
    A large file is read by a job (status "reading", with progress); a small one at once."""
    rows, notes = read_rows(filename, data)  # size, format, encoding and header fail fast
    batch = ImportBatch(
        tenant_id=user.tenant_id,
        filename=filename[-300:],
        rows=[],
        created_by_id=user.id,
        status="reading",
    )
    session.add(batch)
    session.flush()
    if len(data) <= SYNC_IMPORT_BYTES:
        _check_rows(session, batch, rows, notes)
        return batch
    from app.jobs import enqueue
    from app.storage import get_storage

    key = f"imports/{user.tenant_id}/stakeholders-{batch.id}"
    get_storage().put(key, io.BytesIO(data), content_type="application/octet-stream")
    batch.storage_key = key
    session.flush()
    enqueue(read_import, batch.id, user.tenant_id)
    return batch


def _check_rows(
    session: Session,
    batch: ImportBatch,
    rows: list[dict[str, Any]],
    notes: list[str],
    progress: Any = None,
) -> None:
    existing = _existing_keys(session)
    seen: dict[tuple[str, ...], int] = {}
    checked = []
    for number, row in enumerate(rows, start=1):
        if progress is not None and number % 2000 == 0:
            progress(int(100 * number / len(rows)))
        if "unreadable" in row:
            checked.append(
                {**row, "errors": [f"cannot be read ({row['unreadable']}): check its quotes"]}
            )
            continue
        fields, errors, warnings = check(row["values"])
        if row.get("extra_cells"):
            errors.append(f"{row['extra_cells']} cell(s) beyond the named columns")
        key = _identity(fields)
        if key in seen:
            errors.append(f"the same stakeholder as line {seen[key]}")
        elif key in existing:
            warnings.append("already in your directory: it will be added again")
        seen.setdefault(key, row["line"])
        checked.append(
            {"line": row["line"], "values": row["values"], "errors": errors, "warnings": warnings}
        )
    if notes:
        checked = [{"line": 0, "values": {}, "errors": [], "warnings": notes}, *checked]
    batch.rows, batch.status, batch.progress = checked, "previewed", 100
    session.flush()


def _import_progress(batch_id: int, tenant_id: int, value: int) -> None:
    from flask import current_app

    from app.db import get_database, set_context

    with get_database(current_app._get_current_object()).transaction() as session:
        set_context(session, tenant_id=tenant_id)
        row = session.get(ImportBatch, batch_id)
        if row is not None:
            row.progress = value


@job
def read_import(session: Session, batch_id: int, tenant_id: int) -> str:
    """Job: check a large upload row by row; idempotent (a checked batch is left alone)."""
    from app.db import set_context
    from app.storage import get_storage

    set_context(session, tenant_id=tenant_id)
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.status != "reading":
        return "nothing to do"
    storage = get_storage()
    data = b"".join(storage.iter_chunks(batch.storage_key))
    try:
        rows, notes = read_rows(batch.filename, data)
    except DirectoryError as exc:
        batch.status, batch.error = "failed", str(exc)
        session.flush()
        return "failed"
    _check_rows(session, batch, rows, notes, lambda p: _import_progress(batch_id, tenant_id, p))
    storage.delete(batch.storage_key)
    return "previewed"


def _identity(fields: Mapping[str, Any]) -> tuple[str, ...]:
    """What makes two rows of one tenant's own list the same stakeholder."""
    emails = tuple(sorted(e.lower() for e in fields["emails"]))
    name = (fields["given_name"].lower(), fields["family_name"].lower())
    return (*name, fields["organisation"].lower(), *emails)


def _existing_keys(session: Session) -> set[tuple[str, ...]]:
    keys = set()
    for entry in session.scalars(select(StakeholderEntry)):
        keys.add(
            _identity(
                {
                    "given_name": entry.given_name,
                    "family_name": entry.family_name,
                    "organisation": entry.organisation,
                    "emails": entry.emails,
                }
            )
        )
    return keys


def commit(session: Session, batch: ImportBatch, user: User) -> int:
    """Import the rows without errors; the others stay listed with their reasons."""
    if batch.status != "previewed":
        raise DirectoryError(f"This import was already {batch.status}")
    count = 0
    for row in batch.rows:
        if row["line"] == 0 or row.get("errors"):
            continue
        fields, _errors, _warnings = check(row["values"])
        session.add(StakeholderEntry(tenant_id=user.tenant_id, **fields))
        count += 1
    batch.status, batch.committed_at, batch.imported = "committed", utcnow(), count
    session.flush()
    return count


def neutralise(value: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_rows(entries: Iterable[StakeholderEntry]) -> Iterable[str]:
    """The directory as CSV, one line at a time, in the import's own columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Sequence[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([neutralise(c) for c in cells])
        return buffer.getvalue()

    yield "\ufeff" + line(COLUMNS)
    for e in entries:
        yield line(
            [
                e.kind,
                e.title,
                e.given_name,
                e.family_name,
                e.role,
                e.organisation,
                "; ".join(e.emails),
                "; ".join(e.phones),
                e.address,
                e.category,
                "; ".join(e.tags),
                "yes" if e.consent else "no",
                "yes" if e.do_not_contact else "no",
                e.notes,
            ]
        )
