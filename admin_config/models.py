"""The tenant's configuration. The pages that edit it come with the administration issue;
the models are here because tickets depend on them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.models import TenantModel, User


class Department(TenantModel):
    name = models.CharField(_("nombre"), max_length=100)
    members = models.ManyToManyField(
        User, blank=True, related_name="departments", through="DepartmentMembership"
    )

    class Meta:
        verbose_name = _("departamento")
        verbose_name_plural = _("departamentos")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentMembership(TenantModel):
    """Explicit so the link rows carry their tenant (and row-level security) too."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "user"], name="department_member_once")
        ]


class TenantSettings(TenantModel):
    """One row per tenant with the ticket-flow switches."""

    reopen_window_hours = models.PositiveIntegerField(
        _("ventana de reapertura (horas)"),
        default=0,
        help_text=_("0: un cliente que escribe tras el cierre abre un ticket nuevo."),
    )

    class Meta:
        verbose_name = _("ajustes")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="tenant_settings_one")]


class FieldType(models.TextChoices):
    TEXT = "text", _("Texto")
    NUMBER = "number", _("Número")
    DATE = "date", _("Fecha")
    CHOICE = "choice", _("Selección")
    MULTI = "multi", _("Selección múltiple")
    BOOL = "bool", _("Sí/No")


class MetadataField(TenantModel):
    """A custom field of customers or of tickets (typification)."""

    class Target(models.TextChoices):
        CUSTOMER = "customer", _("Cliente")
        TICKET = "ticket", _("Ticket")

    target = models.CharField(_("aplica a"), max_length=10, choices=Target.choices)
    key = models.SlugField(_("clave"), max_length=50)
    label = models.CharField(_("nombre"), max_length=100)
    field_type = models.CharField(_("tipo"), max_length=10, choices=FieldType.choices)
    choices = models.JSONField(_("opciones"), default=list, blank=True)
    required = models.BooleanField(_("obligatorio"), default=False)
    position = models.PositiveIntegerField(_("orden"), default=0)
    active = models.BooleanField(_("activo"), default=True)

    class Meta:
        verbose_name = _("campo de metadata")
        verbose_name_plural = _("campos de metadata")
        ordering = ["target", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "target", "key"], name="metadata_unique_key")
        ]

    def __str__(self) -> str:
        return self.label


class ForbiddenWord(TenantModel):
    word = models.CharField(_("palabra"), max_length=100)

    class Meta:
        verbose_name = _("palabra prohibida")
        verbose_name_plural = _("palabras prohibidas")
        ordering = ["word"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "word"], name="forbidden_word_unique")
        ]

    def __str__(self) -> str:
        return self.word


class MessageTemplate(TenantModel):
    """A quick reply, typed with "/" + shortcut in the composer."""

    name = models.CharField(_("nombre"), max_length=100)
    shortcut = models.SlugField(_("atajo"), max_length=40)
    body = models.TextField(_("texto"), help_text=_("Variables: {cliente}, {ejecutivo}, {ticket}."))
    departments = models.ManyToManyField(
        Department, blank=True, related_name="templates", through="TemplateDepartment"
    )

    class Meta:
        verbose_name = _("plantilla")
        verbose_name_plural = _("plantillas")
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "shortcut"], name="template_unique_shortcut")
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class TemplateDepartment(TenantModel):
    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE)
    department = models.ForeignKey(Department, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "department"], name="template_dept_once")
        ]
