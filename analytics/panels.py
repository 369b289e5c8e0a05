"""The dashboard's panels: each one a chart, a table (the same figures) and its CSV.

A panel is built from the queries in ``analytics.queries``; the CSV of a panel is its table
with raw numbers, and a duration column twice: as people read it («3 h 20 min») and in
seconds (what a spreadsheet sorts and sums)."""

from __future__ import annotations

import datetime
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import formats, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from analytics import charts, queries
from analytics.charts import Series, duration, number
from analytics.filters import Filters
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department, FieldType, MetadataField
from tickets.models import Sentiment


@dataclass
class Cell:
    """A table cell: the raw value (for CSV), how it reads, and where a click takes."""

    value: Any
    text: str = ""
    href: str = ""

    def __str__(self) -> str:
        return self.text or (
            number(self.value) if isinstance(self.value, int | float) else str(self.value)
        )


@dataclass
class Panel:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    chart: SafeString | None = None
    note: str = ""
    kpis: list[tuple[str, str]] = field(default_factory=list)
    durations: frozenset[int] = frozenset()  # columns of seconds shown as «3 min 20 s»

    def csv_headers(self) -> list[str]:
        headers: list[str] = []
        for i, header in enumerate(self.headers):
            headers.append(header)
            if i in self.durations:
                headers.append(_("%(column)s (s)") % {"column": header})
        return headers

    def csv_rows(self) -> list[list[Any]]:
        rows = []
        for row in self.rows:
            values: list[Any] = []
            for i, c in enumerate(row):
                if i in self.durations:
                    values.append("" if c.value is None else c.text)
                values.append(c.value)
            rows.append(values)
        return rows

    def body_html(self) -> SafeString:
        """The table's rows as markup, built here rather than by template loops: a 61-day
        page has over a thousand cells."""
        return mark_safe(  # noqa: S308 - every text and link below is escaped
            "".join(
                "<tr>" + "".join(_cell_html(cell) for cell in row) + "</tr>" for row in self.rows
            )
        )


def _cell_html(cell: Cell) -> str:
    text = html.escape(str(cell))
    if cell.href:
        return f'<td><a href="{html.escape(cell.href)}">{text}</a></td>'
    return f"<td>{text}</td>"


def _day(d: datetime.date) -> Cell:
    return Cell(d.isoformat(), charts.day_format(translation.get_language(), d, "D j M"))


def _filter_link(f: Filters, **changes: Any) -> str:
    return "?" + f.query(**changes)


def _daily(f: Filters, memo: dict[str, Any]) -> dict[datetime.date, dict[str, int]]:
    """The daily counters, read once per page for the two panels that show them."""
    if "daily" not in memo:
        memo["daily"] = queries.daily_counts(f, memo)
    return memo["daily"]


def _inbox_link(f: Filters, name: str, **params: Any) -> str:
    """A new inbox column, prefilled with the tickets behind a number (and the page's filters),
    for the person to look at and save."""
    from urllib.parse import urlencode

    from django.urls import reverse

    query: list[tuple[str, Any]] = [("name", name[:60]), ("status", "open")]
    if f.channel:
        query.append(("channels", f.channel))
    if f.account is not None:
        query.append(("accounts", f.account))
    if f.department is not None:
        query.append(("departments", f.department))
    if f.agent is not None and "assignee_users" not in params:
        query += [("assignee_mode", "users"), ("assignee_users", f.agent)]
    query += [(k, v) for k, v in params.items() if (k, v) not in query]
    return reverse("tickets:column_new") + "?" + urlencode(query)


def tickets_panel(f: Filters, memo: dict[str, Any]) -> Panel:
    daily = _daily(f, memo)
    days = list(daily)
    series = [
        Series(_("Creados"), "s1", [daily[d]["created"] for d in days]),
        Series(_("Cerrados"), "s2", [daily[d]["closed"] for d in days]),
        Series(_("Ignorados"), "s4", [daily[d]["ignored"] for d in days]),
    ]
    rows = [
        [_day(d), Cell(v["created"]), Cell(v["closed"]), Cell(v["ignored"])]
        for d, v in daily.items()
    ]
    return Panel(
        "tickets",
        _("Tickets por día"),
        [_("Día"), _("Creados"), _("Cerrados"), _("Ignorados")],
        rows,
        charts.bar_chart(_("Tickets por día"), days, series),
        kpis=[
            (_("Creados"), number(sum(v["created"] for v in daily.values()))),
            (_("Cerrados"), number(sum(v["closed"] for v in daily.values()))),
            (_("Ignorados"), number(sum(v["ignored"] for v in daily.values()))),
        ],
    )


def messages_panel(f: Filters, memo: dict[str, Any]) -> Panel:
    daily = _daily(f, memo)
    days = list(daily)
    series = [
        Series(_("Entrantes"), "s1", [daily[d]["msg_in"] for d in days]),
        Series(_("Salientes"), "s3", [daily[d]["msg_out"] for d in days]),
    ]
    rows = [[_day(d), Cell(v["msg_in"]), Cell(v["msg_out"])] for d, v in daily.items()]
    return Panel(
        "messages",
        _("Mensajes por día"),
        [_("Día"), _("Entrantes"), _("Salientes")],
        rows,
        charts.line_chart(_("Mensajes por día"), days, series),
    )


