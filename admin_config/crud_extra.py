"""What some administration sections need beyond :class:`CrudSection`: pages under another
path (a second list of the same section), the before-values of linked rows in the audit log,
and rows that the admin orders by hand (move up / down)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import Max
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import URLPattern, path
from django.views.decorators.http import require_POST

from admin_config import audit
from admin_config.crud import CrudSection
from deskconfig.models import ConfigChange
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role, User


@dataclass
class Section(CrudSection):
    """A :class:`CrudSection` that may live under ``base`` (default ``admin/<section>/``),
    log linked rows before a change (``before_extra``, e.g. a template's departments), and
    be ordered by hand (``ordered_within``: the rows a row moves among, given the row)."""

    base: str = ""
    ordered_within: Callable[[Any], models.QuerySet[Any]] | None = None

    def move_view(self, request: AuthedRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(self.model.objects.all(), pk=pk)  # type: ignore[attr-defined]
        step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
        if step is not None and self.ordered_within is not None:
            row_move(
                actor=request.user,
                section=self.section,
                obj=obj,
                siblings=self.ordered_within(obj),
                step=step,
            )
        return redirect(f"admin_config:{self.name}")

    def urls(self) -> list[URLPattern]:
        if not self.base:
            patterns = super().urls()
        else:
            admin_only = role_required(Role.ADMIN)
            base, name = self.base, self.name
            patterns = [
                path(base, admin_only(self.list_view), name=name),
                path(f"{base}new/", admin_only(self.form_view), name=f"{name}_new"),
                path(f"{base}<int:pk>/", admin_only(self.form_view), name=f"{name}_edit"),
                path(
                    f"{base}<int:pk>/delete/",
                    admin_only(require_POST(self.delete_view)),
                    name=f"{name}_delete",
                ),
            ]
        if self.ordered_within is not None:
            base = self.base or f"admin/{self.section}/"
            patterns.append(
                path(
                    f"{base}<int:pk>/move/",
                    role_required(Role.ADMIN)(require_POST(self.move_view)),
                    name=f"{self.name}_move",
                )
            )
        return patterns


def next_position(siblings: models.QuerySet[Any]) -> int:
    """The position after the last of ``siblings``: a new row goes to the end."""
    return int(siblings.aggregate(last=Max("position"))["last"] or 0) + 1


def row_move(
    *, actor: User, section: str, obj: Any, siblings: models.QuerySet[Any], step: int
) -> bool:
    """Swap ``obj`` with its neighbour (``step`` -1 up, +1 down) and number the rows 1..n,
    logging each row whose position changed. False when it is already first or last."""
    with transaction.atomic():
        # Locked in a fixed order, so two admins moving rows at once cannot interleave.
        rows = list(siblings.select_for_update().order_by("position", "id"))
        index = next((i for i, row in enumerate(rows) if row.pk == obj.pk), None)
        if index is None or not 0 <= index + step < len(rows):
            return False
        rows[index], rows[index + step] = rows[index + step], rows[index]
        for position, row in enumerate(rows, start=1):
            if row.position == position:
                continue
            before = row.position
            row.position = position
            row.save(update_fields=["position"])
            audit.record(
                actor=actor,
                section=section,
                action=ConfigChange.Action.UPDATE,
                obj=row,
                before={"position": before},
                after={"position": position},
            )
    return True
