"""Writes of the inbox columns: create, edit, delete, reorder, and the recommended flows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from helpdesk.models import Role, User
from tickets.filters import TicketFilter
from tickets.models import Column, ColumnKind, ColumnSort

MAX_COLUMNS = 12


@dataclass(frozen=True)
class Preset:
    name: str
    filters: dict[str, Any]
    sort: str = ColumnSort.UPDATED


def agent_flow() -> list[Preset]:
    """Postcenter's recommended three: new, addressed, waiting for us."""
    mine_open = {"assignee": {"mode": "me"}, "status": ["open"]}
    return [
        Preset(_("Nuevos"), {**mine_open, "addressed": False}),
        Preset(_("Abordados / respondidos"), {**mine_open, "addressed": True, "awaiting": False}),
        Preset(_("En espera"), {**mine_open, "awaiting": True}, ColumnSort.WAITING),
    ]


def four_column_flow() -> list[Preset]:
    """The three, plus the queue nobody has taken yet."""
    return [
        Preset(_("Sin asignar"), {"assignee": {"mode": "nobody"}, "status": ["open"]}),
        *agent_flow(),
    ]


def supervisor_flow() -> list[Preset]:
    return [
        Preset(_("Sin asignar"), {"assignee": {"mode": "nobody"}, "status": ["open"]}),
        Preset(
            _("Todos esperando respuesta"),
            {"status": ["open"], "awaiting": True},
            ColumnSort.WAITING,
        ),
        Preset(_("SLA vencido"), {"status": ["open"], "sla": ["breached"]}),
        Preset(_("Importantes"), {"status": ["open"], "important": True}),
    ]


FLOWS = {"agent": agent_flow, "four": four_column_flow, "supervisor": supervisor_flow}


def recommended_for(user: User) -> list[Preset]:
    return supervisor_flow() if user.role == Role.ADMIN else agent_flow()


def columns_apply_flow(*, user: User, flow: str | None = None) -> list[Column]:
    """Replace the person's columns with a recommended flow ("restore recommended")."""
    presets = FLOWS[flow]() if flow in FLOWS else recommended_for(user)
    with transaction.atomic():
        Column.objects.filter(user=user).delete()
        return [
            Column.objects.create(
                tenant_id=user.tenant_id,
                user=user,
                name=p.name,
                position=i,
                filters=p.filters,
                sort=p.sort,
            )
            for i, p in enumerate(presets)
        ]


def columns_ensure(*, user: User) -> None:
    """A person with no columns gets the recommended ones."""
    if not Column.objects.filter(user=user).exists():
        columns_apply_flow(user=user)


def clean_filters(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Keep only what the engine understands (round-trip through the typed filter)."""
    if kind != ColumnKind.TICKETS:
        return {k: v for k, v in data.items() if v not in (None, "", [], {})}
    f = TicketFilter.from_data(data)
    out: dict[str, Any] = {}
    if f.channels:
        out["channels"] = sorted(f.channels)
    if f.accounts:
        out["accounts"] = sorted(f.accounts)
    if f.assignee_mode:
        out["assignee"] = {"mode": f.assignee_mode}
        if f.assignee_mode == "users":
            out["assignee"]["users"] = sorted(f.assignee_users)
    if f.statuses:
        out["status"] = sorted(f.statuses)
    for name in ("has_metadata", "awaiting", "important", "has_comments", "addressed"):
        value = getattr(f, name)
        if value is not None:
            out[name] = value
    if f.customer is not None:
        out["customer"] = f.customer
    if f.departments:
        out["departments"] = sorted(f.departments)
    if f.sla:
        out["sla"] = sorted(f.sla)
    if f.date_from:
        out["date_from"] = f.date_from.isoformat()
    if f.date_to:
        out["date_to"] = f.date_to.isoformat()
    return out


def column_save(
    *,
    user: User,
    column: Column | None,
    name: str,
    kind: str,
    filters: dict[str, Any],
    sort: str,
    sound: bool,
    desktop_notify: bool,
) -> Column:
    from tickets.services import ActionRefused

    name = name.strip()[:60]
    if not name:
        raise ActionRefused(_("Ponle un nombre a la columna."))
    if kind not in ColumnKind.values:
        raise ActionRefused(_("Tipo de columna desconocido."))
    with transaction.atomic():
        if column is None:
            if Column.objects.filter(user=user).count() >= MAX_COLUMNS:
                raise ActionRefused(
                    _("Puedes tener hasta %(n)s columnas. Borra una para crear otra.")
                    % {"n": MAX_COLUMNS}
                )
            last = Column.objects.filter(user=user).aggregate(m=Max("position"))["m"]
            column = Column(tenant=user.tenant, user=user, position=(last or 0) + 1)
        column.name = name
        column.kind = kind
        column.filters = clean_filters(kind, filters)
        column.sort = sort if sort in ColumnSort.values else ColumnSort.UPDATED
        column.sound = sound
        column.desktop_notify = desktop_notify
        column.save()
    return column


def column_delete(*, column: Column) -> None:
    column.delete()


def columns_reorder(*, user: User, ids: list[int]) -> None:
    """Positions from an ordered list of the person's column ids (drag and drop)."""
    with transaction.atomic():
        mine = {c.pk: c for c in Column.objects.select_for_update().filter(user=user)}
        ordered = [mine[i] for i in ids if i in mine]
        ordered += [c for c in sorted(mine.values(), key=lambda c: c.position) if c not in ordered]
        for position, column in enumerate(ordered):
            if column.position != position:
                column.position = position
                column.save(update_fields=["position"])


def column_move(*, user: User, column: Column, step: int) -> None:
    """The keyboard alternative to drag and drop: one place left (-1) or right (+1)."""
    ids = list(Column.objects.filter(user=user).values_list("pk", flat=True))
    index = ids.index(column.pk)
    target = max(0, min(len(ids) - 1, index + step))
    ids.insert(target, ids.pop(index))
    columns_reorder(user=user, ids=ids)
