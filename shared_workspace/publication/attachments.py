"""What each scheduled send carries: the agreed press notice (principle 8, §45) or the
signed-off report (§40), as PDFs rendered once per run and inspection, never an unagreed
draft."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_workspace import decisions
from shared_workspace.documents.models import Document, DocumentVersion
from shared_workspace.models import Workspace

#: The decision that must stand on the attached document, by kind of send.
AGREEMENT = {
    "press_notice": "press_materials",
    "embargoed_copy": "final_report",
    "publication": "final_report",
    "thank_you": "final_report",
}
WAITING = {
    "press_materials": "waiting: every inspectorate must agree the press notice first (§45)",
    "final_report": "waiting: every inspectorate's chief inspector must sign off the final "
    "report first (§40)",
}


class Attachments:
    """PDFs for one run of the send job: ``get`` gives (filename, bytes), or why the send must
    wait. Rendering a long report takes seconds, so each is rendered once per run."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[tuple[int, str], tuple[str, bytes] | str] = {}

    def get(self, workspace: Workspace, kind: str) -> tuple[str, bytes] | str:
        key = (workspace.id, AGREEMENT[kind])
        if key not in self.cache:
            self.cache[key] = self._render(workspace, kind)
        return self.cache[key]

    def _render(self, workspace: Workspace, kind: str) -> tuple[str, bytes] | str:
        from shared_workspace.documents import exports
        from shared_workspace.publication.media import press_notice

        agreement = AGREEMENT[kind]
        if agreement == "press_materials" and press_notice(self.session, workspace) is None:
            return "waiting: the lead has not drafted the press notice (publication page)"
        decision = decisions.agreed_decision(self.session, workspace, agreement)
        document = (
            self.session.scalar(
                select(Document).where(
                    Document.workspace_id == workspace.id,
                    Document.subject_id == decision.subject_id,
                )
            )
            if decision is not None
            else None
        )
        if agreement == "press_materials" and document is not None:
            notice = press_notice(self.session, workspace)
            document = document if notice is not None and notice.id == document.id else None
        if document is None or document.destroyed_at is not None:
            return WAITING[agreement]
        version = self.session.scalar(
            select(DocumentVersion).where(
                DocumentVersion.document_id == document.id,
                DocumentVersion.number == document.head_number,
            )
        )
        assert version is not None
        html = exports.render_html(workspace, document, version, draft=False)
        name = "press-notice" if agreement == "press_materials" else "report"
        return f"{name}-{workspace.id}.pdf", exports.to_pdf(html)
