"""Rollups of the desk's history: one fact row per ticket and counters per local day.

Both are derived data, rebuilt by ``manage.py analytics_rebuild`` and kept current by a short
beat job (``analytics.rollup``). Every figure follows the ticket's *current* channel account,
department and assignee: a ticket moved to another department takes its history with it.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone

from analytics.buckets import BOUNDS
from helpdesk.models import TenantModel


class RollupState(TenantModel):
    """Where the beat job of one tenant stopped: tickets changed after ``watermark`` (minus a
    safety overlap) are folded in on the next run. ``time_zone`` is the zone the hour buckets
    were cut in: when the tenant changes zone, the rollups are rebuilt."""

    watermark = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="")
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="rollup_state_one")]


class TicketFact(TenantModel):
    """One row per ticket: its dimensions, the moments that matter, its first human response
    (in business time where the account has a schedule) and what it added to the hourly
    counters (``contribution``), so a change folds in as new minus old."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    number = models.PositiveBigIntegerField()
    channel = models.CharField(max_length=16)
    account_id = models.BigIntegerField()
    department_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)  # the current assignee
    status = models.CharField(max_length=8)
    sentiment = models.CharField(max_length=8)
    metadata = models.JSONField(default=dict)
    awaiting = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True)
    first_response_at = models.DateTimeField(null=True)
    first_responder_id = models.BigIntegerField(null=True)
    first_response_seconds = models.IntegerField(null=True)  # business seconds with a schedule
    sla_due_at = models.DateTimeField(null=True)  # of the wait running now, if any
    contribution = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "ticket"], name="fact_ticket")]
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="fact_created"),
            models.Index(
                fields=["tenant", "first_response_at"],
                name="fact_first_response",
                condition=Q(first_response_at__isnull=False),
            ),
            models.Index(
                fields=["tenant", "closed_at"],
                name="fact_closed",
                condition=Q(closed_at__isnull=False),
            ),
            models.Index(
                fields=["tenant", "agent_id"], name="fact_open", condition=Q(status="open")
            ),
            models.Index(
                fields=["tenant", "sla_due_at"],
                name="fact_open_due",
                condition=Q(status="open", sla_due_at__isnull=False),
            ),
            GinIndex(fields=["metadata"], name="fact_metadata"),
        ]


HOURS = range(24)


class DailyCounters(TenantModel):
    """Counters of one local day (tenant's zone).

    ``in_hNN`` count the incoming messages of each local hour (the heat map), as columns so a
    page sums them in one pass; ``happy`` / ``neutral`` / ``angry`` the tickets created that
    day by their sentiment now. ``*_delta`` columns are changes of the backlog (+1 when a
    ticket becomes open, awaiting our answer or unassigned, -1 when it stops): the backlog at
    a moment is the current one minus the deltas after it, so a page never sums all history."""

    created = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    ignored = models.IntegerField(default=0)
    msg_in = models.IntegerField(default=0)
    msg_out = models.IntegerField(default=0)
    sla_on_time = models.IntegerField(default=0)
    sla_late = models.IntegerField(default=0)
    open_delta = models.IntegerField(default=0)
    awaiting_delta = models.IntegerField(default=0)
    unassigned_delta = models.IntegerField(default=0)
    happy = models.IntegerField(default=0)
    neutral = models.IntegerField(default=0)
    angry = models.IntegerField(default=0)
    for _hour in HOURS:
        locals()[f"in_h{_hour:02d}"] = models.IntegerField(default=0)
    del _hour

    class Meta:
        abstract = True


class DailyStat(DailyCounters):
    """The daily counters per combination of dimensions (channel, account, department, the
    ticket's current assignee): what a page filtered by any of them reads."""

    day = models.DateField()
    channel = models.CharField(max_length=16)
    account_id = models.BigIntegerField()
    department_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "account_id", "department_id", "agent_id"],
                name="daily_stat_key",
                nulls_distinct=False,
            )
        ]


class DayTotal(DailyCounters):
    """The same counters per day and assignee only: a page not filtered by channel, account or
    department reads a row per person and day here instead of one per combination of every
    dimension (hundreds a day in a big desk)."""

    day = models.DateField()
    agent_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "agent_id"], name="day_total_key", nulls_distinct=False
            )
        ]


SLICE_DIMENSIONS = ("channel", "account", "department")


