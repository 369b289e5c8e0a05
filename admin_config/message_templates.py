"""Rules of message templates shared by the admin pages and the composer: the variables of a
quick reply, the numbered placeholders of a WhatsApp template, and which WhatsApp templates
may be sent."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from channels_conn.whatsapp.templates import PLACEHOLDER, placeholder_count
from deskconfig.accounts import ChannelAccount
from deskconfig.models import WhatsAppTemplate
from tickets.quick import VARIABLES

# A quick reply's {variable}: anything between braces, so a typo like {clinte} is caught.
VARIABLE = re.compile(r"\{([^{}]*)\}")
# Anything in double braces (WhatsApp's positional placeholders are PLACEHOLDER).
DOUBLE_BRACES = re.compile(r"\{\{(.*?)\}\}")
# What WhatsApp accepts as a template name.
WA_NAME = re.compile(r"^[a-z0-9_]+$")
WA_BODY_MAX = 1024


def unknown_variables(body: str) -> list[str]:
    """The {names} in ``body`` that are not template variables, in order, once each."""
    found = [name for name in VARIABLE.findall(body) if name not in VARIABLES]
    return list(dict.fromkeys(found))


def placeholder_errors(body: str) -> list[str]:
    """What is wrong with a WhatsApp body's placeholders: they must be {{1}}…{{n}}, each
    number present, counting from 1."""
    errors: list[str] = []
    bad = [m for m in DOUBLE_BRACES.findall(body) if not m.strip().isdigit()]
    if bad:
        errors.append(
            _("Los parámetros van numerados: {{1}}, {{2}}… No valen: %(bad)s.")
            % {"bad": ", ".join("{{" + b + "}}" for b in dict.fromkeys(bad))}
        )
    numbers = {int(n) for n in PLACEHOLDER.findall(body)}
    missing = sorted(set(range(1, max(numbers, default=0) + 1)) - numbers)
    if 0 in numbers:
        errors.append(_("Los parámetros empiezan en {{1}}."))
    if missing:
        errors.append(
            _("Los parámetros deben ser consecutivos desde {{1}}; falta %(missing)s.")
            % {"missing": ", ".join("{{" + str(n) + "}}" for n in missing)}
        )
    return errors


def approved_whatsapp_templates(account: ChannelAccount) -> list[WhatsAppTemplate]:
    """The templates of ``account`` that may be sent: only those WhatsApp approved."""
    return list(
        WhatsAppTemplate.objects.filter(account=account, status=WhatsAppTemplate.Status.APPROVED)
    )


__all__ = [
    "PLACEHOLDER",
    "approved_whatsapp_templates",
    "placeholder_count",
    "placeholder_errors",
    "unknown_variables",
]
