"""Who of the team is connected, in the database, for the assignment engine.

Each open page of the shell holds one websocket (``desk.consumers.InboxConsumer``). Its
connect adds one to ``User.presence_sockets``, its disconnect takes one away, and while it is
open it refreshes ``User.presence_seen_at`` every :data:`HEARTBEAT` seconds. A person is
**connected** when ``presence_sockets > 0`` and ``presence_seen_at`` is less than
:data:`WINDOW` old.

Why the window: a worker that is killed never runs its sockets' disconnects, so the counter
stays high; with no heartbeat behind it the person drops out after at most ``WINDOW`` (two
and a half beats: one late beat is tolerated). The next connect after such a gap starts the
counter again at one, so a stale count heals itself.

Only connect, disconnect and the heartbeat touch the database; the events a socket forwards
never do.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from helpdesk.models import User

HEARTBEAT = 60  # seconds between two refreshes of presence_seen_at by an open socket
WINDOW = datetime.timedelta(seconds=150)  # how old presence_seen_at may be to count as connected


def heartbeat_seconds() -> float:
    """The heartbeat interval (a setting, so tests can run it fast)."""
    return float(getattr(settings, "PRESENCE_HEARTBEAT_SECONDS", HEARTBEAT))


def connected_q(now: datetime.datetime | None = None) -> Q:
    """The condition "connected now" on users, for querysets."""
    now = now or timezone.now()
    return Q(presence_sockets__gt=0, presence_seen_at__gte=now - WINDOW)


def is_connected(user: User, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        user.presence_sockets > 0
        and user.presence_seen_at is not None
        and user.presence_seen_at >= now - WINDOW
    )


def person_connected(user_id: int) -> None:
    """One more open socket. After a silence longer than the window the old count is stale
    (its sockets died with their worker), so counting starts again at one."""
    now = timezone.now()
    User.objects.filter(pk=user_id).update(
        presence_sockets=Case(
            When(
                Q(presence_seen_at__isnull=True) | Q(presence_seen_at__lt=now - WINDOW),
                then=Value(1),
            ),
            default=F("presence_sockets") + 1,
        ),
        presence_seen_at=now,
    )


def person_seen(user_id: int) -> None:
    """The heartbeat of an open socket: it proves at least one socket is alive."""
    User.objects.filter(pk=user_id).update(
        presence_sockets=Greatest(F("presence_sockets"), Value(1)), presence_seen_at=timezone.now()
    )


def person_disconnected(user_id: int) -> None:
    """One socket fewer (never below zero)."""
    User.objects.filter(pk=user_id).update(
        presence_sockets=Greatest(F("presence_sockets") - 1, Value(0))
    )
