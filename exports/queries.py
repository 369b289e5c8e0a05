"""Reads of the exports: which rows a job takes (through the inbox's one filter engine) and
which columns it writes, each a SQL expression that yields the cell's final text."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.aggregates import StringAgg
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext as _

from deskconfig.kinds import ChannelKind
from deskconfig.models import MetadataField
from exports.models import ExportFormat, ExportJob, ExportKind, ExportStatus
from exports.sql import (
    LocalTime,
    MetadataText,
    Minutes,
    labels,
    neutralised_sql,
    xlsx_safe_sql,
    yes_no,
)
from helpdesk.models import Role, User
from tickets.filters import MessageFilter, TicketFilter
from tickets.models import (
    Attachment,
    AuthorKind,
    CustomerIdentity,
    DeliveryStatus,
    Direction,
    Message,
    Sentiment,
    Ticket,
    TicketStatus,
)


@dataclass(frozen=True)
class Column:
    header: str
    expr: Any
    # Free text that people or providers wrote: neutralised (and made XML-safe for XLSX).
    # Numbers, times and our own labels are written as they are.
    text: bool = True


@dataclass(frozen=True)
class ExportSpec:
    columns: list[Column]
    rows: QuerySet[Any]  # the filtered tickets or messages (to count them)
    queryset: QuerySet[Any]  # values_list of the cells, in file order

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


def jobs_for(user: User) -> QuerySet[ExportJob]:
    """The exports a person sees: an admin the tenant's, an analyst their own."""
    qs = ExportJob.objects.select_related("created_by").order_by("-created_at", "-id")
    return qs if user.role == Role.ADMIN else qs.filter(created_by=user)


def has_active(jobs: list[ExportJob]) -> bool:
    return any(j.status in (ExportStatus.QUEUED, ExportStatus.RUNNING) for j in jobs)


def _zone(job: ExportJob) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(job.tenant.time_zone)


def day_bounds(
    date_from: datetime.date, date_to: datetime.date, zone: datetime.tzinfo
) -> tuple[datetime.datetime, datetime.datetime]:
    """[first day's midnight, the midnight after the last day) in the tenant's zone."""
    start = datetime.datetime.combine(date_from, datetime.time.min, zone)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, zone)
    return start, end


# --- rows ------------------------------------------------------------------------------------


def ticket_filter(job: ExportJob) -> TicketFilter:
    """The inbox's column filter for the job; the range is on creation unless asked otherwise."""
    data = dict(job.filters)
    if data.get("date_field", "created") == "created":
        data["date_from"], data["date_to"] = job.date_from, job.date_to
    else:
        data.pop("date_from", None)
        data.pop("date_to", None)
    return TicketFilter.from_data(data, user_id=job.created_by_id, time_zone=_zone(job))


def ticket_rows(job: ExportJob) -> QuerySet[Ticket]:
    q = ticket_filter(job).to_q(now=job.created_at)
    if job.filters.get("date_field") == "updated":
        start, end = day_bounds(job.date_from, job.date_to, _zone(job))
        q &= Q(updated_at__gte=start, updated_at__lt=end)
    metadata = job.filters.get("metadata")
    if isinstance(metadata, dict) and metadata:
        q &= Q(metadata__contains=metadata)
    return Ticket.objects.filter(q).order_by("number")


def message_filter(job: ExportJob) -> MessageFilter:
    d = job.filters
    author = d.get("author") or {}
    data = {k: d[k] for k in ("channels", "accounts", "customer", "public", "mention") if k in d}
    if author.get("kind") in ("agent", "bot"):
        data["published_by"] = author["kind"]
    data["date_from"], data["date_to"] = job.date_from, job.date_to
    return MessageFilter.from_data(data, user_id=job.created_by_id, time_zone=_zone(job))


def message_rows(job: ExportJob) -> QuerySet[Message]:
    d = job.filters
    q = message_filter(job).to_q()
    if d.get("direction") in Direction.values:
        q &= Q(direction=d["direction"])
    author = d.get("author") or {}
    if author.get("kind") == "customer":
        q &= Q(author_kind=AuthorKind.CUSTOMER)
    elif author.get("kind") == "users":
        q &= Q(author_id__in=[int(u) for u in author.get("users") or []])
    if d.get("delivery"):
        q &= Q(status__in=[s for s in d["delivery"] if s in DeliveryStatus.values])
    return Message.objects.filter(q).order_by("created_at", "id")


# --- columns ---------------------------------------------------------------------------------


