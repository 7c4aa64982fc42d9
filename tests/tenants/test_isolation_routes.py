"""The first wall, route by route: every rule in the URL map is walked as an anonymous
visitor, as a user of another tenant naming this tenant's ids, and as a user without the
needed role. New routes are covered automatically; a route with an id parameter this file
cannot fill fails until a factory for it is added to FOREIGN_IDS."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from app.db import set_context
from tenants import auth
from tenants.models import Role
from tests.tenants.fixtures import create_tenant, create_user, sign_in

SECRET = "ZZ-TENANT-B-SECRET"
#: Endpoints a signed-out visitor may use, and why.
PUBLIC = {
    "static",
    "web.home",
    "web.govuk_assets",
    "health.healthz",
    "health.readyz",
    "openapi.openapi_document",
    "api.status",
    "auth.sign_in",
    "auth.mfa_challenge",
    "auth.mfa_setup",
    "auth.sso_start",
    "inspections.in_progress",
    "inspections.terms",
    "tracker.public_tracker",
    "auth.sso_callback",
    "storage.download",
    "storage.upload",
    "storage.upload_part",
}
#: Run last: it ends the session every other request relies on.
SESSION_ENDING = {"auth.sign_out"}


@dataclass
class World:
    a_all: Any
    a_none: Any
    b_admin: Any
    foreign_ids: dict[str, int]
    a_token: str


#: URL parameters that are not ids, and a value to fill them with.
NON_ID_PARAMS = {
    "filename": "x",
    "token": "x",
    "fmt": "pdf",
    "spreadsheet": "csv",
    "number": 1,
    "section_key": "intro",
    "material_type": "evidence_file",
}
#: URL parameter name -> function(session, world objects) returning tenant B's id for it.
FOREIGN_IDS: dict[str, Callable[[Session, Any], int]] = {
    "user_id": lambda session, b: b["admin"].id,
    "token_id": lambda session, b: b["token"].id,
    "tenant_id": lambda session, b: b["tenant"].id,
    "workspace_id": lambda session, b: b["workspace"].id,
    "subject_id": lambda session, b: b["subject"].id,
    "decision_id": lambda session, b: b["decision"].id,
    "site_id": lambda session, b: b["site"].id,
    "item_id": lambda session, b: b["item"].id,
    "milestone_id": lambda session, b: b["milestone"].id,
    "document_id": lambda session, b: b["document"].id,
    "pending_id": lambda session, b: b["pending"].id,
    "comment_id": lambda session, b: b["comment"].id,
    "suggestion_id": lambda session, b: b["suggestion"].id,
    "red_line_id": lambda session, b: b["red_line"].id,
    "document_export_id": lambda session, b: b["document_export"].id,
    "entry_id": lambda session, b: b["entry"].id,
    "import_id": lambda session, b: b["import"].id,
    "nomination_id": lambda session, b: b["nomination"].id,
    "letter_id": lambda session, b: b["letter"].id,
    "circulation_id": lambda session, b: b["circulation"].id,
    "accuracy_comment_id": lambda session, b: b["accuracy_comment"].id,
    "recommendation_id": lambda session, b: b["recommendation"].id,
    "evidence_id": lambda session, b: b["evidence"].id,
    "file_id": lambda session, b: b["file"].id,
    "export_id": lambda session, b: b["export"].id,
    "material_id": lambda session, b: b["file"].id,
    "hold_id": lambda session, b: b["hold"].id,
    "schedule_id": lambda session, b: b["schedule"].id,
    "certificate_id": lambda session, b: b["certificate"].id,
}


@pytest.fixture
def world(session: Session) -> World:
    tenant_a = create_tenant(session)
    tenant_b = create_tenant(session, name=f"{SECRET} inspectorate")
    a_all = create_user(session, tenant_a, roles=list(Role))
    a_none = create_user(session, tenant_a, roles=[])
    b_admin = create_user(
        session,
        tenant_b,
        roles=list(Role),
        name=f"{SECRET} person",
        email="zz-secret@tenant-b.example.gov.uk",
    )
    set_context(session, tenant_id=tenant_b.id, user_id=b_admin.id)
    b_token, _ = auth.create_token(session, b_admin, name=f"{SECRET} token", scopes={"read"})
    set_context(session, tenant_id=tenant_a.id, user_id=a_all.id)
    _row, a_token = auth.create_token(session, a_all, name="a", scopes={"read", "write"})
    b = {"admin": b_admin, "token": b_token, "tenant": tenant_b}
    b.update(_foreign_workspace(session, tenant_b, b_admin))
    foreign = {name: factory(session, b) for name, factory in FOREIGN_IDS.items()}
    session.commit()
    return World(a_all, a_none, b_admin, foreign, a_token)


def _foreign_workspace(session: Session, tenant_b, b_admin) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A joint inspection between tenant B and a third tenant: tenant A takes no part."""
    from datetime import date

    from shared_workspace import decisions, plan, service
    from shared_workspace.models import BodyType

    partner = create_tenant(session)
    set_context(session, tenant_id=tenant_b.id, user_id=b_admin.id)
    workspace = service.create_workspace(
        session, title=f"{SECRET} inspection", lead=b_admin, participants=[partner]
    )
    subject = decisions.create_subject(
        session,
        workspace,
        kind="methodology",
        title=f"{SECRET} method",
        content={"x": SECRET},
        user=b_admin,
    )
    decision = decisions.propose(
        session, workspace, kind="methodology", subject=subject, user=b_admin
    )
    site = service.add_site(
        session,
        workspace,
        name=f"{SECRET} prison",
        body_type=BodyType.PRISON,
        fieldwork_starts_on=date(2030, 1, 1),
        fieldwork_ends_on=None,
        user=b_admin,
    )
    item = service.add_checklist_item(session, workspace, b_admin, stage=1, text=f"{SECRET} item")
    milestone = plan.add_milestone(
        session, workspace, b_admin, stage=1, title=f"{SECRET} milestone", due_on=date(2030, 1, 1)
    )
    documents = _foreign_documents(session, workspace, b_admin)
    stakeholders = _foreign_stakeholders(session, workspace, b_admin)
    stakeholders.update(
        _foreign_publication(session, workspace, b_admin, documents["document"], site)
    )
    return {
        **documents,
        **stakeholders,
        **_foreign_evidence(session, workspace, tenant_b, b_admin),
        **_foreign_retention(session, workspace, documents["document"], b_admin),
        "milestone": milestone,
        "workspace": workspace,
        "subject": subject,
        "decision": decision,
        "site": site,
        "item": item,
    }


