"""Three inspectorates in one joint inspection, driven through the API."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone


@pytest.fixture
def trio(client: FlaskClient, session: Session) -> list[Inspectorate]:
    """HMI Probation (the lead) and HMI Prisons send embargoed copies; HMICFRS does not."""
    return [
        inspectorate(session, client, "hmiprobation", embargoed_copy=True),
        inspectorate(session, client, "hmiprisons", embargoed_copy=True),
        inspectorate(session, client, "hmicfrs", embargoed_copy=False),
    ]


@pytest.fixture
def workspace(trio: list[Inspectorate]) -> int:
    ws = (
        trio[0]
        .call(
            "POST",
            "/api/v1/workspaces",
            {"title": "Resettlement", "participants": ["hmiprisons", "hmicfrs"]},
        )
        .get_json()["id"]
    )
    name_everyone(ws, *trio)
    return ws
