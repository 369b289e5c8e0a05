"""Quick replies: a template's body with the ticket's variables filled in."""

from __future__ import annotations

import re

from deskconfig.models import MessageTemplate
from helpdesk.models import User
from tickets.models import Ticket

VARIABLES = ("cliente", "ejecutivo", "ticket")


def fill_variables(text: str, *, ticket: Ticket, agent: User) -> str:
    """``text`` with {cliente}, {ejecutivo} and {ticket} replaced."""
    values = {
        "cliente": ticket.customer.name or "",
        "ejecutivo": agent.name,
        "ticket": f"#{ticket.number}",
    }
    for key, value in values.items():
        if value:
            text = text.replace("{" + key + "}", value)
        else:
            # "Hola {cliente}, ..." to a customer without a name reads "Hola, ...".
            text = re.sub(r"[ \t]*\{" + key + r"\}", "", text)
    return text


def template_render(template: MessageTemplate, *, ticket: Ticket, agent: User) -> str:
    return fill_variables(template.body, ticket=ticket, agent=agent).strip()
