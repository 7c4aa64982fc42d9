"""Demo evidence for the demo inspection: a few items with tiny files, scanned like any upload."""

from __future__ import annotations

import io

from sqlalchemy.orm import Session

from app.storage import get_storage
from shared_workspace.evidence import jobs, service, uploads
from shared_workspace.models import Workspace
from tenants.models import User

PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
#: (title, method, source, visibility, criteria, file name, content)
ITEMS = [
    (
        "Case file sample: release planning",
        "file_examination",
        "Case manager",
        "workspace",
        ["Pre-release planning"],
        "case-sample-summary.csv",
        b"case,release plan in place,accommodation on release\nA,yes,no\nB,no,no\nC,yes,yes\n",
    ),
    (
        "Interview notes: resettlement team",
        "interview",
        "Senior probation officer",
        "workspace",
        ["Accommodation on release", "Leadership and partnership"],
        "interview-notes.txt",
        b"The source described long waits for housing referrals before release.\n",
    ),
    (
        "Local housing protocol",
        "document_review",
        "Head of reducing reoffending",
        "inspectorate",
        ["Accommodation on release"],
        "housing-protocol.pdf",
        PDF,
    ),
]


def seed_demo_evidence(session: Session, workspace: Workspace, person: User) -> int:
    """Record the demo items for ``person``'s inspectorate and store and scan their files."""
    storage = get_storage()
    settings = jobs.settings()
    for title, method, source, visibility, criteria, name, content in ITEMS:
        item, _warnings = service.create_item(
            session,
            workspace,
            person,
            title=title,
            method=method,
            source=source,
            visibility=visibility,
            criteria=criteria,
        )
        file, _duplicates = uploads.stream_upload(
            session,
            storage,
            item,
            person,
            filename=name,
            stream=io.BytesIO(content),
            size=len(content),
            sha256=None,
            content_type=None,
            settings=settings,
        )
        jobs.scan_one(session, storage, file, settings)
    return len(ITEMS)
