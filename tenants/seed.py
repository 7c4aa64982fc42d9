"""The founding tenants (DOMAIN.md's table) and, with --demo, a user for every role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import set_context
from tenants.models import Role, Tenant, User


@dataclass(frozen=True)
class FoundingTenant:
    slug: str
    name: str
    short_name: str
    colour: str
    senior_oversight_title: str
    sponsoring_department: str | None
    retention_summary: str
    email_domain: str


FOUNDING_TENANTS = [
    FoundingTenant(
        "hmcpsi",
        "HM Crown Prosecution Service Inspectorate",
        "HMCPSI",
        "#6f2c91",
        "Deputy Chief Inspector",
        "Attorney General's Office",
        "All inspection material other than data and the published report is destroyed the "
        "day before publication.",
        "hmcpsi.example.gov.uk",
    ),
    FoundingTenant(
        "hmicfrs",
        "HM Inspectorate of Constabulary and Fire & Rescue Services",
        "HMICFRS",
        "#00305c",
        "Portfolio Director / Assistant Portfolio Director",
        None,
        "Documents used in the inspection are retained on the records system; inspectors' "
        "notebooks can be destroyed once all notes are on the evidence gathering tool.",
        "hmicfrs.example.gov.uk",
    ),
    FoundingTenant(
        "hmiprobation",
        "HM Inspectorate of Probation",
        "HMI Probation",
        "#00703c",
        "Head of Thematic and Joint Inspection",
        "Ministry of Justice",
        "Kept between three months and ten years depending on the sensitivity of the data.",
        "hmiprobation.example.gov.uk",
    ),
    FoundingTenant(
        "hmiprisons",
        "HM Inspectorate of Prisons",
        "HMI Prisons",
        "#912b88",
        "Team Leader",
        "Ministry of Justice",
        "Electronic copies of evidence are kept three years, then reviewed (longer when a "
        "follow-up thematic is planned); paper copies are destroyed soon after publication.",
        "hmiprisons.example.gov.uk",
    ),
]

#: Demo sign-in password, printed by ``make run``; demo users are never made in production.
DEMO_PASSWORD = "joint-inspection-demo"  # noqa: S105


def seed_founding_tenants(session: Session) -> list[Tenant]:
    """Create or update the four founding tenants; running it again changes nothing."""
    tenants = []
    for founding in FOUNDING_TENANTS:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == founding.slug))
        if tenant is None:
            tenant = Tenant(slug=founding.slug)
            session.add(tenant)
        tenant.name = founding.name
        tenant.short_name = founding.short_name
        tenant.colour = founding.colour
        tenant.senior_oversight_title = founding.senior_oversight_title
        tenant.sponsoring_department = founding.sponsoring_department
        tenant.embargoed_copy = founding.sponsoring_department is not None
        tenant.retention_summary = founding.retention_summary
        if not tenant.email_domains:
            tenant.email_domains = founding.email_domain
        tenants.append(tenant)
    session.flush()
    return tenants


def seed_demo_users(session: Session, tenants: list[Tenant]) -> list[str]:
    """One demo user per role per tenant (plus a platform administrator); idempotent."""
    from tenants.service import create_user

    lines = []
    for tenant in tenants:
        set_context(session, tenant_id=tenant.id)
        for role in Role:
            email = f"{role.value.replace('_', '.')}@{tenant.domains[0]}"
            if session.scalar(select(User.id).where(User.email == email)) is None:
                create_user(
                    session,
                    tenant=tenant,
                    email=email,
                    name=f"{role.label} ({tenant.short_name})",
                    roles={role},
                    password=DEMO_PASSWORD,
                    is_platform_admin=(tenant.slug == "hmcpsi" and role is Role.ADMINISTRATOR),
                )
        lines.append(f"  {tenant.short_name:<14} e.g. lead.inspector@{tenant.domains[0]}")
    set_context(session, tenant_id=None)
    return lines


def seed(session: Session, demo: bool) -> list[str]:
    tenants = seed_founding_tenants(session)
    lines = [f"tenants: {', '.join(t.short_name for t in tenants)}"]
    if demo:
        lines.append("demo users (one per role in each tenant), password: " + DEMO_PASSWORD)
        lines.extend(seed_demo_users(session, tenants))
        lines.append("  platform administrator: administrator@hmcpsi.example.gov.uk")
    return lines