def first_response_panel(f: Filters, memo: dict[str, Any]) -> Panel:
    overall, per_day = queries.first_response(f, memo)
    days = f.days
    empty = queries.Percentiles(0, None, None)
    series = [
        Series(_("Mediana"), "s1", [per_day.get(d, empty).median for d in days]),
        Series(_("P90"), "s4", [per_day.get(d, empty).p90 for d in days]),
    ]
    rows = []
    for d in days:
        p = per_day.get(d, empty)
        rows.append(
            [
                _day(d),
                Cell(p.count),
                Cell(_seconds(p.median), duration(p.median)),
                Cell(_seconds(p.p90), duration(p.p90)),
            ]
        )
    return Panel(
        "first_response",
        _("Primera respuesta humana"),
        [_("Día"), _("Tickets respondidos"), _("Mediana"), _("P90")],
        rows,
        charts.line_chart(_("Primera respuesta humana"), days, series, fmt=duration),
        note=_(
            "En horario hábil cuando la cuenta tiene horario de atención. Mediana y P90 "
            "estimadas por tramos: precisión de 1 min hasta 10 min, 5 min hasta 1 h, 15 min "
            "hasta 4 h, 1 h hasta un día, 6 h hasta 3 días y 1 día hasta una semana."
        ),
        kpis=[
            (_("Mediana"), duration(overall.median)),
            (_("P90"), duration(overall.p90)),
            (_("Respondidos"), number(overall.count)),
        ],
        durations=frozenset({2, 3}),
    )


def _seconds(v: float | None) -> int | None:
    return None if v is None else round(v)


def _percent(v: float | None) -> str:
    return "—" if v is None else f"{formats.number_format(v, decimal_pos=0)} %"


def sla_panel(f: Filters, memo: dict[str, Any]) -> Panel:
    breakdown = queries.sla_breakdown(f, memo)
    by_channel, by_department = breakdown["channel"], breakdown["department_id"]
    kinds = dict(ChannelKind.choices)
    names = dict(Department.objects.values_list("pk", "name"))
    parts = [
        Series(_("A tiempo"), "s2", []),
        Series(_("Tarde"), "s4", []),
        Series(_("Vencidos en curso"), "s5", []),
    ]
    rows, bars = [], []
    for group, items, label, link, column in (
        (
            _("Canal"),
            by_channel,
            lambda k: str(kinds.get(k, k)),
            lambda k: {"channel": k},
            lambda k: {"channels": k},
        ),
        (
            _("Departamento"),
            by_department,
            lambda k: names.get(k, _("Sin departamento")),
            lambda k: {"department": k},
            lambda k: {"departments": k},
        ),
    ):
        for r in items:
            name = str(label(r.key))
            href = _filter_link(f, **link(r.key)) if r.key is not None else ""
            running = (
                _inbox_link(
                    f, _("SLA vencido · %(n)s") % {"n": name}, sla="breached", **column(r.key)
                )
                if r.running_late and r.key is not None
                else ""
            )
            rows.append(
                [
                    Cell(str(group)),
                    Cell(name, href=href),
                    Cell(r.on_time),
                    Cell(r.late),
                    Cell(r.running_late, href=running),
                    Cell(
                        None if r.compliance is None else round(r.compliance, 1),
                        _percent(r.compliance),
                    ),
                ]
            )
            bars.append((f"{group}: {name}", [r.on_time, r.late, r.running_late]))
    total = queries.SlaRow(
        None,
        sum(r.on_time for r in by_channel),
        sum(r.late for r in by_channel),
        sum(r.running_late for r in by_channel),
    )
    return Panel(
        "sla",
        _("Cumplimiento de SLA"),
        [
            _("Por"),
            _("Nombre"),
            _("A tiempo"),
            _("Tarde"),
            _("Vencidos en curso"),
            _("Cumplimiento %"),
        ],
        rows,
        charts.stacked_bars(_("Cumplimiento de SLA"), bars, parts) if bars else None,
        note=_("Respuestas del período a tiempo o tarde, y esperas que hoy ya pasaron su plazo."),
        kpis=[
            (_("Cumplimiento"), _percent(total.compliance)),
            (_("Tarde"), number(total.late)),
            (_("Vencidos en curso"), number(total.running_late)),
        ],
    )


def backlog_panel(f: Filters, memo: dict[str, Any]) -> Panel:
    levels = queries.backlog(f, memo)
    days = list(levels)
    series = [
        Series(_("Abiertos"), "s1", [levels[d]["open"] for d in days]),
        Series(_("Esperan nuestra respuesta"), "s4", [levels[d]["awaiting"] for d in days]),
        Series(_("Sin asignar"), "s3", [levels[d]["unassigned"] for d in days]),
    ]
    rows = [
        [_day(d), Cell(v["open"]), Cell(v["awaiting"]), Cell(v["unassigned"])]
        for d, v in levels.items()
    ]
    return Panel(
        "backlog",
        _("Pendientes al cierre de cada día"),
        [_("Día"), _("Abiertos"), _("Esperan nuestra respuesta"), _("Sin asignar")],
        rows,
        charts.line_chart(_("Pendientes"), days, series),
    )