def _foreign_evidence(session: Session, workspace, tenant_b, b_admin) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """An evidence item of tenant B's inspection with a scanned file, and a zip export."""
    from shared_workspace.evidence import service as evidence
    from shared_workspace.evidence.models import EvidenceExport, EvidenceFile

    item, _warnings = evidence.create_item(
        session, workspace, b_admin, title=f"{SECRET} evidence", method="interview"
    )
    file = EvidenceFile(
        item_id=item.id,
        workspace_id=workspace.id,
        tenant_id=tenant_b.id,
        visibility=item.visibility,
        uploaded_by_id=b_admin.id,
        filename=f"{SECRET}.pdf",
        declared_size=10,
        state="clean",
    )
    export = EvidenceExport(
        workspace_id=workspace.id, tenant_id=tenant_b.id, requested_by_id=b_admin.id
    )
    session.add_all([file, export])
    session.flush()
    return {"evidence": item, "file": file, "export": export}


def _foreign_retention(session: Session, workspace, document, b_admin) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Tenant B's claim on its report, a hold on the inspection and a destruction
    certificate."""
    from datetime import date

    from sqlalchemy import select

    from retention import holds
    from retention.models import Certificate, Schedule

    schedule = session.scalar(
        select(Schedule).where(
            Schedule.material_type == "document",
            Schedule.material_id == document.id,
            Schedule.tenant_id == b_admin.tenant_id,
        )
    )
    hold = holds.place_hold(
        session,
        b_admin,
        scope="workspace",
        workspace_id=workspace.id,
        reason_kind="legal",
        reason=f"{SECRET} hold",
        review_on=date(2099, 1, 1),
    )
    certificate = Certificate(tenant_id=b_admin.tenant_id, state="complete", digest=SECRET)
    session.add(certificate)
    session.flush()
    return {"schedule": schedule, "hold": hold, "certificate": certificate}


def _foreign_documents(session: Session, workspace, b_admin) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A document of tenant B's inspection with a conflict, a comment, a suggestion, a red
    line and an export waiting."""
    from shared_workspace.documents import review, service
    from shared_workspace.documents.models import DocumentExport

    document = service.create_document(
        session,
        workspace,
        b_admin,
        kind="report",
        title=f"{SECRET} report",
        sections=[{"key": "intro", "title": f"{SECRET} intro", "body": f"<p>{SECRET}</p>"}],
    )
    sections = [{"key": "intro", "title": "Intro", "body": "<p>one</p>"}]
    service.save(session, workspace, document, b_admin, base_number=1, sections=sections)
    clash = [{"key": "intro", "title": "Intro", "body": f"<p>{SECRET} two</p>"}]
    pending = service.save(session, workspace, document, b_admin, base_number=1, sections=clash)
    comment = review.add_comment(
        session, document, b_admin, section_key="intro", body=f"{SECRET} comment"
    )
    suggestion = review.suggest(
        session, document, b_admin, section_key="intro", operation="insert", text=SECRET
    )
    red_line = review.add_red_line(session, workspace, b_admin, f"{SECRET} red line")
    export = DocumentExport(
        document_id=document.id,
        workspace_id=workspace.id,
        tenant_id=b_admin.tenant_id,
        requested_by_id=b_admin.id,
        version_number=1,
        format="pdf",
    )
    session.add(export)
    session.flush()
    return {
        "document": document,
        "pending": pending.pending,
        "comment": comment,
        "suggestion": suggestion,
        "red_line": red_line,
        "document_export": export,
    }