def _identity() -> Subquery:
    """The customer's identity on the ticket's channel (else their first one)."""
    shown = Coalesce(NullIf(F("display"), Value("")), F("value"))
    return Subquery(
        CustomerIdentity.objects.filter(customer_id=OuterRef("customer_id"))
        .annotate(
            other_channel=Case(
                When(kind=OuterRef("identity_kind"), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            shown=shown,
        )
        .order_by("other_channel", "id")
        .values("shown")[:1]
    )


def _message_count(direction: str) -> Coalesce:
    count = (
        Message.objects.filter(ticket_id=OuterRef("pk"), direction=direction)
        .order_by()
        .values("ticket_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def _ticket_columns(job: ExportJob) -> list[Column]:
    zone, now = job.tenant.time_zone, job.created_at
    yes, no = _("Sí"), _("No")
    breached = Q(sla_breached=True) | Q(status="open", sla_due_at__lte=now)
    columns = [
        Column(_("Número"), F("number"), text=False),
        Column(_("Creado"), LocalTime(F("created_at"), zone), text=False),
        Column(
            _("Tiempo de primera respuesta (min)"),
            Minutes(F("first_response_at"), F("created_at")),
            text=False,
        ),
        Column(_("Cerrado"), LocalTime(F("closed_at"), zone), text=False),
        Column(_("Estado"), labels("status", TicketStatus.choices), text=False),
        Column(_("Abordado"), yes_no(Q(addressed=True), yes, no), text=False),
        Column(_("Canal"), labels("account__kind", ChannelKind.choices), text=False),
        Column(_("Cuenta"), F("account__name")),
        Column(_("Cliente"), F("customer__name")),
        Column(
            _("Identidad del cliente"),
            Coalesce(_identity(), Value(""), output_field=TextField()),
        ),
        Column(_("Asignado a"), Coalesce(F("assignee__name"), Value(""))),
        Column(_("Departamento"), Coalesce(F("department__name"), Value(""))),
        Column(_("SLA vence"), LocalTime(F("sla_due_at"), zone), text=False),
        Column(_("SLA vencido"), yes_no(breached, yes, no), text=False),
        Column(_("Sentimiento"), labels("sentiment", Sentiment.choices), text=False),
        Column(_("Importante"), yes_no(Q(important=True), yes, no), text=False),
    ]
    fields = MetadataField.objects.filter(target=MetadataField.Target.TICKET).order_by(
        "position", "id"
    )
    columns += [Column(f.label, MetadataText(F("metadata"), f.key, yes, no)) for f in fields]
    columns += [
        Column(_("Mensajes recibidos"), _message_count(Direction.IN), text=False),
        Column(_("Mensajes enviados"), _message_count(Direction.OUT), text=False),
    ]
    return columns


def _attachment_names() -> Coalesce:
    names = (
        Attachment.objects.filter(message_id=OuterRef("pk"))
        .order_by()
        .values("message_id")
        .annotate(names=StringAgg("name", ", "))
        .values("names")
    )
    return Coalesce(Subquery(names), Value(""), output_field=TextField())


def _author() -> Case:
    customer, agent, bot = _("Cliente"), _("Ejecutivo"), _("Bot")
    return Case(
        When(author_kind=AuthorKind.CUSTOMER, then=Value(customer)),
        When(author_kind=AuthorKind.BOT, then=Coalesce(F("author__name"), Value(bot))),
        default=Coalesce(F("author__name"), Value(agent)),
        output_field=TextField(),
    )


def _message_columns(job: ExportJob) -> list[Column]:
    zone = job.tenant.time_zone
    return [
        Column(_("Ticket"), F("ticket__number"), text=False),
        Column(_("Fecha"), LocalTime(F("created_at"), zone), text=False),
        Column(_("Dirección"), labels("direction", Direction.choices), text=False),
        Column(
            _("Público o privado"),
            yes_no(Q(is_public=True), _("Público"), _("Privado")),
            text=False,
        ),
        Column(_("Autor"), _author()),
        Column(_("Canal"), labels("account__kind", ChannelKind.choices), text=False),
        Column(_("Cuenta"), F("account__name")),
        Column(_("Cliente"), F("ticket__customer__name")),
        Column(_("Texto"), F("text")),
        Column(_("Adjuntos"), _attachment_names()),
        Column(_("Estado de entrega"), labels("status", DeliveryStatus.choices), text=False),
        Column(_("Motivo del fallo"), F("failure_reason")),
    ]


def export_spec(job: ExportJob) -> ExportSpec:
    """The job's columns (headers in the active language) and the queryset of its cells."""
    if job.kind == ExportKind.TICKETS:
        columns = _ticket_columns(job)
        rows: QuerySet[Any] = ticket_rows(job).annotate(
            identity_kind=Case(
                When(account__kind=ChannelKind.WHATSAPP, then=Value("phone")),
                default=F("account__kind"),
            )
        )
    else:
        columns = _message_columns(job)
        rows = message_rows(job)
    names = {f"c{i}": c.expr for i, c in enumerate(columns)}
    return ExportSpec(
        columns=columns, rows=rows, queryset=rows.annotate(**names).values_list(*names)
    )


def export_sql(spec: ExportSpec, fmt: str) -> tuple[str, tuple[Any, ...]]:
    """The file's query: the cells of ``spec``, the free-text ones made safe.

    The cells are computed once in an inner query (OFFSET 0 keeps PostgreSQL from merging it
    into the outer one, which would compute a subquery cell once per mention); the outer query
    only tests and prefixes plain columns."""
    inner, params = spec.queryset.query.sql_with_params()
    cells = []
    for i, column in enumerate(spec.columns):
        cell = f'rows."c{i}"'
        if column.text:
            cell = neutralised_sql(xlsx_safe_sql(cell) if fmt == ExportFormat.XLSX else cell)
        cells.append(cell)
    # Column names and functions of our own only: every value is a bound parameter of inner.
    sql = f"SELECT {', '.join(cells)} FROM ({inner} OFFSET 0) AS rows"  # noqa: S608
    return sql, tuple(params)