class DimensionTotal(DailyCounters):
    """The same counters per day and assignee for one value of one dimension (a channel, an
    account or a department, ``value`` as text): a page narrowed by exactly one of them reads
    a row per person and day, as the unfiltered page does from :class:`DayTotal`, instead of
    every combination of dimensions and a filter. Each ticket adds to one row per dimension
    (none for department when it has none: no page filters on "no department")."""

    dimension = models.CharField(max_length=10)  # one of SLICE_DIMENSIONS
    value = models.CharField(max_length=32)
    day = models.DateField()
    agent_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "dimension", "value", "day", "agent_id"],
                name="dimension_total_key",
                nulls_distinct=False,
            )
        ]


class SlaTotal(TenantModel):
    """SLA answers per day, channel and department: the SLA panel's two groupings without
    reading every combination of dimensions."""

    day = models.DateField()
    channel = models.CharField(max_length=16)
    department_id = models.BigIntegerField(null=True)
    sla_on_time = models.IntegerField(default=0)
    sla_late = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "channel", "department_id"],
                name="sla_total_key",
                nulls_distinct=False,
            )
        ]


class OpenTotal(TenantModel):
    """Tickets open now per combination of dimensions (a snapshot, not per day): open,
    awaiting our answer, unassigned. The backlog's and the agent table's "now" read these few
    rows instead of every open ticket."""

    channel = models.CharField(max_length=16)
    account_id = models.BigIntegerField()
    department_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)
    open = models.IntegerField(default=0)
    awaiting = models.IntegerField(default=0)
    unassigned = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "account_id", "department_id", "agent_id"],
                name="open_total_key",
                nulls_distinct=False,
            )
        ]


class Histogram(TenantModel):
    """First responses counted (``answered``) and their times in fixed buckets (``frt_bNN``,
    bounds in :data:`analytics.buckets.BOUNDS`): a page estimates the median and p90 from a
    few daily rows instead of sorting every ticket answered."""

    answered = models.IntegerField(default=0)
    for _bucket in range(len(BOUNDS)):
        locals()[f"frt_b{_bucket:02d}"] = models.IntegerField(default=0)
    del _bucket

    class Meta:
        abstract = True


class ResponseStat(Histogram):
    """First human responses given on one local day, per the ticket's dimensions and the person
    who answered (``responder_id``)."""

    day = models.DateField()
    channel = models.CharField(max_length=16)
    account_id = models.BigIntegerField()
    department_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)
    responder_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "tenant", "day", "account_id", "department_id", "agent_id", "responder_id"
                ],
                name="response_stat_key",
                nulls_distinct=False,
            )
        ]  # fmt: skip


class ResponseTotal(Histogram):
    """First responses per day, assignee and responder only (see :class:`DayTotal`)."""

    day = models.DateField()
    agent_id = models.BigIntegerField(null=True)
    responder_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "agent_id", "responder_id"],
                name="response_total_key",
                nulls_distinct=False,
            )
        ]


class DimensionResponseTotal(Histogram):
    """First responses per dimension value, day, assignee and responder (see
    :class:`DimensionTotal`)."""

    dimension = models.CharField(max_length=10)
    value = models.CharField(max_length=32)
    day = models.DateField()
    agent_id = models.BigIntegerField(null=True)
    responder_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "dimension", "value", "day", "agent_id", "responder_id"],
                name="dimension_response_key",
                nulls_distinct=False,
            )
        ]


class TypificationStat(TenantModel):
    """Tickets created on one local day per dimensions and per value of a categorical ticket
    field (a multiple choice counts each value chosen)."""

    day = models.DateField()
    channel = models.CharField(max_length=16)
    account_id = models.BigIntegerField()
    department_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)
    key = models.CharField(max_length=64)
    value = models.TextField()
    tickets = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "tenant", "day", "account_id", "department_id", "agent_id", "key", "value"
                ],
                name="typification_stat_key",
                nulls_distinct=False,
            )
        ]  # fmt: skip


# The tables a rebuild refills (their statistics are refreshed after it).
ROLLUP_MODELS: tuple[type[TenantModel], ...] = (
    TicketFact,
    DailyStat,
    DayTotal,
    DimensionTotal,
    SlaTotal,
    OpenTotal,
    ResponseStat,
    ResponseTotal,
    DimensionResponseTotal,
    TypificationStat,
)
ROLLUP_TABLES = tuple(m._meta.db_table for m in ROLLUP_MODELS)
