"""The inbox's cards (ticket, message and scheduled-post), rendered in Python.

An inbox page shows up to 8 columns of 50 cards and every live event renders one. Through
the template engine each card cost ~0.9 ms (an include, ~15 translation lookups, date
filters, a URL reverse): most of the page's time. Here the labels, the icon sprite's URL and
the ticket URL's shape are computed once per ``CardRenderer`` (one per request or per push,
in the active language and time zone), and each card is one ``str.format`` of escaped values.

The markup is the one the templates produced, byte for byte (checked against them when this
replaced them). Every value is escaped with ``html.escape`` (what Django's autoescape does).

A pushed card is rendered once for every inbox of the tenant, before it is known in which
column it lands, so its column id (and a ticket card's alert) are left as slots: the card
travels as a ``LiveCard``, the text around the slots, and each inbox fills the slots
(``fill_card``). The slots are cut out of our templates, never searched for in the rendered
card, so nothing a customer writes can act as one.
"""

from __future__ import annotations

import datetime
import html
import re
from dataclasses import dataclass
from typing import Any

from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from deskconfig.kinds import ChannelKind
from helpdesk.models import User
from tickets.models import Customer, TicketStatus
from tickets.sla import sla_state

esc = html.escape
_KIND_LABELS = dict(ChannelKind.choices)
_STATUS_LABELS = dict(TicketStatus.choices)

_NUMBER = 987654321  # stands for the ticket number while the URL's shape is computed

TICKET_CARD = """\
<article data-alert="{alert}" class="tcard{classes}" id="c{col}-t{pk}" data-number="{number}" \
data-updated="{updated}" data-waiting="{waiting}">
  <a class="tcard-link" href="{url}" data-open-ticket="{number}">
    <span class="tcard-top">
      <span class="channel sm {kind}"><svg class="icon" role="img" aria-label="{kind_label}">\
<use href="{icons}#ch-{kind}"/></svg></span>
      <strong class="tcard-name">{customer}</strong>
      {star}
      <span class="unread-dot" title="{new_label}" hidden></span>
      <span class="tcard-num">#{number}</span>
    </span>
    <span class="tcard-preview">{preview}</span>
    <span class="tcard-foot">
      {chip}
      {wait}
      <span class="tcard-assignee">{assignee}</span>
    </span>
  </a>
</article>
"""

MESSAGE_CARD = """\
<article class="tcard mcard" id="c{col}-m{pk}" data-updated="{created}">
  <a class="tcard-link" href="{url}" data-open-ticket="{number}">
    <span class="tcard-top">
      <span class="channel sm {kind}"><svg class="icon" role="img" aria-label="{kind_label}">\
<use href="{icons}#ch-{kind}"/></svg></span>
      <strong class="tcard-name">{name}</strong>
      {public}
      {mention}
    </span>
    <span class="tcard-preview">{preview}</span>
    <span class="tcard-foot"><time datetime="{iso}">{when}</time></span>
  </a>
</article>
"""

POST_CARD = """\
<article class="tcard pcard" id="c{col}-p{pk}" data-publish="{publish}">
  <span class="tcard-top">
    <span class="channel sm {kind}"><svg class="icon" role="img" aria-label="{kind_label}">\
<use href="{icons}#ch-{kind}"/></svg></span>
    <strong class="tcard-name">{name}</strong>
  </span>
  <span class="tcard-preview">{preview}</span>
  <span class="tcard-foot"><time datetime="{iso}">{publishes} {when}</time>{author}</span>
</article>
"""


