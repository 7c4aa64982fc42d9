"""``flask storage reconcile``: objects without a record, records without an object."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

storage_cli = AppGroup("storage", help="Object storage housekeeping.")


@storage_cli.command("reconcile")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def reconcile_command(as_json: bool) -> None:
    """List stored objects no record accounts for and records whose object is missing;
    exit 1 when there is either."""
    from app.audit import Actor
    from app.db import get_database
    from app.storage import get_storage
    from shared_workspace.evidence.jobs import reconcile

    with get_database().transaction() as session:
        session.info["actor"] = Actor(None, None, "flask storage reconcile")
        found = reconcile(session, get_storage())
    if as_json:
        click.echo(
            json.dumps(
                {
                    "objects_without_record": found.orphans,
                    "records_without_object": [
                        {"record": label, "key": key} for label, key in found.missing
                    ],
                }
            )
        )
    else:
        for key in found.orphans:
            click.echo(f"object without a record: {key}")
        for label, key in found.missing:
            click.echo(f"record without an object: {label} ({key})")
        click.echo(
            f"{len(found.orphans)} objects without a record, "
            f"{len(found.missing)} records without an object"
        )
    if found.orphans or found.missing:
        raise SystemExit(1)
