"""WhatsApp's 24-hour customer service window and its template messages.

WhatsApp accepts free-form messages only within 24 hours of the customer's last message; after
that (and to start a conversation) only an approved template may be sent, with its {{1}}…{{n}}
parameters. The window is the customer's on the business number, not the ticket's: a message
the customer wrote on an earlier ticket of the same account keeps it open too.

The send itself is ``tickets.services.message_send_template``; the template a queued message
must go out as is recorded in its MESSAGE_OUT event (``sent_template`` reads it back for the
connector, ``template_payload`` builds the Cloud API's ``template`` object).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Max

from admin_config.message_templates import PLACEHOLDER, placeholder_count
from deskconfig.kinds import ChannelKind
from deskconfig.models import WhatsAppTemplate
from tickets.models import Direction, Event, EventKind, Message, Ticket

WINDOW = datetime.timedelta(hours=24)


def is_whatsapp(ticket: Ticket) -> bool:
    return bool(ticket.account.kind == ChannelKind.WHATSAPP)


def last_customer_message_at(ticket: Ticket) -> datetime.datetime | None:
    """When the ticket's customer last wrote to the ticket's account (any of their tickets)."""
    latest: datetime.datetime | None = Message.objects.filter(
        account_id=ticket.account_id,
        ticket__customer_id=ticket.customer_id,
        direction=Direction.IN,
    ).aggregate(at=Max("created_at"))["at"]
    return latest


def window_closes_at(ticket: Ticket) -> datetime.datetime | None:
    """When the free-form window of a WhatsApp ticket closes (None: it never opened)."""
    last = last_customer_message_at(ticket)
    return None if last is None else last + WINDOW


def window_open(ticket: Ticket, now: datetime.datetime) -> bool:
    """Whether free-form messages may be sent on ``ticket`` at ``now``: always on channels
    without a window; on WhatsApp, while the customer's last message is under 24 hours old."""
    if not is_whatsapp(ticket):
        return True
    closes = window_closes_at(ticket)
    return closes is not None and now < closes


def fill_template(body: str, params: Sequence[str]) -> str:
    """The body with {{n}} replaced by the n-th parameter (as WhatsApp shows it)."""
    return PLACEHOLDER.sub(lambda m: params[int(m.group(1)) - 1], body)


@dataclass(frozen=True)
class SentTemplate:
    """What the connector needs to send a template message."""

    template_id: int
    name: str
    language: str
    params: tuple[str, ...]

    def as_data(self) -> dict[str, Any]:
        return {
            "id": self.template_id,
            "name": self.name,
            "language": self.language,
            "params": list(self.params),
        }


def sent_template(message: Message) -> dict[str, Any] | None:
    """The template a queued outbound message must be sent as ({"id", "name", "language",
    "params"}), or None for a free-form message."""
    data = (
        Event.objects.filter(
            ticket_id=message.ticket_id, kind=EventKind.MESSAGE_OUT, data__message=message.pk
        )
        .values_list("data", flat=True)
        .first()
    )
    template = (data or {}).get("template")
    return template if isinstance(template, dict) else None


def template_payload(template: Mapping[str, Any]) -> dict[str, Any]:
    """The Cloud API's ``template`` object for a recorded template (see CHANNELS.md)."""
    payload: dict[str, Any] = {"name": template["name"], "language": {"code": template["language"]}}
    params = list(template.get("params") or [])
    if params:
        payload["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
        ]
    return payload


@dataclass(frozen=True)
class TemplateChoice:
    """An approved template as the pickers show it: its numbered parameters and body."""

    template: WhatsAppTemplate
    numbers: tuple[int, ...]

    @property
    def pk(self) -> int:
        return int(self.template.pk)


def template_choices(account_ids: Sequence[int] | None = None) -> list[TemplateChoice]:
    """Approved templates (of the given WhatsApp accounts, or all of the tenant's)."""
    templates = WhatsAppTemplate.objects.filter(status=WhatsAppTemplate.Status.APPROVED)
    if account_ids is not None:
        templates = templates.filter(account_id__in=account_ids)
    return [
        TemplateChoice(t, tuple(range(1, placeholder_count(t.body) + 1)))
        for t in templates.select_related("account").order_by("account__name", "name", "language")
    ]


@dataclass(frozen=True)
class ComposerState:
    """What the composer of a WhatsApp ticket shows: whether free text may be sent, until
    when, and the approved templates of the ticket's account."""

    window_open: bool
    closes_at: datetime.datetime | None
    templates: list[TemplateChoice]


def composer_state(ticket: Ticket, now: datetime.datetime) -> ComposerState | None:
    """None for tickets of other channels (no window, no templates)."""
    if not is_whatsapp(ticket):
        return None
    closes = window_closes_at(ticket)
    return ComposerState(
        window_open=closes is not None and now < closes,
        closes_at=closes,
        templates=template_choices([ticket.account_id]),
    )


def posted_params(data: Mapping[str, Any], template: WhatsAppTemplate) -> list[str]:
    """The parameters of ``template`` as a form posted them (``param-<id>-<n>``)."""
    return [
        str(data.get(f"param-{template.pk}-{n}", "") or "")
        for n in range(1, placeholder_count(template.body) + 1)
    ]


@dataclass(frozen=True)
class Pick:
    """One template of a picker: its parameter inputs (number, value) and its preview."""

    choice: TemplateChoice
    inputs: list[tuple[int, str]]
    selected: bool
    preview: str


def picks(
    choices: Sequence[TemplateChoice], *, chosen: int | None = None, params: Sequence[str] = ()
) -> list[Pick]:
    """The picker's templates; the ``chosen`` one keeps the ``params`` a refused send had."""
    result = []
    for choice in choices:
        selected = choice.pk == chosen
        values = {
            n: (params[n - 1] if selected and n <= len(params) else "") for n in choice.numbers
        }
        result.append(Pick(choice, list(values.items()), selected, _preview(choice, values)))
    return result


def _preview(choice: TemplateChoice, values: Mapping[int, str]) -> str:
    """The body with the typed parameters; placeholders still empty stay as {{n}}."""

    def value(match: re.Match[str]) -> str:
        return values.get(int(match.group(1))) or match.group(0)

    return PLACEHOLDER.sub(value, choice.template.body)