def heat_panel(f: Filters, memo: dict[str, Any]) -> Panel:
    grid = queries.heat_map(f, memo)
    names = [
        _("Lunes"),
        _("Martes"),
        _("Miércoles"),
        _("Jueves"),
        _("Viernes"),
        _("Sábado"),
        _("Domingo"),
    ]
    rows = [[Cell(names[i]), *[Cell(v) for v in row]] for i, row in enumerate(grid)]
    return Panel(
        "heatmap",
        _("Mensajes entrantes por día y hora"),
        [_("Día"), *[f"{h:02d}h" for h in range(24)]],
        rows,
        charts.heat_map(_("Mensajes entrantes por día y hora"), grid),
    )


def agents_panel(f: Filters, memo: dict[str, Any]) -> Panel:
    rows = []
    for a in queries.agents(f, memo):
        load = f"{a.open_now} / {a.max_open}" if a.max_open else str(a.open_now)
        rows.append(
            [
                Cell(a.name, href=_filter_link(f, agent=a.agent_id)),
                Cell(a.assigned),
                Cell(a.answered),
                Cell(a.closed),
                Cell(_seconds(a.median_seconds), duration(a.median_seconds)),
                Cell(
                    a.open_now,
                    href=_inbox_link(
                        f,
                        _("Abiertos · %(n)s") % {"n": a.name},
                        assignee_mode="users",
                        assignee_users=a.agent_id,
                    ),
                ),
                Cell(a.peak_open),
                Cell(None if a.load is None else round(a.load), load),
            ]
        )
    return Panel(
        "agents",
        _("Ejecutivos"),
        [
            _("Ejecutivo"),
            _("Asignados"),
            _("Respondidos"),
            _("Cerrados"),
            _("Mediana 1ª respuesta"),
            _("Abiertos ahora"),
            _("Máximo abiertos"),
            _("Carga actual %"),
        ],
        rows,
        note=_(
            "Asignados: tickets creados en el período que hoy tiene la persona. Respondidos: "
            "tickets cuya primera respuesta humana dio en el período. Máximo abiertos: el "
            "mayor número de tickets abiertos a su cargo al cierre de un día."
        ),
        durations=frozenset({4}),
    )


def sentiment_panel(f: Filters, memo: dict[str, Any]) -> Panel:
    counts = queries.sentiment(f, memo)
    order = [(Sentiment.HAPPY, "s2"), (Sentiment.NEUTRAL, "s6"), (Sentiment.ANGRY, "s5")]
    parts = [Series(str(s.label), css, []) for s, css in order]
    bars = []
    rows = []
    for i, (s, _css) in enumerate(order):
        n = counts.get(s.value, 0)
        values = [0.0] * len(order)
        values[i] = n
        bars.append((str(s.label), values))
        rows.append([Cell(str(s.label)), Cell(n)])
    return Panel(
        "sentiment",
        _("Sentimiento"),
        [_("Sentimiento"), _("Tickets")],
        rows,
        charts.stacked_bars(_("Sentimiento"), bars, parts),
        note=_("Tickets creados en el período."),
    )


def typification_panel(f: Filters, memo: dict[str, Any]) -> Panel:
    # Only fields with a closed set of answers: free text and numbers are not categories.
    fields = MetadataField.objects.filter(
        target=MetadataField.Target.TICKET,
        field_type__in=[FieldType.CHOICE, FieldType.MULTI, FieldType.BOOL],
    ).values_list("key", "label", "field_type")
    labels = {key: label for key, label, _type in fields}
    booleans = {key for key, _label, kind in fields if kind == FieldType.BOOL}
    found = [
        (k, (_("Sí") if v == "true" else _("No")) if k in booleans else v, n)
        for k, v, n in queries.typification(f, list(labels))
    ]
    rows = [[Cell(labels.get(k, k)), Cell(v), Cell(n)] for k, v, n in found]
    bars = [(f"{labels.get(k, k)}: {v}", [n]) for k, v, n in found]
    return Panel(
        "typification",
        _("Tipificación"),
        [_("Campo"), _("Valor"), _("Tickets")],
        rows,
        charts.stacked_bars(_("Tipificación"), bars, [Series(_("Tickets"), "s1", [])])
        if bars
        else None,
        note=_("Los valores más frecuentes de cada campo, en tickets creados en el período."),
    )


PANELS: dict[str, Callable[[Filters, dict[str, Any]], Panel]] = {
    "tickets": tickets_panel,
    "messages": messages_panel,
    "first_response": first_response_panel,
    "sla": sla_panel,
    "backlog": backlog_panel,
    "sentiment": sentiment_panel,
    "heatmap": heat_panel,
    "agents": agents_panel,
    "typification": typification_panel,
}
