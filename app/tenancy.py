"""The first isolation wall: every ORM query only sees the current tenant's rows.

Models that set ``__tenant_owned__ = True`` carry ``tenant_id``; every SELECT through the
ORM gets ``tenant_id = <current tenant>`` added, and with no tenant set nothing matches
(fail closed). PostgreSQL's row-level security is the second wall (migrations/rls.py).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import event, false, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from werkzeug.exceptions import NotFound

from app.db import Base

T = TypeVar("T")
#: Ids are PostgreSQL integers; anything larger cannot exist and must not reach the database.
MAX_ID = 2**31 - 1

#: Purposes that may read across tenants, and the only models each may read.
CROSS_TENANT_PURPOSES = {
    "sign-in": {"users"},
    "token-auth": {"api_tokens"},
}


_models_cache: tuple[int, tuple[type[Any], ...]] = (-1, ())


def tenant_owned_models() -> tuple[type[Any], ...]:
    """Every model declaring ``__tenant_owned__``, recomputed only when new models appear."""
    global _models_cache
    mappers = Base.registry.mappers
    if _models_cache[0] != len(mappers):
        owned = tuple(m.class_ for m in mappers if getattr(m.class_, "__tenant_owned__", False))
        _models_cache = (len(mappers), owned)
    return _models_cache[1]


def tenant_owned_tables() -> list[str]:
    return sorted(model.__tablename__ for model in tenant_owned_models())


_ws_cache: tuple[int, tuple[type[Any], ...]] = (-1, ())


def workspace_scoped_models() -> tuple[type[Any], ...]:
    """Every model declaring ``__workspace_scoped__`` (seen by participating tenants)."""
    global _ws_cache
    mappers = Base.registry.mappers
    if _ws_cache[0] != len(mappers):
        scoped = tuple(
            m.class_ for m in mappers if getattr(m.class_, "__workspace_scoped__", False)
        )
        _ws_cache = (len(mappers), scoped)
    return _ws_cache[1]


def workspace_scoped_tables() -> list[str]:
    return sorted(model.__tablename__ for model in workspace_scoped_models())


def _participating(tenant_id: int) -> Any:
    """Ids of the workspaces ``tenant_id`` takes part in, as a subquery.

    Built on the bare table (not the mapped class) so the participant criteria do not apply
    to their own subquery and recurse.
    """
    from shared_workspace.models import Participant

    table = Participant.__table__.alias("my_participation")
    return select(table.c.workspace_id).where(table.c.tenant_id == tenant_id).scalar_subquery()


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if not state.is_select or state.execution_options.get("skip_tenant_scope"):
        return
    session = state.session
    tenant_id = session.info.get("tenant_id")
    allowed = CROSS_TENANT_PURPOSES.get(session.info.get("purpose") or "", set())
    for model in tenant_owned_models():
        if model.__tablename__ in allowed:
            continue
        if tenant_id is None:
            criteria = with_loader_criteria(
                model, false(), include_aliases=True, propagate_to_loaders=False
            )
        else:
            # A lambda, so SQLAlchemy caches the criteria once and binds tenant_id per query.
            criteria = with_loader_criteria(
                model,
                lambda cls: cls.tenant_id == tenant_id,
                include_aliases=True,
                # Relationship loads run this hook themselves, with the context of their time.
                propagate_to_loaders=False,
                track_closure_variables=True,
            )
        state.statement = state.statement.options(criteria)
    scoped = workspace_scoped_models()
    mine = _participating(tenant_id) if tenant_id is not None and scoped else None
    for model in scoped:
        column = getattr(model, getattr(model, "__workspace_column__", "workspace_id"))
        if mine is None:
            condition = false()
        elif getattr(model, "__participant_private__", False):
            condition = (model.tenant_id == tenant_id) & column.in_(mine)
        else:
            condition = column.in_(mine)
        state.statement = state.statement.options(
            with_loader_criteria(model, condition, include_aliases=True, propagate_to_loaders=False)
        )


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
