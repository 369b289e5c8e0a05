"""Quick replies: a template's body with the ticket's variables filled in."""

from __future__ import annotations

from admin_config.models import MessageTemplate
from helpdesk.models import User
from tickets.models import Ticket

VARIABLES = ("cliente", "ejecutivo", "ticket")


def template_render(template: MessageTemplate, *, ticket: Ticket, agent: User) -> str:
    values = {
        "cliente": ticket.customer.name or "",
        "ejecutivo": agent.name,
        "ticket": f"#{ticket.number}",
    }
    body = template.body
    for key, value in values.items():
        body = body.replace("{" + key + "}", value)
    return body.strip()
