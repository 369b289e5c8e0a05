"""WhatsApp's template messages: the only answer once the 24-hour window closed (see
:mod:`channels_conn.whatsapp.window`), with their {{1}}…{{n}} parameters.

``message_send_template`` checks a template and its parameters and queues it through
``tickets.services.message_send``; the template a queued message must go out as is recorded in
its MESSAGE_OUT event (``sent_template`` reads it back for the connector, ``template_payload``
builds the Cloud API's ``template`` object).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from channels_conn.whatsapp.window import is_whatsapp, window_closes_at
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import WhatsAppTemplate
from helpdesk.models import User
from tickets.models import Event, EventKind, Message, Ticket
from tickets.services import ActionRefused, forbidden_words_in, message_send, ticket_create

# WhatsApp's positional placeholders {{1}}…{{n}}.
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def placeholder_count(body: str) -> int:
    """How many parameters a WhatsApp template takes ({{1}}…{{n}})."""
    return max((int(n) for n in PLACEHOLDER.findall(body)), default=0)


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


# --- sending a template -------------------------------------------------------------------


def _check_template(
    account: ChannelAccount, template: WhatsAppTemplate, params: Sequence[str]
) -> str:
    """The template's body filled with ``params``, or ActionRefused saying what is wrong."""
    name = template.name
    if account.kind != ChannelKind.WHATSAPP:
        raise ActionRefused(_("Las plantillas de WhatsApp solo se envían por WhatsApp."))
    if template.tenant_id != account.tenant_id or template.account_id != account.pk:
        raise ActionRefused(
            _("La plantilla «%(name)s» es de otra cuenta de WhatsApp.") % {"name": name}
        )
    if template.status != WhatsAppTemplate.Status.APPROVED:
        raise ActionRefused(
            _("La plantilla «%(name)s» no está aprobada por WhatsApp (%(status)s).")
            % {"name": name, "status": template.get_status_display()}
        )
    wanted = placeholder_count(template.body)
    if len(params) != wanted:
        raise ActionRefused(
            _("La plantilla «%(name)s» lleva %(n)s parámetros y llegaron %(got)s.")
            % {"name": name, "n": wanted, "got": len(params)}
        )
    cleaned = [str(p).strip() for p in params]
    for number, value in enumerate(cleaned, start=1):
        if not value:
            raise ActionRefused(
                _("Completa el parámetro {{%(n)s}} de la plantilla.") % {"n": number}
            )
        # WhatsApp refuses parameters with new lines, tabs or more than 4 spaces in a row.
        if re.search(r"[\n\r\t]| {5,}", value):
            raise ActionRefused(
                _(
                    "El parámetro {{%(n)s}} no puede tener saltos de línea, tabulaciones ni "
                    "más de 4 espacios seguidos."
                )
                % {"n": number}
            )
    words = forbidden_words_in(" ".join(cleaned))
    if words:
        raise ActionRefused(
            _("El mensaje tiene palabras no permitidas: %(words)s. Cámbialas y vuelve a enviar.")
            % {"words": ", ".join(words)}
        )
    return fill_template(template.body, cleaned)


def message_send_template(
    *, ticket: Ticket, author: User, template: WhatsAppTemplate, params: Sequence[str]
) -> Message:
    """Queue an approved WhatsApp template with its {{1}}…{{n}} ``params``: the message's text
    is the filled body, and its MESSAGE_OUT event records the template for the connector.
    Allowed inside and outside the 24-hour window."""
    if not is_whatsapp(ticket):
        raise ActionRefused(_("Las plantillas de WhatsApp solo se envían por WhatsApp."))
    text = _check_template(ticket.account, template, params)
    sent = SentTemplate(
        template_id=template.pk,
        name=template.name,
        language=template.language,
        params=tuple(str(p).strip() for p in params),
    )
    return message_send(ticket=ticket, author=author, text=text, is_public=False, template=sent)


def ticket_create_with_template(
    *,
    account: ChannelAccount,
    identity: str,
    author: User,
    template: WhatsAppTemplate,
    params: Sequence[str],
    customer_name: str = "",
) -> Ticket:
    """A ticket an agent starts on WhatsApp with an approved ``template`` (and its ``params``)
    as the first message: checked before anything is written."""
    _check_template(account, template, params)
    return ticket_create(
        account=account,
        identity=identity,
        author=author,
        text="",
        customer_name=customer_name,
        first_message=lambda ticket: message_send_template(
            ticket=ticket, author=author, template=template, params=params
        ),
    )
