"""Every export filter changes the rows as the inbox's column filter does: the same form
input, once as an export and once as an inbox column of the same person, lists the same
tickets (and messages), through the one filter engine (tickets.filters)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from exports.forms import tenant_today
from exports.models import ExportKind
from helpdesk.tenancy import tenant_context
from tests.exports.conftest import Desk
from tests.exports.helpers import job_for, rows
from tickets.inbox import inbox_columns
from tickets.models import Column, ColumnKind

pytestmark = pytest.mark.django_db


def _inbox(desk: Desk, kind: str, filters: dict[str, Any]) -> set[Any]:
    user = desk.cast.analyst
    today = tenant_today(desk.cast.tenant_a)
    week = {
        "date_from": (today - datetime.timedelta(days=6)).isoformat(),
        "date_to": today.isoformat(),
    }
    Column.objects.filter(user=user).delete()
    Column.objects.create(user=user, name="x", kind=kind, filters=filters | week)
    (view,) = inbox_columns(user)
    if kind == ColumnKind.TICKETS:
        return {card.number for card in view.items}
    return {(m.ticket.number, m.text) for m in view.items}


def _exported(desk: Desk, kind: str, form: dict[str, Any]) -> set[Any]:
    job = job_for(desk.cast.analyst, kind=kind, **form)
    if kind == ExportKind.TICKETS:
        return {row[0] for row in rows(job)}
    return {(row[0], row[8]) for row in rows(job)}


def _ticket_cases(d: Desk) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(form input, the inbox column's filter JSON) pairs."""
    return [
        ({"channels": ["whatsapp"]}, {"channels": ["whatsapp"]}),
        ({"accounts": [d.email.pk]}, {"accounts": [d.email.pk]}),
        ({"assignee_mode": "nobody"}, {"assignee": {"mode": "nobody"}}),
        ({"assignee_mode": "anyone"}, {"assignee": {"mode": "anyone"}}),
        ({"assignee_mode": "human"}, {"assignee": {"mode": "human"}}),
        ({"assignee_mode": "bot"}, {"assignee": {"mode": "bot"}}),
        (
            {"assignee_mode": "users", "assignee_users": [d.cast.agent.pk]},
            {"assignee": {"mode": "users", "users": [d.cast.agent.pk]}},
        ),
        ({"status": ["open"]}, {"status": ["open"]}),
        ({"status": ["closed", "ignored"]}, {"status": ["closed", "ignored"]}),
        ({"awaiting": "1"}, {"awaiting": True}),
        ({"awaiting": "0"}, {"awaiting": False}),
        ({"addressed": "1"}, {"addressed": True}),
        ({"addressed": "0"}, {"addressed": False}),
        ({"has_comments": "1"}, {"has_comments": True}),
        ({"has_metadata": "1"}, {"has_metadata": True}),
        ({"has_metadata": "0"}, {"has_metadata": False}),
        ({"important": "1"}, {"important": True}),
        ({"departments": [d.sales.pk]}, {"departments": [d.sales.pk]}),
        ({"departments": [0]}, {"departments": [0]}),
        ({"sla": ["breached"]}, {"sla": ["breached"]}),
        ({"sla": ["risk"]}, {"sla": ["risk"]}),
        ({"sla": ["ok"]}, {"sla": ["ok"]}),
        ({"customer_identity": "56933334444"}, {"customer": d.beto.pk}),
        (
            {"status": ["open"], "channels": ["email"], "awaiting": "1"},
            {"status": ["open"], "channels": ["email"], "awaiting": True},
        ),
    ]


def test_every_ticket_filter_lists_what_the_inbox_column_lists(desk):
    with tenant_context(desk.cast.tenant_a.pk):
        everything = _exported(desk, ExportKind.TICKETS, {})
        assert everything == {1, 2, 3, 4, 5}  # #6 was created before the range
        for form, column in _ticket_cases(desk):
            exported = _exported(desk, ExportKind.TICKETS, form)
            assert exported == _inbox(desk, ColumnKind.TICKETS, column), form
            assert exported != everything, f"{form} changed nothing"


def test_metadata_and_update_date_filters(desk):
    with tenant_context(desk.cast.tenant_a.pk):
        reason = {"metadata_field": desk.reason.pk, "metadata_value": "Reclamo"}
        assert _exported(desk, ExportKind.TICKETS, reason) == {1}
        tags = {"metadata_field": desk.tags.pk, "metadata_value": "web"}
        assert _exported(desk, ExportKind.TICKETS, tags) == {1}
        updated = _exported(desk, ExportKind.TICKETS, {"date_field": "updated"})
        assert updated == {1, 2, 3, 4, 5, 6}


def test_every_message_filter_lists_what_the_inbox_column_lists(desk):
    d = desk
    cases = [
        ({"channels": ["whatsapp"]}, {"channels": ["whatsapp"]}),
        ({"accounts": [d.email.pk]}, {"accounts": [d.email.pk]}),
        ({"customer_identity": "ana@example.test"}, {"customer": d.ana.pk}),
        ({"public": "1"}, {"public": True}),
        ({"public": "0"}, {"public": False}),
        ({"mention": "1"}, {"mention": True}),
        ({"author": "agent"}, {"published_by": "agent"}),
        ({"author": "bot"}, {"published_by": "bot"}),
    ]
    with tenant_context(d.cast.tenant_a.pk):
        everything = _exported(d, ExportKind.MESSAGES, {})
        assert len(everything) == 6
        for form, column in cases:
            exported = _exported(d, ExportKind.MESSAGES, form)
            assert exported == _inbox(d, ColumnKind.MESSAGES, column), form
            assert exported != everything, f"{form} changed nothing"


def test_the_message_filters_the_inbox_does_not_have(desk):
    d = desk
    with tenant_context(d.cast.tenant_a.pk):

        def texts(**form: Any) -> set[str]:
            return {text for _n, text in _exported(d, ExportKind.MESSAGES, form)}

        assert texts(direction="out") == {"Lo revisamos", "Elige un área", "Resuelto"}
        assert texts(direction="in") == {
            "Hola, mi pedido no llegó",
            "¿tienen stock? @tienda",
            "Gracias",
        }
        assert texts(author="customer") == texts(direction="in")
        assert texts(author="users", author_users=[d.cast.admin.pk]) == {"Resuelto"}
        assert texts(delivery=["failed"]) == {"Elige un área"}
        assert texts(delivery=["delivered", "read"]) == {"Lo revisamos", "Resuelto"}
