"""The first isolation wall: every ORM query only sees the current tenant's rows.

Models that set ``__tenant_owned__ = True`` carry ``tenant_id``; every SELECT through the
ORM gets ``tenant_id = <current tenant>`` added, and with no tenant set nothing matches
(fail closed). PostgreSQL's row-level security is the second wall (migrations/rls.py).
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from sqlalchemy import event, false, select
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, with_loader_criteria
from werkzeug.exceptions import NotFound

from app.db import Base

T = TypeVar("T")
#: Value of a ``__visibility_column__`` that shares a row with the whole workspace; any other
#: value keeps it to the tenant that owns it (``tenant_id``).
SHARED_WITH_WORKSPACE = "workspace"
#: Ids are PostgreSQL integers; anything larger cannot exist and must not reach the database.
MAX_ID = 2**31 - 1

#: Purposes that may read across tenants, and the only models each may read.
CROSS_TENANT_PURPOSES = {
    "sign-in": {"users"},
    "token-auth": {"api_tokens"},
    "public-terms": {"workspaces"},
    "public-tracker": {"workspaces", "recommendations", "recommendation_responses"},
    "retention-rules": {"retention_rules"},
}


def _tables_declaring(flag: str) -> list[str]:
    return sorted(
        m.class_.__tablename__ for m in Base.registry.mappers if getattr(m.class_, flag, False)
    )


def tenant_owned_tables() -> list[str]:
    """Tables of models declaring ``__tenant_owned__`` (rows of one tenant)."""
    return _tables_declaring("__tenant_owned__")


def workspace_scoped_tables() -> list[str]:
    """Tables of models declaring ``__workspace_scoped__`` (rows of participating tenants)."""
    return _tables_declaring("__workspace_scoped__")


def _scoped(model: type[Any]) -> bool:
    return getattr(model, "__tenant_owned__", False) or getattr(
        model, "__workspace_scoped__", False
    )


def _participating(tenant_id: int) -> Any:
    """Ids of the workspaces ``tenant_id`` takes part in, as a subquery.

    Built on the bare table (not the mapped class) so the participant criteria do not apply
    to their own subquery and recurse.
    """
    from shared_workspace.models import Participant

    table = Participant.__table__.alias("my_participation")
    return select(table.c.workspace_id).where(table.c.tenant_id == tenant_id).scalar_subquery()


def _fellow_member_ids(tenant_id: int) -> Any:
    from shared_workspace.models import Member

    members = Member.__table__.alias("fellow_members")
    return (
        select(members.c.user_id)
        .where(members.c.workspace_id.in_(_participating(tenant_id)))
        .scalar_subquery()
    )


def _criterion(model: type[Any], tenant_id: int | None) -> Any:
    """The rows of ``model`` the tenant may see, as a SQL condition."""
    if tenant_id is None:
        return false()
    if getattr(model, "__tenant_owned__", False):
        own = model.tenant_id == tenant_id
        if getattr(model, "__visible_to_fellow_members__", False):
            # People named in a workspace are seen by the other participating inspectorates.
            return own | model.id.in_(_fellow_member_ids(tenant_id))
        return own
    column = getattr(model, getattr(model, "__workspace_column__", "workspace_id"))
    visible = column.in_(_participating(tenant_id))
    if getattr(model, "__participant_private__", False):
        return (model.tenant_id == tenant_id) & visible
    visibility = getattr(model, "__visibility_column__", None)
    if visibility:
        # Rows each one chooses: the whole workspace, or its own inspectorate only.
        shared = getattr(model, visibility) == SHARED_WITH_WORKSPACE
        return visible & (shared | (model.tenant_id == tenant_id))
    return visible


@functools.lru_cache(maxsize=4096)
def _option(model: type[Any], tenant_id: int | None) -> Any:
    """One reusable loader option per model and tenant (building them per query is costly)."""
    return with_loader_criteria(
        model,
        _criterion(model, tenant_id),
        include_aliases=True,
        # Relationship loads run this hook themselves, with the context of their time.
        propagate_to_loaders=False,
    )


@functools.lru_cache(maxsize=1024)
def _reachable(mapper: Mapper[Any]) -> frozenset[Mapper[Any]]:
    """The mapper and every mapper it loads in the same query (joined eager loads)."""
    seen = {mapper}
    stack = [mapper]
    while stack:
        current = stack.pop()
        for rel in current.relationships:
            if rel.lazy == "joined" and rel.mapper not in seen:
                seen.add(rel.mapper)
                stack.append(rel.mapper)
    return frozenset(seen)


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if not state.is_select or state.execution_options.get("skip_tenant_scope"):
        return
    session = state.session
    tenant_id = session.info.get("tenant_id")
    allowed = CROSS_TENANT_PURPOSES.get(session.info.get("purpose") or "", set())
    involved: set[Mapper[Any]] = set()
    for mapper in state.all_mappers:
        involved |= _reachable(mapper)
    if not involved:  # a statement whose entities SQLAlchemy cannot list: scope everything
        involved = {m for m in Base.registry.mappers}
    options = [
        _option(mapper.class_, tenant_id)
        for mapper in involved
        if _scoped(mapper.class_) and mapper.class_.__tablename__ not in allowed
    ]
    if options:
        state.statement = state.statement.options(*options)


def get_or_404(session: Session, model: type[T], ident: Any) -> T:
    """The row with this primary key if the current tenant may see it; otherwise 404.

    A foreign tenant's row answers exactly like a row that does not exist.
    """
    if isinstance(ident, int) and not 0 < ident <= MAX_ID:
        raise NotFound()
    obj = session.get(model, ident)
    if obj is None:
        raise NotFound()
    tenant_id = session.info.get("tenant_id")
    if getattr(model, "__tenant_owned__", False) and obj.tenant_id != tenant_id:  # type: ignore[attr-defined]
        raise NotFound()
    if getattr(model, "__workspace_scoped__", False):
        column = getattr(model, "__workspace_column__", "workspace_id")
        if not participates(session, getattr(obj, column), tenant_id):
            raise NotFound()
        if getattr(model, "__participant_private__", False) and obj.tenant_id != tenant_id:  # type: ignore[attr-defined]
            raise NotFound()
        visibility = getattr(model, "__visibility_column__", None)
        if (
            visibility
            and getattr(obj, visibility) != SHARED_WITH_WORKSPACE
            and obj.tenant_id != tenant_id  # type: ignore[attr-defined]
        ):
            raise NotFound()
    return obj


def participates(session: Session, workspace_id: int, tenant_id: int | None) -> bool:
    """Whether ``tenant_id`` takes part in the workspace (checked without the identity map)."""
    from shared_workspace.models import Participant

    if tenant_id is None:
        return False
    return (
        session.scalar(
            select(Participant.id)
            .where(Participant.workspace_id == workspace_id, Participant.tenant_id == tenant_id)
            .execution_options(skip_tenant_scope=True)
        )
        is not None
    )