def wait_label(seconds: int) -> str:
    minutes = max(0, seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


# A card pushed live: [text, slot name, text, slot name, ..., text] (a JSON-safe list).
LiveCard = list[str]
_SLOTS = re.compile(r"\{(col|alert)\}")


def _slotted(template: str) -> list[str]:
    """The template cut at its column and alert slots: [template text, slot, ..., text]."""
    return _SLOTS.split(template)


_TICKET_SLOTTED = _slotted(TICKET_CARD)
_MESSAGE_SLOTTED = _slotted(MESSAGE_CARD)
_POST_SLOTTED = _slotted(POST_CARD)


def _live(slotted: list[str], values: dict[str, Any]) -> LiveCard:
    """Every template text formatted with the card's values; the slot names kept as they are."""
    return [part.format(**values) if i % 2 == 0 else part for i, part in enumerate(slotted)]


def fill_card(card: LiveCard, *, col: int | str, alert: str = "") -> str:
    """A live card with its slots filled: the column's id and the alert ("", "new", "ring")."""
    values = {"col": esc(str(col)), "alert": esc(alert)}
    parts = card[:]
    for i in range(1, len(parts), 2):
        parts[i] = values[parts[i]]
    return "".join(parts)


@dataclass(slots=True)
class CardCustomer:
    name: str

    __str__ = Customer.__str__  # "Cliente sin nombre" when nameless, as everywhere


@dataclass(slots=True)
class CardPerson:
    name: str
    email: str
    is_bot: bool

    get_short_name = User.get_short_name


@dataclass(slots=True)
class CardAccount:
    kind: str


@dataclass(slots=True)
class CardTicket:
    """What a ticket card shows (and a column's cursor needs), read as plain values: an inbox
    page builds ~400 of them, and full model instances (with their account, assignee and
    customer instances) cost several times more to build than the cards to render."""

    pk: int
    number: int
    status: str
    important: bool
    awaiting_response: bool
    last_message_preview: str
    updated_at: datetime.datetime
    waiting_since: datetime.datetime | None
    sla_due_at: datetime.datetime | None
    sla_risk_at: datetime.datetime | None
    sla_breached: bool
    account: CardAccount
    customer: CardCustomer
    assignee: CardPerson | None


def _timestamp(value: datetime.datetime | None) -> str:
    """The template's ``|date:'U'``."""
    return str(int(value.timestamp())) if value is not None else ""


class CardRenderer:
    """Renders cards in the active language and time zone; create one per request or push
    (its labels are those of the moment it is made)."""

    def __init__(self, now: datetime.datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.tz = timezone.get_current_timezone()
        self.icons = esc(static("img/icons.svg"))
        url = reverse("tickets:detail", args=[_NUMBER])
        self.url_head, self.url_tail = (esc(part) for part in url.split(str(_NUMBER), 1))
        self.star = '<span class="star" title="{}">★</span>'.format(esc(_("Importante")))
        self.new_label = esc(_("Nuevo"))
        self.waiting_label = esc(_("Esperando respuesta desde"))
        self.unassigned = esc(_("Sin asignar"))
        self.sla_labels = {
            "ok": esc(_("A tiempo")),
            "risk": esc(_("En riesgo")),
            "breached": esc(_("SLA vencido")),
        }
        self.system = esc(_("Sistema"))
        self.public = '<span class="chip public">{}</span>'.format(esc(_("Público")))
        self.mention = '<span class="chip subtle">{}</span>'.format(esc(_("Mención")))
        self.publishes = esc(_("Se publica"))
        self.months = {m: str(MONTHS_3[m].title()) for m in range(1, 13)}
        self._kinds: dict[str, str] = {}
        self._statuses: dict[str, str] = {}

    # --- shared pieces ----------------------------------------------------------------------

    def _kind(self, account: Any) -> tuple[str, str]:
        kind = account.kind
        label = self._kinds.get(kind)
        if label is None:  # the account's get_kind_display()
            label = self._kinds[kind] = esc(str(_KIND_LABELS.get(kind, kind)))
        return esc(kind), label

    def _local(self, value: datetime.datetime) -> datetime.datetime:
        return timezone.localtime(value, self.tz)

    def _short(self, local: datetime.datetime) -> str:
        """The template's ``|date:"j M H:i"`` of a local time."""
        return f"{local.day} {self.months[local.month]} {local.hour:02d}:{local.minute:02d}"

    def _since(self, local: datetime.datetime) -> str:
        """How long the customer has waited, written as static/js/inbox.js rewrites it every
        30 s ("4 min", "2 h 5 min", "3 d 4 h"), so the card never changes style when it ticks."""
        return wait_label(int((self.now - local).total_seconds()))

    def _url(self, number: int) -> str:
        return f"{self.url_head}{number}{self.url_tail}"

    # --- the cards --------------------------------------------------------------------------

    def ticket(self, t: Any, col: Any, alert: str = "") -> str:
        return TICKET_CARD.format(alert=esc(str(alert)), col=esc(str(col)), **self._ticket(t))

    def ticket_live(self, t: Any) -> LiveCard:
        """The ticket's card for a push (its column and alert left as slots)."""
        return _live(_TICKET_SLOTTED, self._ticket(t))

    def _ticket(self, t: Any) -> dict[str, Any]:
        state = sla_state(t, self.now)
        classes = f" sla-{state}" if state else ""
        if t.awaiting_response:
            classes += " waiting"
        if state:
            chip = f'<span class="sla-chip {state}">{self.sla_labels[state]}</span>'
        else:
            status = t.status
            label = self._statuses.get(status)
            if label is None:  # the ticket's get_status_display()
                label = self._statuses[status] = esc(str(_STATUS_LABELS.get(status, status)))
            chip = f'<span class="status-chip {esc(status)}">{label}</span>'
        since = t.waiting_since
        if since:
            local = self._local(since)
            wait = (
                f'<span class="wait" title="{self.waiting_label} {esc(self._short(local))}"'
                f' data-since="{_timestamp(since)}">{esc(self._since(local))}</span>'
            )
        else:
            wait = ""
        assignee = t.assignee
        if assignee is not None:
            who = ("🤖 " if assignee.is_bot else "") + esc(assignee.get_short_name())
        else:
            who = self.unassigned
        kind, kind_label = self._kind(t.account)
        number = t.number
        return dict(
            classes=classes,
            pk=t.pk,
            number=number,
            updated=_timestamp(t.updated_at),
            waiting=_timestamp(since) or "0",
            url=self._url(number),
            kind=kind,
            kind_label=kind_label,
            icons=self.icons,
            customer=esc(str(t.customer)),
            star=self.star if t.important else "",
            new_label=self.new_label,
            preview=esc(t.last_message_preview) if t.last_message_preview else "—",
            chip=chip,
            wait=wait,
            assignee=who,
        )

    def message(self, m: Any, col: Any) -> str:
        return MESSAGE_CARD.format(col=esc(str(col)), **self._message(m))

    def message_live(self, m: Any) -> LiveCard:
        """The message's card for a push (its column left as a slot)."""
        return _live(_MESSAGE_SLOTTED, self._message(m))

    def _message(self, m: Any) -> dict[str, Any]:
        if m.direction == "in":
            name = esc(str(m.ticket.customer))
        elif m.author is not None:
            name = esc(str(m.author))
        else:
            name = self.system
        kind, kind_label = self._kind(m.account)
        local = self._local(m.created_at)
        text = Truncator(m.text).chars(160) if m.text else ""
        number = m.ticket.number
        return dict(
            pk=m.pk,
            created=_timestamp(m.created_at),
            url=self._url(number),
            number=number,
            kind=kind,
            kind_label=kind_label,
            icons=self.icons,
            name=name,
            public=self.public if m.is_public else "",
            mention=self.mention if m.is_mention else "",
            preview=esc(text) if text else "—",
            iso=esc(local.isoformat()),
            when=esc(self._short(local)),
        )

    def post(self, p: Any, col: Any) -> str:
        return POST_CARD.format(col=esc(str(col)), **self._post(p))

    def post_live(self, p: Any) -> LiveCard:
        """The scheduled post's card for a push (its column left as a slot)."""
        return _live(_POST_SLOTTED, self._post(p))

    def _post(self, p: Any) -> dict[str, Any]:
        kind, kind_label = self._kind(p.account)
        local = self._local(p.publish_at)
        author = p.created_by
        return dict(
            pk=p.pk,
            publish=_timestamp(p.publish_at),
            kind=kind,
            kind_label=kind_label,
            icons=self.icons,
            name=esc(p.account.name),
            preview=esc(Truncator(p.text).chars(200)),
            iso=esc(local.isoformat()),
            publishes=self.publishes,
            when=esc(self._short(local)),
            author=(
                f'<span class="tcard-assignee">{esc(author.get_short_name())}</span>'
                if author is not None
                else ""
            ),
        )

    # --- a column's list --------------------------------------------------------------------

    def column(self, kind: str, col: Any, items: list[Any]) -> str:
        """Every card of a column's page, spaced as the page's loop spaced them."""
        if kind == "messages":
            return "".join(
                f"\n              {self.message(m, col)}\n              \n            "
                for m in items
            )
        if kind == "scheduled":
            return "".join(
                f"\n              {self.post(p, col)}\n              \n            " for p in items
            )
        return "".join(f"\n              {self.ticket(t, col)}\n            " for t in items)
