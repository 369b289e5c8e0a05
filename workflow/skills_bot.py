"""The skills bot: asks a new ticket's customer which department they need.

On a new ticket of an account whose bot is on, the bot sends its greeting and the numbered
list of departments and waits (``Ticket.bot_stage == ASKING``; the receiving flow leaves the
ticket out of the assignment engine meanwhile). The customer answers with a number or a name,
whatever the case, accents or surrounding spaces. An answer it does not understand makes it
ask again, at most ``MAX_RETRIES`` times; the next one sends the ticket to the bot's default
department (or to none). Then the ticket goes to the assignment engine in that department.

The bot stays quiet for a customer an agent turned it off for, for automatic mail, for public
messages (comments, mentions), for tickets a routing rule already placed, and once a person has
taken or answered the ticket. Every outcome is a line in the ticket's history.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from deskconfig.models import Department, SkillsBot
from tickets.history import event_record
from workflow.batch_cache import cached

if TYPE_CHECKING:
    from tickets.models import Message, Ticket

ASKING = "asking"  # Ticket.bot_stage while the bot waits for the customer's choice
MAX_RETRIES = 2  # questions asked again after an answer the bot did not understand

# Event(kind=BOT).data["skills"] values
CHOSEN, DEFAULTED, STOPPED = "chosen", "default", "stopped"

_NUMBER = re.compile(r"^\W*(\d{1,3})\W*$")


def normalize(text: str) -> str:
    """Lower case, without accents, inner spaces collapsed, punctuation at the ends dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = re.sub(r"[^\w]+", " ", plain.casefold()).split()
    return " ".join(words)


def choose(answer: str, options: list[Department]) -> Department | None:
    """The department the customer named by its number (1-based) or its name, if any. The
    first line alone counts too: a mail answer carries the quoted question below it."""
    found = _choose(answer, options)
    if found is None:
        first = next((line for line in answer.splitlines() if line.strip()), "")
        if first != answer:
            found = _choose(first, options)
    return found


def _choose(answer: str, options: list[Department]) -> Department | None:
    number = _NUMBER.match(answer)
    if number:
        index = int(number.group(1))
        return options[index - 1] if 1 <= index <= len(options) else None
    wanted = normalize(answer)
    if not wanted:
        return None
    return next((d for d in options if normalize(d.name) == wanted), None)


def menu(options: list[Department]) -> str:
    return "\n".join(f"{n}. {d.name}" for n, d in enumerate(options, start=1))


def _options(bot: SkillsBot) -> list[Department]:
    return [o.department for o in bot.options.select_related("department").order_by("position")]


def _bot_for(ticket: Ticket) -> SkillsBot | None:
    account_id = ticket.account_id
    return cached(
        ("skills_bot", account_id),
        lambda: (
            SkillsBot.objects.filter(account_id=account_id, enabled=True)
            .select_related("default_department")
            .first()
        ),
    )


def _ask(ticket: Ticket, text: str, options: list[Department]) -> None:
    from workflow.bot import bot_send

    bot_send(ticket, f"{text.strip()}\n\n{menu(options)}".strip())


def _record(ticket: Ticket, **data: object) -> None:
    from tickets.models import EventKind
    from workflow.bot import tenant_bot_user

    # Inside message_receive, which pushes the ticket afterwards.
    event_record(
        ticket=ticket,
        kind=EventKind.BOT,
        actor=tenant_bot_user(ticket.tenant_id),
        data=dict(data),
        push=False,
    )


def _finish(ticket: Ticket, department: Department | None, **data: object) -> None:
    """Stop asking; the ticket goes to the assignment engine (in ``department``)."""
    from workflow.assignment import request_assignment

    ticket.bot_stage = ""
    ticket.bot_attempts = 0
    fields = ["bot_stage", "bot_attempts"]
    if department is not None:
        ticket.department = department
        fields.append("department")
    ticket.save(update_fields=fields)
    _record(
        ticket,
        department=department.name if department else "",
        department_id=department.pk if department else None,
        **data,
    )
    if ticket.assignee_id is None:
        request_assignment(ticket)


def _person_took_over(ticket: Ticket) -> bool:
    if ticket.addressed:
        return True
    assignee = ticket.assignee
    return assignee is not None and not assignee.is_bot


def on_customer_message(ticket: Ticket, message: Message, *, created: bool) -> None:
    """Greet and ask on a new ticket; read the answer while asking."""
    from workflow.automation import is_automatic

    if created:
        _start(ticket, message)
        return
    if ticket.bot_stage != ASKING:
        return
    if ticket.customer.bot_disabled or _person_took_over(ticket):
        # An agent turned the bot off for this customer, or took the conversation.
        ticket.bot_stage = ""
        ticket.bot_attempts = 0
        ticket.save(update_fields=["bot_stage", "bot_attempts"])
        _record(ticket, skills=STOPPED)
        return
    bot = _bot_for(ticket)
    options = _options(bot) if bot is not None else []
    if bot is None or not options:
        _finish(ticket, None, skills=STOPPED)  # the bot was turned off meanwhile
        return
    if is_automatic(message):
        return  # an auto-reply is no answer; keep waiting for the person
    department = choose(message.text, options)
    if department is not None:
        _confirm(ticket, bot, department)
        _finish(ticket, department, skills=CHOSEN, answer=message.text.strip()[:100])
    elif ticket.bot_attempts < MAX_RETRIES:
        ticket.bot_attempts += 1
        ticket.save(update_fields=["bot_attempts"])
        _ask(ticket, bot.retry_text, options)
    else:
        _finish(ticket, bot.default_department, skills=DEFAULTED, answer=message.text.strip()[:100])
    _keep_question_as_preview(ticket, _first_question(ticket, message))


def _first_question(ticket: Ticket, answer: Message) -> str:
    """What the customer wrote before the menu: the ticket's first message (the bot asks on
    new tickets only)."""
    from tickets.models import Direction

    first = (
        ticket.messages.filter(direction=Direction.IN)
        .exclude(pk=answer.pk)
        .order_by("created_at", "id")
        .values_list("text", flat=True)
        .first()
    )
    return first or ""


def _keep_question_as_preview(ticket: Ticket, text: str) -> None:
    """The menu, an answer to it («2») and the bot's confirmation say nothing on a card: it
    keeps showing what the customer asked."""
    from tickets.services.base import preview_line

    if preview_line(text):
        ticket.last_message_preview = preview_line(text)
        ticket.save(update_fields=["last_message_preview"])


def _confirm(ticket: Ticket, bot: SkillsBot, department: Department) -> None:
    """Tell the customer where the conversation goes now."""
    from workflow.bot import bot_send

    text = bot.confirm_text.strip() or _(
        "Te comunicamos con {departamento}. En breve te atenderá una persona."
    )
    bot_send(ticket, text.replace("{departamento}", department.name))


def _start(ticket: Ticket, message: Message) -> None:
    from workflow.automation import is_automatic

    if ticket.assignee_id is not None or ticket.department_id is not None:
        return  # a routing rule already decided where the ticket goes
    if message.is_public:
        return  # a comment or a mention: a menu is a private conversation, not a public reply
    bot = _bot_for(ticket)
    if bot is None or ticket.customer.bot_disabled or is_automatic(message):
        return
    options = _options(bot)
    if not options:
        return
    ticket.bot_stage = ASKING
    ticket.bot_attempts = 0
    ticket.save(update_fields=["bot_stage", "bot_attempts"])
    _ask(ticket, bot.greeting, options)
    _keep_question_as_preview(ticket, message.text)
