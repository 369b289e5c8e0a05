"""The tenant context: which tenant the current work belongs to, in Python and in PostgreSQL.

One context manager, :func:`tenant_context`, sets it and clears it. The middleware, the Celery
task base class and the websocket consumers all go through it. Inside, two things hold:

* the tenant-scoped managers filter on the tenant (so queries use the ``tenant_id`` indexes);
* the database session carries ``app.tenant_id``, which the row-level security policies compare
  with every row's ``tenant_id``. Without it, tenant tables show no rows at all.

Only :func:`bypass_context` (migrations, the platform operators' admin, cross-tenant
schedulers, login) sets ``app.bypass_rls`` and sees every tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver


@dataclass(frozen=True)
class _State:
    tenant_id: int | None = None
    bypass: bool = False


_NONE = _State()
_state: ContextVar[_State] = ContextVar("helpdesk_tenant_state", default=_NONE)


def current_tenant_id() -> int | None:
    """The tenant of the work in progress, or None outside any tenant context."""
    return _state.get().tenant_id


def bypass_active() -> bool:
    return _state.get().bypass


def _apply(state: _State, using: str = "default") -> None:
    """Copy the state into the database session (a no-op until a connection exists)."""
    conn = connections[using]
    if conn.connection is None:
        # Applied by `_on_connection_created` when the connection opens.
        return
    if conn.in_atomic_block and conn.needs_rollback:
        # The transaction failed; its rollback restores the session's previous settings.
        return
    _write_settings(conn, state)


def _write_settings(conn: Any, state: _State) -> None:
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.tenant_id', %s, false),"
            " set_config('app.bypass_rls', %s, false)",
            ["" if state.tenant_id is None else str(state.tenant_id), "on" if state.bypass else ""],
        )


@receiver(connection_created)
def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    state = _state.get()
    if state != _NONE:
        _write_settings(connection, state)


@contextmanager
def _enter(state: _State) -> Iterator[None]:
    token = _state.set(state)
    _apply(state)
    try:
        yield
    finally:
        _state.reset(token)
        _apply(_state.get())


def tenant_context(tenant_id: int) -> Any:
    """Run the block as tenant ``tenant_id``: scoped managers and row-level security."""
    if tenant_id is None:
        raise ValueError("tenant_context needs a tenant id")
    return _enter(_State(tenant_id=int(tenant_id)))


def bypass_context() -> Any:
    """See every tenant's rows. For migrations, platform admin, login and schedulers only."""
    return _enter(_State(bypass=True))


def no_tenant_context() -> Any:
    """Explicitly leave any tenant context (the database then shows no tenant rows)."""
    return _enter(_State())