def _foreign_publication(session: Session, workspace, b_admin, document, site) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Tenant B's letter, a draft circulation with a comment and a recommendation."""
    from datetime import date

    from shared_workspace.publication import circulations, letters, media, tracker

    letter = letters.create_letter(
        session,
        workspace,
        b_admin,
        addressee_name=f"{SECRET} governor",
        title=f"{SECRET} inspection",
        body=f"<p>{SECRET}</p>",
        addressee_email="zz-secret@tenant-b.example.gov.uk",
        site=site,
    )
    circulation = media.circulate(
        session,
        workspace,
        b_admin,
        document=document,
        recipient=f"{SECRET} reader",
        sent_on=date(2026, 1, 5),
    )
    recommendation = tracker.add(
        session,
        workspace,
        b_admin,
        text=f"{SECRET} recommendation",
        organisation="HMPPS",
        measure="x",
        due_on=date(2031, 1, 1),
    )
    accuracy_comment = circulations.add_comment(
        session,
        workspace,
        circulation,
        b_admin,
        text=f"{SECRET} comment",
        received_on=date(2026, 1, 6),
    )
    return {
        "letter": letter,
        "circulation": circulation,
        "accuracy_comment": accuracy_comment,
        "recommendation": recommendation,
    }


def _foreign_stakeholders(session: Session, workspace, b_admin) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Tenant B's directory entry, an import waiting and a nomination in its inspection."""
    from shared_workspace.stakeholders import directory, lists

    entry = directory.save_entry(
        session,
        b_admin,
        {
            "given_name": SECRET,
            "family_name": "Person",
            "emails": "zz-secret@tenant-b.example.gov.uk",
            "notes": SECRET,
        },
    )
    batch = directory.preview(
        session, b_admin, "list.csv", f"given_name,family_name\n{SECRET},Two\n".encode()
    )
    (nomination,) = lists.nominate(session, workspace, b_admin, [entry.id])
    return {"entry": entry, "import": batch, "nomination": nomination}


def _rules(app: Flask) -> list[tuple[Rule, str]]:
    pairs = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    return sorted(pairs, key=lambda p: (p[0].endpoint in SESSION_ENDING, p[0].rule, p[1]))


def _url(rule: Rule, world: World) -> str:
    values = {}
    for name in rule.arguments:
        if name in NON_ID_PARAMS:
            values[name] = NON_ID_PARAMS[name]
            continue
        assert name in world.foreign_ids, (
            f"{rule.rule}: add a factory for {name!r} to FOREIGN_IDS so isolation is tested"
        )
        values[name] = world.foreign_ids[name]
    url = rule.rule
    for name, value in values.items():
        url = re.sub(r"<(?:[^:<>]+:)?" + name + ">", str(value), url)
    return url


def _call(  # type: ignore[no-untyped-def]
    client: FlaskClient,
    method: str,
    url: str,
    api: bool,
    token: str | None = None,
    body: dict[str, Any] | None = None,
):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    payload = (body or {}) if method != "GET" else None
    if api:
        return client.open(url, method=method, json=payload, headers=headers)
    return client.open(url, method=method, data=payload, headers=headers)


def _assert_no_foreign_data(response, where: str) -> None:  # type: ignore[no-untyped-def]
    body = (
        response.get_data(as_text=True)
        if not response.is_streamed or response.mimetype != "text/csv"
        else response.get_data(as_text=True)
    )
    assert SECRET not in body, f"{where} leaked tenant B's data"
    assert "zz-secret@tenant-b" not in body, f"{where} leaked tenant B's data"


