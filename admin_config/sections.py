"""The sections of the Admin menu, in order, with who may open each."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Role


@dataclass(frozen=True)
class Section:
    slug: str
    title: str | Promise
    description: str | Promise
    url_name: str | None  # None until the section's page exists
    roles: frozenset[Role] = frozenset({Role.ADMIN})


SECTIONS: tuple[Section, ...] = (
    Section("users", _("Usuarios"), _("Invitar, roles, departamentos y carga máxima."), None),
    Section("departments", _("Departamentos"), _("Áreas y sus integrantes."), None),
    Section("channels", _("Canales"), _("Cuentas conectadas, SLA y bot por cuenta."), None),
    Section("assignments", _("Asignaciones"), _("Quién recibe tickets de qué cuenta."), None),
    Section("sla", _("SLA"), _("Tiempos de respuesta y alertas."), None),
    Section("business-hours", _("Horario de atención"), _("Horarios semanales y feriados."), None),
    Section(
        "auto-actions", _("Acciones automáticas"), _("Respuestas y cierres automáticos."), None
    ),
    Section("skills-bot", _("Bot de habilidades"), _("Derivación por departamento."), None),
    Section("templates", _("Plantillas"), _("Respuestas rápidas y plantillas de WhatsApp."), None),
    Section("forbidden-words", _("Palabras prohibidas"), _("Lo que no se puede enviar."), None),
    Section("metadata", _("Campos de metadata"), _("Datos de clientes y tipificación."), None),
    Section("routing", _("Reglas de enrutamiento"), _("Departamento o ejecutivo por regla."), None),
    Section(
        "exports",
        _("Exportaciones"),
        _("Descargas de tickets y mensajes."),
        "analytics:exports",
        frozenset({Role.ADMIN, Role.ANALYST}),
    ),
)


def sections_for(role: str) -> list[Section]:
    return [s for s in SECTIONS if role in s.roles]
