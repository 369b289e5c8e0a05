"""The tenant's configuration: departments, settings, schedules, automation, assignment,
routing, templates and the audit log of every change made to them.

The classes live here, below ``tickets``, so every layer may read them; their Django app label
stays ``admin_config`` (``Meta.app_label``), whose migrations own the tables: moving the code
moved no table, row-level-security policy or row."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models import TenantModel, User


class Department(TenantModel):
    name = models.CharField(_("nombre"), max_length=100)
    members = models.ManyToManyField(
        User, blank=True, related_name="departments", through="DepartmentMembership"
    )

    class Meta:
        app_label = "admin_config"
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
        app_label = "admin_config"
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
    sla_risk_percent = models.PositiveSmallIntegerField(
        _("en riesgo desde (% del SLA)"),
        default=75,
        help_text=_("Un ticket pasa a «en riesgo» cuando consumió este porcentaje de su SLA."),
    )

    class Meta:
        app_label = "admin_config"
        verbose_name = _("ajustes")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="tenant_settings_one")]

    def __str__(self) -> str:
        return str(_("Ajustes de la empresa"))


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
        app_label = "admin_config"
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
        app_label = "admin_config"
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
        app_label = "admin_config"
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
        app_label = "admin_config"
        constraints = [
            models.UniqueConstraint(fields=["template", "department"], name="template_dept_once")
        ]


class AssignmentMode(models.TextChoices):
    AUTOMATIC = "auto", _("Automática")
    MANUAL = "manual", _("Manual")
    NONE = "none", _("Ninguna")


class AssignmentRule(TenantModel):
    """One cell of the users-by-accounts matrix. No row means manual: the person may take the
    account's tickets but is never given them."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignment_rules")
    account = models.ForeignKey(
        "channels_conn.ChannelAccount", on_delete=models.CASCADE, related_name="assignment_rules"
    )
    mode = models.CharField(
        _("modo"), max_length=8, choices=AssignmentMode.choices, default=AssignmentMode.MANUAL
    )

    class Meta:
        app_label = "admin_config"
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="assignment_rule_once")
        ]
        indexes = [
            models.Index(fields=["tenant", "account", "mode"], name="assignment_rule_account")
        ]


class BusinessSchedule(TenantModel):
    """A weekly schedule with holidays. The tenant's default applies where an account names
    none; an account with a schedule counts its SLA in business time."""

    name = models.CharField(_("nombre"), max_length=100)
    time_zone = models.CharField(_("zona horaria"), max_length=64, default="America/Santiago")
    is_default = models.BooleanField(_("horario principal"), default=False)

    class Meta:
        app_label = "admin_config"
        verbose_name = _("horario de atención")
        verbose_name_plural = _("horarios de atención")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="schedule_unique_name"),
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(is_default=True), name="schedule_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BusinessInterval(TenantModel):
    """An open interval of one weekday (0 = Monday), local time of the schedule."""

    schedule = models.ForeignKey(
        BusinessSchedule, on_delete=models.CASCADE, related_name="intervals"
    )
    weekday = models.PositiveSmallIntegerField(_("día"))
    start = models.TimeField(_("desde"))
    end = models.TimeField(_("hasta"))

    class Meta:
        app_label = "admin_config"
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="interval_weekday"),
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="interval_order"
            ),
        ]


class Holiday(TenantModel):
    schedule = models.ForeignKey(
        BusinessSchedule, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(_("fecha"))
    name = models.CharField(_("nombre"), max_length=100)

    class Meta:
        app_label = "admin_config"
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "date"], name="holiday_once_per_day")
        ]


class AccountAutomation(TenantModel):
    """The automatic actions of one account, done by the tenant's bot user."""

    account = models.OneToOneField(
        "channels_conn.ChannelAccount", on_delete=models.CASCADE, related_name="automation"
    )
    welcome_enabled = models.BooleanField(_("respuesta al abrir un ticket"), default=False)
    welcome_text = models.TextField(_("texto de bienvenida"), blank=True, default="")
    out_of_hours_enabled = models.BooleanField(_("respuesta fuera de horario"), default=False)
    out_of_hours_text = models.TextField(_("texto fuera de horario"), blank=True, default="")
    close_after_hours = models.PositiveIntegerField(
        _("cerrar abordados sin respuesta del cliente tras (horas)"), null=True, blank=True
    )
    close_message = models.TextField(_("mensaje de cierre"), blank=True, default="")
    ignore_after_hours = models.PositiveIntegerField(
        _("ignorar no abordados tras (horas)"), null=True, blank=True
    )

    class Meta(TenantModel.Meta):
        app_label = "admin_config"

    def __str__(self) -> str:
        return str(_("Acciones automáticas de %(account)s") % {"account": self.account.name})


