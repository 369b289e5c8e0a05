"""Template helpers of the ticket workspace: SLA state, history lines, emoji, icons."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from tickets.models import EventKind, Sentiment, TicketStatus
from tickets.sla import sla_state

register = template.Library()


@register.simple_tag
def sla(ticket: Any) -> dict[str, str]:
    state = sla_state(ticket)
    labels = {"ok": _("A tiempo"), "risk": _("En riesgo"), "breached": _("SLA vencido")}
    return {"state": state, "label": labels.get(state, "")}


# Emoji of the Unicode "Emoticons" block and a few gestures and symbols, generated from their
# code points rather than pasted.
_RANGES = [
    (0x1F600, 0x1F64F),
    (0x1F44D, 0x1F44F),
    (0x1F64C, 0x1F64F),
    (0x2764, 0x2764),
    (0x1F389, 0x1F389),
    (0x1F4E6, 0x1F4E6),
    (0x1F69A, 0x1F69A),
    (0x2705, 0x2705),
]
EMOJI = list(dict.fromkeys(chr(c) for start, end in _RANGES for c in range(start, end + 1)))


@register.simple_tag
def emoji_set() -> list[str]:
    return EMOJI


SENTIMENT_EMOJI = {Sentiment.HAPPY: "😊", Sentiment.NEUTRAL: "😐", Sentiment.ANGRY: "😠"}


@register.filter
def sentiment_emoji(value: str) -> str:
    return SENTIMENT_EMOJI.get(value, "")  # type: ignore[call-overload]


def _status(value: str) -> str:
    return str(TicketStatus(value).label) if value in TicketStatus.values else value


@register.filter
def event_text(event: Any) -> str:
    """One history line in the reader's language."""
    d = event.data or {}
    kind = event.kind
    if kind == EventKind.CREATED:
        return _("Ticket creado (%(account)s)") % {"account": d.get("account", "")}
    if kind == EventKind.MESSAGE_IN:
        return _("Mensaje del cliente")
    if kind == EventKind.MESSAGE_OUT:
        template = d.get("template")
        if isinstance(template, dict):
            return _("Plantilla de WhatsApp «%(name)s» enviada") % {"name": template.get("name")}
        return _("Respuesta pública") if d.get("public") else _("Respuesta privada")
    if kind == EventKind.SEND_FAILED:
        return _("Envío fallido: %(r)s") % {"r": d.get("reason", "")}
    if kind == EventKind.SEND_RETRIED:
        return _("Envío reintentado (antes falló: %(r)s)") % {"r": d.get("reason", "")}
    if kind == EventKind.ASSIGNED:
        return _("Asignado a %(who)s") % {"who": d.get("after_name") or _("nadie")}
    if kind == EventKind.STATUS:
        return _("Estado: %(a)s → %(b)s") % {
            "a": _status(d.get("before", "")),
            "b": _status(d.get("after", "")),
        }
    if kind == EventKind.IMPORTANT:
        return _("Marcado como importante")
    if kind == EventKind.SENTIMENT:
        return _("Sentimiento: %(a)s → %(b)s") % {
            "a": sentiment_emoji(d.get("before", "")),
            "b": sentiment_emoji(d.get("after", "")),
        }
    if kind == EventKind.METADATA:
        return _("Tipificación actualizada")
    if kind == EventKind.CUSTOMER_METADATA:
        return _("Datos del cliente actualizados")
    if kind == EventKind.MERGED:
        if "into" in d:
            return _("Fusionado en #%(n)s") % {"n": d["into"]}
        return _("Se fusionó el ticket #%(n)s aquí") % {"n": d.get("source")}
    if kind == EventKind.ESCALATED:
        return _("Escalado a %(to)s") % {"to": d.get("to", "")}
    if kind == EventKind.COMMENT:
        return _("Comentario interno")
    if kind == EventKind.SLA:
        if d.get("breached"):
            return _("SLA vencido")
        minutes = round(d.get("response_seconds", 0) / 60)
        if d.get("late"):
            return _("Primera respuesta en %(m)s min (fuera de SLA)") % {"m": minutes}
        return _("Respuesta en %(m)s min (a tiempo)") % {"m": minutes}
    if kind == EventKind.BOT and d.get("auto") == "close_blocked":
        return _("El bot no cerró el ticket: falta tipificación (%(f)s)") % {
            "f": ", ".join(d.get("missing", []))
        }
    if kind == EventKind.BOT and "skills" in d:
        if d["skills"] == "chosen":
            return _("Bot de habilidades: el cliente eligió %(d)s") % {"d": d.get("department")}
        if d["skills"] == "default":
            return _("Bot de habilidades: sin respuesta válida, va a %(d)s") % {
                "d": d.get("department") or _("ningún departamento")
            }
        return _("Bot de habilidades: dejó de preguntar")
    if kind == EventKind.BOT:
        return (
            _("Bot activado para el cliente")
            if d.get("enabled")
            else _("Bot desactivado para el cliente")
        )
    return _event_text_more(kind, d)


def _event_text_more(kind: str, d: dict[str, Any]) -> str:
    """The history lines of splitting, departments, routing and automatic actions."""
    if kind == EventKind.SPLIT:
        if "to_ticket" in d:
            return _("Un mensaje se separó al ticket #%(n)s") % {"n": d["to_ticket"]}
        return _("Separado del ticket #%(n)s") % {"n": d.get("from_ticket")}
    if kind == EventKind.DEPARTMENT:
        if not d.get("after_name"):
            return _("Sin departamento")
        return _("Departamento: %(name)s") % {"name": d["after_name"]}
    if kind == EventKind.ROUTED:
        text = _("Enrutado por la regla «%(rule)s»") % {"rule": d.get("rule_name", "")}
        if d.get("department_name"):
            text += " → " + str(d["department_name"])
        return text
    if kind == EventKind.AUTOMATION:
        return str(d.get("text") or _("Acción automática"))
    if kind == EventKind.IDENTITY:
        return _("Se vinculó %(identity)s al cliente") % {"identity": d.get("identity", "")}
    return str(kind)


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def rut(value: str) -> str:
    """'123456785' -> '12.345.678-5'."""
    from tickets.identities import format_rut

    return format_rut(value) if value else ""
