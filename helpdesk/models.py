"""The core: tenants, users and roles, and the base every tenant-owned model stands on."""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.identity import normalize_email
from helpdesk.tenancy import current_tenant_id


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("«%(value)s» no es una zona horaria válida."), params={"value": value}
        )


class Tenant(models.Model):
    """A company using the helpdesk. Not tenant-owned itself: every tenant row points here."""

    name = models.CharField(_("nombre"), max_length=200)
    slug = models.SlugField(_("identificador"), max_length=60, unique=True)
    time_zone = models.CharField(
        _("zona horaria"),
        max_length=64,
        default="America/Santiago",
        validators=[validate_time_zone],
    )
    language = models.CharField(
        _("idioma"), max_length=8, default="es", choices=[("es", "Español"), ("en", "English")]
    )
    created_at = models.DateTimeField(_("creado"), default=timezone.now)

    class Meta:
        verbose_name = _("empresa")
        verbose_name_plural = _("empresas")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant | int) -> TenantQuerySet:
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        return self.filter(tenant_id=tenant_id)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Filters on the tenant of the current context, so every list uses a tenant_id index.

    Outside any context it adds no filter: row-level security then shows no rows, unless the
    work runs in an explicit bypass context.
    """

    def get_queryset(self) -> TenantQuerySet:
        qs = super().get_queryset()
        tenant_id = current_tenant_id()
        if tenant_id is not None:
            qs = qs.filter(tenant_id=tenant_id)
        return qs


class TenantModel(models.Model):
    """Abstract base of every tenant-owned table.

    A non-null tenant key, a scoped default manager, and (applied after every migrate, see
    ``helpdesk.rls``) a forced row-level security policy on ``tenant_id``.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)

    objects: ClassVar[TenantManager] = TenantManager()
    all_tenants: ClassVar[models.Manager[Any]] = models.Manager()

    class Meta:
        abstract = True
        base_manager_name = "all_tenants"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.tenant_id is None and current_tenant_id() is not None:
            self.tenant_id = current_tenant_id()
        super().save(*args, **kwargs)


class Role(models.TextChoices):
    AGENT = "agent", _("Ejecutivo")
    ANALYST = "analyst", _("Analista")
    ADMIN = "admin", _("Administrador")


class Availability(models.TextChoices):
    AVAILABLE = "available", _("Disponible")
    AWAY = "away", _("Ausente")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_queryset(self) -> models.QuerySet[User]:
        qs = super().get_queryset()
        tenant_id = current_tenant_id()
        if tenant_id is not None:
            qs = qs.filter(tenant_id=tenant_id)
        return qs

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra["tenant"] = None
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person (or a tenant's bot) who logs in with an email.

    Tenant users have a tenant and a role. Platform operators are superusers with no tenant:
    they only use Django's admin.
    """

    # Unique among people who can log in, and within a tenant. An invitation still pending
    # may name an address that another tenant's person uses: the inviting admin must not learn
    # that it is registered elsewhere; the invited person is told at acceptance.
    email = models.EmailField(_("correo"))
    name = models.CharField(_("nombre"), max_length=150)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="users"
    )
    role = models.CharField(_("rol"), max_length=16, choices=Role.choices, default=Role.AGENT)
    is_bot = models.BooleanField(_("bot"), default=False)
    is_active = models.BooleanField(_("activo"), default=True)
    is_staff = models.BooleanField(_("operador de la plataforma"), default=False)
    language = models.CharField(
        _("idioma"),
        max_length=8,
        blank=True,
        default="",
        choices=[("es", "Español"), ("en", "English")],
    )
    dark_mode = models.BooleanField(_("modo oscuro"), null=True, blank=True, default=None)
    inbox_layout = models.CharField(
        _("abrir tickets"),
        max_length=10,
        default="split",
        choices=[("split", _("al lado de las columnas")), ("expanded", _("sobre las columnas"))],
    )
    date_joined = models.DateTimeField(_("alta"), default=timezone.now)
    # Which notifications also arrive by email (the bell always gets them).
    email_on_assignment = models.BooleanField(_("correo al recibir un ticket"), default=False)
    email_on_mention = models.BooleanField(_("correo al ser mencionado"), default=False)
    email_on_sla_breach = models.BooleanField(_("correo por SLA vencido"), default=False)
    # Administration: workload, availability and the assignment engine's bookkeeping.
    max_open_tickets = models.PositiveIntegerField(
        _("máximo de tickets abiertos"),
        default=10,
        help_text=_("Cuántos tickets abiertos puede tener asignados a la vez."),
    )
    availability = models.CharField(
        _("disponibilidad"),
        max_length=10,
        choices=Availability.choices,
        default=Availability.AVAILABLE,
    )
    # When the engine last gave this person a ticket: ties go to who waited longest.
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # Open inbox sockets of this person (across workers) and when one last spoke: "connected"
    # means sockets > 0 and seen recently, so a killed worker cannot keep someone online.
    presence_sockets = models.IntegerField(default=0)
    presence_seen_at = models.DateTimeField(null=True, blank=True)
    # Set when invited by email; cleared when they set their password.
    invited_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("usuario")
        verbose_name_plural = _("usuarios")
        base_manager_name = "objects"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tenant__isnull=False) | models.Q(is_superuser=True),
                name="user_has_tenant_unless_platform_operator",
            ),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(is_bot=True),
                name="one_bot_per_tenant",
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(invited_at__isnull=True),
                name="user_email_unique_once_accepted",
            ),
            models.UniqueConstraint(fields=["tenant", "email"], name="user_email_unique_in_tenant"),
        ]
        indexes = [models.Index(fields=["tenant", "role"], name="user_tenant_role")]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_analyst(self) -> bool:
        return self.role == Role.ANALYST

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class Notification(TenantModel):
    """One line in a person's bell: a mention, an assignment, an SLA breach..."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(_("texto"), max_length=300)
    url = models.CharField(_("enlace"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("creada"), default=timezone.now)
    read_at = models.DateTimeField(_("leída"), null=True, blank=True)

    class Meta:
        verbose_name = _("notificación")
        verbose_name_plural = _("notificaciones")
        indexes = [
            models.Index(
                fields=["tenant", "user", "-created_at", "-id"], name="notification_user_recent"
            ),
            models.Index(
                fields=["tenant", "user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_user_unread",
            ),
        ]

    def __str__(self) -> str:
        return self.text