class SkillsBot(TenantModel):
    """Asks a new ticket's customer which department they need, by number or by name."""

    account = models.OneToOneField(
        "channels_conn.ChannelAccount", on_delete=models.CASCADE, related_name="skills_bot"
    )
    enabled = models.BooleanField(_("activo"), default=False)
    greeting = models.TextField(_("saludo"), blank=True, default="")
    retry_text = models.TextField(_("texto al no entender"), blank=True, default="")
    # Sent once the customer chose; "{departamento}" becomes the department's name. Empty:
    # the bot's standard sentence (in the tenant's language).
    confirm_text = models.TextField(_("texto al elegir"), blank=True, default="")
    default_department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("departamento por defecto"),
    )

    class Meta(TenantModel.Meta):
        app_label = "admin_config"

    def __str__(self) -> str:
        return str(_("Bot de habilidades de %(account)s") % {"account": self.account.name})


class SkillsBotOption(TenantModel):
    """One numbered entry of the bot's list of departments."""

    bot = models.ForeignKey(SkillsBot, on_delete=models.CASCADE, related_name="options")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(_("número"))

    class Meta:
        app_label = "admin_config"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "department"], name="skills_option_once"),
            models.UniqueConstraint(fields=["bot", "position"], name="skills_option_position"),
        ]


class RoutingRule(TenantModel):
    """Conditions on a new ticket's first message and what to do when they match. Ordered by
    position; the first match wins."""

    name = models.CharField(_("nombre"), max_length=100)
    position = models.PositiveIntegerField(_("orden"), default=0)
    active = models.BooleanField(_("activa"), default=True)
    channels = ArrayField(
        models.CharField(max_length=16), default=list, blank=True, verbose_name=_("canales")
    )
    accounts = ArrayField(models.BigIntegerField(), default=list, blank=True)
    keywords = ArrayField(
        models.CharField(max_length=100), default=list, blank=True, verbose_name=_("palabras clave")
    )
    set_department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("departamento"),
    )
    mark_important = models.BooleanField(_("marcar importante"), default=False)
    assign_to = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("asignar a"),
    )

    class Meta:
        app_label = "admin_config"
        verbose_name = _("regla de enrutamiento")
        verbose_name_plural = _("reglas de enrutamiento")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class WhatsAppTemplate(TenantModel):
    """A template approved by WhatsApp, to open a conversation or answer after 24 hours."""

    class Category(models.TextChoices):
        MARKETING = "MARKETING", _("Marketing")
        UTILITY = "UTILITY", _("Utilidad")
        AUTHENTICATION = "AUTHENTICATION", _("Autenticación")

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pendiente")
        APPROVED = "APPROVED", _("Aprobada")
        REJECTED = "REJECTED", _("Rechazada")
        PAUSED = "PAUSED", _("Pausada")

    account = models.ForeignKey(
        "channels_conn.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="whatsapp_templates",
        verbose_name=_("cuenta"),
    )
    name = models.CharField(_("nombre"), max_length=512)
    language = models.CharField(_("idioma"), max_length=15, default="es")
    category = models.CharField(
        _("categoría"), max_length=16, choices=Category.choices, default=Category.UTILITY
    )
    body = models.TextField(_("texto"))
    status = models.CharField(
        _("estado"), max_length=10, choices=Status.choices, default=Status.PENDING
    )

    class Meta:
        app_label = "admin_config"
        verbose_name = _("plantilla de WhatsApp")
        verbose_name_plural = _("plantillas de WhatsApp")
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name", "language"], name="wa_template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class ConfigChange(TenantModel):
    """The configuration audit log: who changed what, when, and the values before and after."""

    class Action(models.TextChoices):
        CREATE = "create", _("creó")
        UPDATE = "update", _("modificó")
        DELETE = "delete", _("eliminó")

    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    section = models.CharField(max_length=40)
    action = models.CharField(max_length=8, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40, blank=True, default="")
    object_repr = models.CharField(max_length=200, blank=True, default="")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "admin_config"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tenant", "-at", "-id"], name="config_change_recent")]
