"""The sections of the Admin menu, in order, with who may open each."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Role


@dataclass(frozen=True)
class Section:
    slug: str
    title: str | Promise
    description: str | Promise
    url_name: str
    roles: frozenset[Role] = frozenset({Role.ADMIN})

    @property
    def url(self) -> str | None:
        """The section's page, or None while it is not built yet."""
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


SECTIONS: tuple[Section, ...] = (
    Section(
        "users",
        _("Usuarios"),
        _("Invitar, roles, departamentos y carga máxima."),
        "admin_config:users",
    ),
    Section(
        "departments", _("Departamentos"), _("Áreas y sus integrantes."), "admin_config:departments"
    ),
    Section(
        "channels",
        _("Canales"),
        _("Cuentas conectadas, SLA y bot por cuenta."),
        "admin_config:channels",
    ),
    Section(
        "assignments",
        _("Asignaciones"),
        _("Quién recibe tickets de qué cuenta."),
        "admin_config:assignments",
    ),
    Section("sla", _("SLA"), _("Tiempos de respuesta y alertas."), "admin_config:sla"),
    Section(
        "business-hours",
        _("Horario de atención"),
        _("Horarios semanales y feriados."),
        "admin_config:hours",
    ),
    Section(
        "auto-actions",
        _("Acciones automáticas"),
        _("Respuestas y cierres automáticos."),
        "admin_config:automation",
    ),
    Section(
        "skills-bot",
        _("Bot de habilidades"),
        _("Derivación por departamento."),
        "admin_config:skills_bot",
    ),
    Section(
        "templates",
        _("Plantillas"),
        _("Respuestas rápidas y plantillas de WhatsApp."),
        "admin_config:templates",
    ),
    Section(
        "forbidden-words",
        _("Palabras prohibidas"),
        _("Lo que no se puede enviar."),
        "admin_config:words",
    ),
    Section(
        "metadata",
        _("Campos de metadata"),
        _("Datos de clientes y tipificación."),
        "admin_config:metadata",
    ),
    Section(
        "routing",
        _("Reglas de enrutamiento"),
        _("Departamento o ejecutivo por regla."),
        "admin_config:routing",
    ),
    Section(
        "exports",
        _("Exportaciones"),
        _("Descargas de tickets y mensajes."),
        "exports:index",
        frozenset({Role.ADMIN, Role.ANALYST}),
    ),
)


def sections_for(role: str) -> list[Section]:
    return [s for s in SECTIONS if role in s.roles]
