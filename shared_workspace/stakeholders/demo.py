"""Demo stakeholders: each inspectorate's directory, with the same people written
differently, nominated for the demo inspection and consolidated into one list."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from shared_workspace.models import Workspace
from shared_workspace.stakeholders import directory, lists
from tenants.models import Tenant, User

#: (given, family, title, role, organisation, email, category) per inspectorate.
DIRECTORIES = {
    "hmiprobation": [
        (
            "Jane",
            "Smith",
            "Ms",
            "Director General, Probation",
            "Ministry of Justice",
            "jane.smith@justice.gov.uk",
            "sponsoring_department",
        ),
        (
            "Robert",
            "Khan",
            "Mr",
            "Regional Probation Director",
            "HM Prison and Probation Service",
            "robert.khan@justice.gov.uk",
            "inspected_body",
        ),
        ("", "", "", "Press office", "Ministry of Justice", "press.office@justice.gov.uk", "media"),
        (
            "Amara",
            "Okafor",
            "Dr",
            "Senior Lecturer in Criminology",
            "University of Manchester",
            "amara.okafor@manchester.ac.uk",
            "academic",
        ),
    ],
    "hmiprisons": [
        (
            "JANE",
            "SMITH",
            "Mrs",
            "Director-General Probation",
            "MoJ",
            "Jane.Smith@justice.gov.uk",
            "sponsoring_department",
        ),
        (
            "Bob",
            "Khan",
            "",
            "Regional Probation Director (North West)",
            "HMPPS",
            "robert.khan@justice.gov.uk",
            "inspected_body",
        ),
        (
            "Ann",
            "Bell",
            "Ms",
            "Governor",
            "HMP Manchester",
            "ann.bell@justice.gov.uk",
            "inspected_body",
        ),
        ("", "", "", "Chief Executive", "Nacro", "enquiries@nacro.org.uk", "third_sector"),
    ],
    "hmicfrs": [
        (
            "Stephen",
            "Watson",
            "Sir",
            "Chief Constable",
            "Greater Manchester Police",
            "chief.constable@gmp.police.uk",
            "criminal_justice_partner",
        ),
        (
            "Jane",
            "Smith",
            "Ms",
            "Head of Policing Policy",
            "Home Office",
            "jane.smith@homeoffice.gov.uk",
            "sponsoring_department",
        ),
        (
            "Amara",
            "Okafor",
            "Dr",
            "Criminology researcher",
            "Manchester University",
            "",
            "academic",
        ),
    ],
}


def seed(
    session: Session,
    workspace: Workspace,
    tenants: dict[str, Tenant],
    act: Callable[[Session, User], User],
    user: Callable[[Session, Tenant, str], User],
) -> None:
    for slug, rows in DIRECTORIES.items():
        person = act(session, user(session, tenants[slug], "lead.inspector"))
        ids = []
        for given, family, title, role, organisation, email, category in rows:
            entry = directory.save_entry(
                session,
                person,
                {
                    "kind": "person" if family else "post",
                    "given_name": given,
                    "family_name": family,
                    "title": title,
                    "role": role,
                    "organisation": organisation,
                    "emails": email,
                    "category": category,
                    "notes": f"Known to {tenants[slug].short_name} from earlier inspections.",
                },
            )
            ids.append(entry.id)
        lists.nominate(session, workspace, person, ids)
    lead = act(session, user(session, tenants["hmiprobation"], "lead.inspector"))
    lists.set_mode(session, workspace, lead, "each_sends_own")
    lists.rebuild(session, workspace)
