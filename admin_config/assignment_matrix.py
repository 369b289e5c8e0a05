"""The assignments page's data: the users-by-accounts matrix, read in a fixed number of
queries, and saved in one transaction with its audit entries."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import groupby

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from admin_config import audit
from deskconfig.accounts import ChannelAccount
from deskconfig.models import AssignmentMode, AssignmentRule, ConfigChange
from helpdesk.models import User
from workflow import assignment, presence

SECTION = "assignments"
CELL = re.compile(r"^c-(\d+)-(\d+)$")  # the field of one cell: c-<user id>-<account id>

Cells = dict[tuple[int, int], str]


@dataclass
class Cell:
    account: ChannelAccount
    mode: str
    field: str


@dataclass
class Row:
    user: User
    load: int
    connected: bool
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Group:
    label: str
    accounts: list[ChannelAccount]


@dataclass
class Matrix:
    rows: list[Row]
    groups: list[Group]
    accounts: list[ChannelAccount]
    modes: Cells

    def mode(self, user_id: int, account_id: int) -> str:
        return self.modes.get((user_id, account_id), AssignmentMode.MANUAL)


def matrix_people() -> list[User]:
    """The rows: active people who can take tickets (agents and admins; never the bot nor
    an analyst)."""
    return list(
        User.objects.filter(is_active=True, is_bot=False, role__in=assignment.ASSIGNABLE_ROLES)
        .order_by("name", "email")
        .only(
            "name",
            "email",
            "role",
            "availability",
            "max_open_tickets",
            "presence_sockets",
            "presence_seen_at",
            "tenant_id",
        )
    )


def matrix_read() -> Matrix:
    """Four queries whatever the size: people, accounts, rules and loads."""
    people = matrix_people()
    accounts = list(ChannelAccount.objects.filter(active=True).order_by("kind", "name", "pk"))
    modes: Cells = {
        (user_id, account_id): mode
        for user_id, account_id, mode in AssignmentRule.objects.values_list(
            "user_id", "account_id", "mode"
        )
    }
    loads = assignment.open_loads([p.pk for p in people])
    now = timezone.now()
    matrix = Matrix(rows=[], groups=[], accounts=accounts, modes=modes)
    for _kind, members in groupby(accounts, key=lambda a: a.kind):
        members_list = list(members)
        matrix.groups.append(Group(str(members_list[0].get_kind_display()), members_list))
    for person in people:
        row = Row(person, loads.get(person.pk, 0), presence.is_connected(person, now))
        row.cells = [
            Cell(account, matrix.mode(person.pk, account.pk), f"c-{person.pk}-{account.pk}")
            for account in accounts
        ]
        matrix.rows.append(row)
    return matrix


def cells_from_post(data: Mapping[str, str], matrix: Matrix) -> tuple[Cells, list[str]]:
    """The cells a POST asks for, and what is wrong with it (in the user's language).

    Only the cells present change: the page's script leaves the unchanged ones out, so a big
    matrix stays under the server's limit of fields per request."""
    people = {row.user.pk for row in matrix.rows}
    account_ids = {a.pk for a in matrix.accounts}
    cells: Cells = {}
    errors: list[str] = []
    for name, value in data.items():
        found = CELL.match(name)
        if not found:
            continue
        user_id, account_id = int(found[1]), int(found[2])
        if user_id not in people or account_id not in account_ids:
            errors.append(_("Una celda no corresponde a una persona o cuenta de tu empresa."))
        elif value not in AssignmentMode.values:
            errors.append(
                _("«%(value)s» no es un modo de asignación: elige automática, manual o ninguna.")
                % {"value": value[:40]}
            )
        else:
            cells[(user_id, account_id)] = value
    return cells, sorted(set(errors))


def matrix_save(*, actor: User, matrix: Matrix, cells: Cells) -> int:
    """Apply the changed cells and audit them (one entry per person whose row changed, with
    the accounts' modes before and after), then let the queue drain. Returns how many cells
    changed. No rule means manual, so a cell set to manual deletes its rule."""
    tenant_id = actor.tenant_id
    assert tenant_id is not None  # an admin of a tenant (role_required)
    rules = {
        (r.user_id, r.account_id): r
        for r in AssignmentRule.objects.filter(
            user_id__in={u for u, _a in cells}, account_id__in={a for _u, a in cells}
        )
    }
    people = {row.user.pk: row.user for row in matrix.rows}
    accounts = {a.pk: a for a in matrix.accounts}
    to_create: list[AssignmentRule] = []
    to_delete: list[int] = []
    to_update: dict[str, list[int]] = defaultdict(list)
    changes: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
    for (user_id, account_id), mode in sorted(cells.items()):
        rule = rules.get((user_id, account_id))
        before = rule.mode if rule else AssignmentMode.MANUAL
        if before == mode:
            continue
        changes[user_id][str(accounts[account_id])] = (before, mode)
        if rule is None:
            to_create.append(
                AssignmentRule(
                    tenant_id=tenant_id, user_id=user_id, account_id=account_id, mode=mode
                )
            )
        elif mode == AssignmentMode.MANUAL:
            to_delete.append(rule.pk)
        else:
            to_update[mode].append(rule.pk)
    if not changes:
        return 0
    with transaction.atomic():
        AssignmentRule.objects.bulk_create(to_create)
        AssignmentRule.objects.filter(pk__in=to_delete).delete()
        for mode, pks in to_update.items():
            AssignmentRule.objects.filter(pk__in=pks).update(mode=mode)
        for user_id, changed in changes.items():
            audit.record(
                actor=actor,
                section=SECTION,
                action=ConfigChange.Action.UPDATE,
                obj=people[user_id],
                before={label: old for label, (old, _new) in changed.items()},
                after={label: new for label, (_old, new) in changed.items()},
            )
        # Someone may now be automatic on an account with tickets waiting.
        assignment.drain_queue(tenant_id)
    return sum(len(changed) for changed in changes.values())