def test_every_route_isolates_tenants_and_checks_roles(app: Flask, world: World) -> None:
    checked = 0
    signed_in = app.test_client()
    sign_in(signed_in, world.a_all)
    no_roles = app.test_client()
    sign_in(no_roles, world.a_none)
    for rule, method in _rules(app):
        url = _url(rule, world)
        api = rule.rule.startswith("/api/v1/")
        where = f"{method} {rule.rule} ({rule.endpoint})"
        view = app.view_functions[rule.endpoint]

        anonymous = _call(app.test_client(), method, url, api)
        _assert_no_foreign_data(anonymous, where + " anonymous")
        if rule.endpoint not in PUBLIC:
            if api:
                assert anonymous.status_code == 401, where
            else:
                assert anonymous.status_code == 302, where
                assert "/sign-in" in anonymous.headers["Location"], where

        other_tenant = _call(signed_in, method, url, api, world.a_token if api else None)
        # The same again with tenant B's ids in the body wherever a field takes an id.
        foreign_body = dict(world.foreign_ids)
        with_ids = _call(signed_in, method, url, api, world.a_token if api else None, foreign_body)
        _assert_no_foreign_data(with_ids, where + " with foreign ids in the body")
        assert with_ids.status_code < 500, f"{where} with foreign ids: {with_ids.status_code}"
        _assert_no_foreign_data(other_tenant, where + " as another tenant")
        id_params = [a for a in rule.arguments if a in world.foreign_ids]
        if id_params:
            # Platform pages refuse non-platform-administrators outright; the rest answer as if
            # the foreign row did not exist.
            expected = 403 if getattr(view, "platform_admin_only", False) else 404
            assert other_tenant.status_code == expected, f"{where}: {other_tenant.status_code}"
        assert other_tenant.status_code != 500, where

        roles = getattr(view, "required_roles", None)
        if roles and not api:
            assert _call(no_roles, method, url, api).status_code == 403, where
        if getattr(view, "platform_admin_only", False) and not id_params:
            assert other_tenant.status_code == 403, f"{where}: not a platform administrator"
        checked += 1
    assert checked >= 20


HOSTILE = [
    "'; DROP TABLE users; --",
    "' OR '1'='1",
    "<script>alert(1)</script>",
    "x" * 5000,
    "\u0000",
    "../../etc/passwd",
    "-1",
    "99999999999999999999",
    "\u00b2",  # "²": str.isdigit() says yes, int() says no
]

#: Form fields read straight from the request (no form schema declares them).
RAW_FIELDS = {
    "action",
    "letter_id",
    "recommendation_id",
    "comment_id",
    "document_id",
    "site_id",
    "base_version",
    "working_days",
    "warning_days",
}


def _form_field_names() -> set[str]:
    from app.forms import FormSchema

    names: set[str] = set()
    stack = list(FormSchema.__subclasses__())
    while stack:
        schema = stack.pop()
        stack.extend(schema.__subclasses__())
        names.update(schema._declared_fields)
    return names | RAW_FIELDS


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_in_every_form_field_never_cause_a_server_error(
    app: Flask, world: World, value: str
) -> None:
    """Every POST route, with every known form field set to a hostile value, as a user
    holding every role: a clear answer (never 500), no foreign data."""
    client = app.test_client()
    sign_in(client, world.a_all)
    data = {name: value for name in _form_field_names()}
    for rule, method in _rules(app):
        if method != "POST" or rule.rule.startswith("/api/") or rule.endpoint in SESSION_ENDING:
            continue
        response = client.post(_url(rule, world), data=data)
        assert response.status_code < 500, f"POST {rule.rule} answered {response.status_code}"
        _assert_no_foreign_data(response, f"POST {rule.rule}")
        if response.status_code == 302 and "/sign-in" in response.headers.get("Location", ""):
            sign_in(client, world.a_all)


def test_roles_are_enforced_on_the_api(app: Flask, session: Session) -> None:
    tenant = create_tenant(session)
    user = create_user(session, tenant, roles=[Role.INSPECTOR])
    set_context(session, tenant_id=tenant.id, user_id=user.id)
    _row, token = auth.create_token(session, user, name="t", scopes={"read", "write"})
    session.commit()
    client = app.test_client()
    for rule, method in _rules(app):
        view = app.view_functions[rule.endpoint]
        if rule.rule.startswith("/api/v1/") and getattr(view, "required_roles", None):
            url = re.sub(r"<(?:[^:<>]+:)?\w+>", "1", rule.rule)
            response = _call(client, method, url, True, token)
            assert response.status_code == 403, f"{method} {rule.rule}"
