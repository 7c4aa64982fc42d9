"""The first isolation wall: every ORM query only sees the current tenant's rows.

Models that set ``__tenant_owned__ = True`` carry ``tenant_id``; every SELECT through the
ORM gets ``tenant_id = <current tenant>`` added, and with no tenant set nothing matches
(fail closed). PostgreSQL's row-level security is the second wall (migrations/rls.py).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import event, false
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
    return obj
