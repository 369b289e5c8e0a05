"""Builders shared by the assignment engine's tests: people ready (or not) to take tickets,
and queued tickets. Call them inside the tenant's context."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, cast

from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.models import AssignmentMode, AssignmentRule, Department, DepartmentMembership
from helpdesk.models import Availability, Role, Tenant, User
from tests.factories import UserFactory
from tests.tickets.factories import TicketFactory
from tickets.models import Ticket, TicketStatus


def person(
    tenant: Tenant,
    *,
    accounts: Iterable[Any] = (),  # ChannelAccount rows (or their factories' results)
    mode: str = AssignmentMode.AUTOMATIC,
    limit: int = 10,
    role: str = Role.AGENT,
    available: bool = True,
    connected: bool = True,
    departments: Iterable[Department] = (),
    **extra: Any,
) -> User:
    """A person of ``tenant`` with ``mode`` on each of ``accounts``."""
    user = cast(
        User,
        UserFactory(
            tenant=tenant,
            role=role,
            max_open_tickets=limit,
            availability=Availability.AVAILABLE if available else Availability.AWAY,
            presence_sockets=1 if connected else 0,
            presence_seen_at=timezone.now() if connected else None,
            **extra,
        ),
    )
    for account in accounts:
        AssignmentRule.objects.create(tenant=tenant, user=user, account=account, mode=mode)
    for department in departments:
        DepartmentMembership.objects.create(tenant=tenant, department=department, user=user)
    return user


def queued(
    account: ChannelAccount,
    *,
    minutes_ago: float = 0,
    department: Department | None = None,
    **extra: Any,
) -> Ticket:
    """An open, unassigned ticket that arrived ``minutes_ago``."""
    at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return cast(
        Ticket,
        TicketFactory(
            account=account,
            tenant=account.tenant,
            created_at=at,
            updated_at=at,
            department=department,
            **extra,
        ),
    )


def assigned(account: ChannelAccount, user: User, n: int = 1) -> list[Ticket]:
    """``n`` open tickets already assigned to ``user`` (their load)."""
    return [
        cast(Ticket, TicketFactory(account=account, tenant=account.tenant, assignee=user))
        for _ in range(n)
    ]


def load(user: User) -> int:
    return Ticket.objects.filter(assignee=user, status=TicketStatus.OPEN).count()


def assignee_of(ticket: Ticket) -> User | None:
    ticket.refresh_from_db()
    return ticket.assignee
