"""The forms of the Channels page: one per channel kind, each listing its fields explicitly.

What the connectors read is kept compatible: plain settings go to ``ChannelAccount.settings``
(the keys channels_conn/email and channels_conn/webchat read), secrets to the encrypted
``credentials``. A secret is never rendered back: the field is a password box that starts
empty, and leaving it empty keeps the stored value. ``settings`` never holds a secret (it is
written to the audit log).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from admin_config.crud import TenantModelForm
from channels_conn.credentials import readable_credentials
from channels_conn.email.probe import Security, ServerConfig
from channels_conn.twitter.client import XCredentials
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import BusinessSchedule

KEEP_SECRET = _("••• guardada — déjalo vacío para mantenerla")
MB = 1024 * 1024

numeric_id = RegexValidator(r"^\d{1,40}$", _("Solo dígitos: el identificador numérico."))


def _port() -> forms.IntegerField:
    return forms.IntegerField(label=_("Puerto"), min_value=1, max_value=65535)


def _security(label: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[
            (Security.SSL, _("SSL/TLS")),
            (Security.STARTTLS, _("STARTTLS")),
            (Security.NONE, _("Sin cifrado")),
        ],
    )


def _secret(label: Any, *, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,  # required on creation only (see AccountForm.__init__)
        strip=False,
        max_length=4000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


class AccountForm(TenantModelForm):
    """The fields every account has, and the settings/credentials plumbing of the kinds."""

    kind: ClassVar[str]
    # Form fields stored as-is in ``settings`` (kinds with derived keys override the hooks).
    settings_fields: ClassVar[tuple[str, ...]] = ()
    # Form fields stored in ``credentials``; those in ``required_secrets`` are needed to create.
    secret_fields: ClassVar[tuple[str, ...]] = ()
    required_secrets: ClassVar[tuple[str, ...]] = ()

    class Meta:
        model = ChannelAccount
        fields = ["name", "sla_minutes", "resolution_minutes", "schedule"]
        labels = {"resolution_minutes": _("Resolución (minutos)")}
        help_texts = {
            "sla_minutes": _("Minutos para la primera respuesta de una persona."),
            "resolution_minutes": _("Opcional: minutos para cerrar el ticket."),
            "schedule": _("Con un horario, el SLA cuenta solo el tiempo de atención."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.kind = self.kind
        schedule = self.fields["schedule"]
        assert isinstance(schedule, forms.ModelChoiceField)
        schedule.queryset = BusinessSchedule.objects.all()
        schedule.empty_label = _("Siempre (24/7)")
        if self.instance.pk and not self.is_bound:
            self.initial.update(self.initial_from_settings(dict(self.instance.settings or {})))
        stored = self.stored_secrets()
        for name in self.secret_fields:
            field = self.fields[name]
            if name in stored:
                field.help_text = KEEP_SECRET
            elif name in self.required_secrets:
                field.required = True
        self.secrets_changed: list[str] = []
        self.credentials_changed = False  # set by save(): secrets or connection settings
        tail = ["sla_minutes", "resolution_minutes", "schedule"]
        self.order_fields([f for f in self.fields if f not in tail] + tail)

    def stored_secrets(self) -> set[str]:
        """The names of the secrets already stored (their values are never used for display)."""
        # Unreadable ones (encrypted with another key) count as missing: typed again.
        creds = readable_credentials(self.instance) if self.instance.pk else {}
        return {k for k, v in creds.items() if v}

    def fieldsets(self) -> list[tuple[Any, list[forms.BoundField]]]:
        """The form in titled groups, for the page."""
        tail = ("sla_minutes", "resolution_minutes", "schedule")
        groups: list[tuple[Any, tuple[str, ...]]] = [
            (_("Cuenta"), tuple(n for n in self.fields if n not in (*tail, *self.secret_fields))),
            (_("Credenciales"), self.secret_fields),
            (_("SLA y horario"), tail),
        ]
        return [(title, [self[n] for n in names]) for title, names in groups if names]

    # Hooks a kind overrides when its form fields and its settings keys differ.
    def initial_from_settings(self, stored: dict[str, Any]) -> dict[str, Any]:
        return {name: stored[name] for name in self.settings_fields if name in stored}

    def settings_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.settings_fields}

    def secrets_typed(self) -> bool:
        """Whether a secret box was filled (a probe then tests what was typed)."""
        return any(self.cleaned_data.get(name) for name in self.secret_fields)

    def connection_changed(self) -> bool:
        """Whether the settings the form edits (hosts, users, ids) differ from the stored ones:
        with new secrets, what fixes a «Reconectar» mark."""
        if not self.instance.pk:
            return True
        stored = ChannelAccount.objects.filter(pk=self.instance.pk).values_list(
            "settings", flat=True
        )
        before = dict(stored.first() or {})
        values = self.settings_values()
        return any(before.get(key) != value for key, value in values.items())

    def save(self, commit: bool = True) -> ChannelAccount:
        account: ChannelAccount = super().save(commit=False)
        account.kind = self.kind
        # Keys this form does not edit (e.g. a display number the provider gave) are kept.
        account.settings = {**dict(account.settings or {}), **self.settings_values()}
        creds = readable_credentials(account) if account.pk else {}
        self.secrets_changed = []
        for name in self.secret_fields:
            value = self.cleaned_data.get(name) or ""
            if value and creds.get(name) != value:
                creds[name] = value
                self.secrets_changed.append(name)
        account.credentials = creds  # type: ignore[assignment]  # an encrypted JSON field
        self.credentials_changed = bool(self.secrets_changed) or self.connection_changed()
        if commit:
            account.save()
        return account


class EmailAccountForm(AccountForm):
    kind = ChannelKind.EMAIL
    secret_fields = ("imap_password", "smtp_password")
    required_secrets = ("imap_password",)

    address = forms.EmailField(
        label=_("Dirección"), help_text=_("Desde aquí se responde a los clientes.")
    )
    imap_host = forms.CharField(label=_("Servidor IMAP"), max_length=255)
    imap_port = _port()
    imap_security = _security(_("Seguridad IMAP"))
    imap_user = forms.CharField(
        label=_("Usuario IMAP"),
        max_length=255,
        required=False,
        help_text=_("Vacío: la dirección."),
    )
    imap_password = _secret(_("Contraseña IMAP"))
    imap_folder = forms.CharField(label=_("Carpeta"), max_length=255, initial="INBOX")
    processed = forms.ChoiceField(
        label=_("Correo ya recibido"),
        choices=[("seen", _("Marcar como leído")), ("move", _("Mover a una carpeta"))],
        initial="seen",
    )
    processed_folder = forms.CharField(
        label=_("Carpeta para lo recibido"),
        max_length=255,
        required=False,
        help_text=_("Solo al mover, p. ej. «Processed»."),
    )
    max_size_mb = forms.IntegerField(
        label=_("Tamaño máximo (MB)"),
        min_value=1,
        max_value=100,
        initial=25,
        help_text=_("Un correo más grande queda como fallido, visible aquí."),
    )
    smtp_host = forms.CharField(label=_("Servidor SMTP"), max_length=255)
    smtp_port = _port()
    smtp_security = _security(_("Seguridad SMTP"))
    smtp_user = forms.CharField(
        label=_("Usuario SMTP"),
        max_length=255,
        required=False,
        help_text=_("Vacío: sin inicio de sesión."),
    )
    smtp_password = _secret(_("Contraseña SMTP"))

    field_order = [
        "name",
        "address",
        "imap_host",
        "imap_port",
        "imap_security",
        "imap_user",
        "imap_password",
        "imap_folder",
        "processed",
        "processed_folder",
        "max_size_mb",
        "smtp_host",
        "smtp_port",
        "smtp_security",
        "smtp_user",
        "smtp_password",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["imap_port"].initial = 993
        self.fields["imap_security"].initial = Security.SSL
        self.fields["smtp_port"].initial = 587
        self.fields["smtp_security"].initial = Security.STARTTLS

    def fieldsets(self) -> list[tuple[Any, list[forms.BoundField]]]:
        groups: list[tuple[Any, tuple[str, ...]]] = [
            (_("Cuenta"), ("name", "address")),
            (
                _("Recepción (IMAP)"),
                (
                    "imap_host",
                    "imap_port",
                    "imap_security",
                    "imap_user",
                    "imap_password",
                    "imap_folder",
                    "processed",
                    "processed_folder",
                    "max_size_mb",
                ),
            ),
            (
                _("Envío (SMTP)"),
                ("smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_password"),
            ),
            (_("SLA y horario"), ("sla_minutes", "resolution_minutes", "schedule")),
        ]
        return [(title, [self[n] for n in names]) for title, names in groups]

    def initial_from_settings(self, stored: dict[str, Any]) -> dict[str, Any]:
        policy = str(stored.get("processed_policy") or "seen")
        imap_ssl = bool(stored.get("imap_ssl", True))
        smtp_ssl = bool(stored.get("smtp_ssl", False))
        initial: dict[str, Any] = {
            key: stored[key]
            for key in ("address", "imap_host", "imap_port", "imap_user", "imap_folder")
            if key in stored
        }
        initial.update(
            {key: stored[key] for key in ("smtp_host", "smtp_port", "smtp_user") if key in stored}
        )
        initial["imap_security"] = _security_of(imap_ssl, bool(stored.get("imap_starttls")))
        initial["smtp_security"] = _security_of(
            smtp_ssl, bool(stored.get("smtp_starttls", not smtp_ssl))
        )
        initial["processed"] = "move" if policy.startswith("move:") else "seen"
        initial["processed_folder"] = policy.split(":", 1)[1] if ":" in policy else ""
        if stored.get("max_size"):
            initial["max_size_mb"] = max(1, round(int(stored["max_size"]) / MB))
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("processed") == "move" and not data.get("processed_folder"):
            self.add_error(
                "processed_folder", _("Indica a qué carpeta mover el correo ya recibido.")
            )
        if data.get("smtp_user") and not (
            data.get("smtp_password") or "smtp_password" in self.stored_secrets()
        ):
            self.add_error("smtp_password", _("Con usuario SMTP hace falta su contraseña."))
        return data

    def settings_values(self) -> dict[str, Any]:
        d = self.cleaned_data
        processed = d["processed"]
        return {
            "address": d["address"].lower(),
            "imap_host": d["imap_host"].strip(),
            "imap_port": d["imap_port"],
            "imap_ssl": d["imap_security"] == Security.SSL,
            "imap_starttls": d["imap_security"] == Security.STARTTLS,
            "imap_user": d["imap_user"].strip(),
            "imap_folder": d["imap_folder"].strip(),
            "processed_policy": (
                f"move:{d['processed_folder'].strip()}" if processed == "move" else "seen"
            ),
            "max_size": d["max_size_mb"] * MB,
            "smtp_host": d["smtp_host"].strip(),
            "smtp_port": d["smtp_port"],
            "smtp_ssl": d["smtp_security"] == Security.SSL,
            "smtp_starttls": d["smtp_security"] == Security.STARTTLS,
            "smtp_user": d["smtp_user"].strip(),
        }

    def server_configs(self) -> tuple[ServerConfig, ServerConfig]:
        """IMAP and SMTP as typed in (a blank password: the stored one), for the probe."""
        d = self.cleaned_data
        creds = readable_credentials(self.instance) if self.instance.pk else {}
        imap = ServerConfig(
            host=d["imap_host"].strip(),
            port=d["imap_port"],
            security=d["imap_security"],
            user=d["imap_user"].strip() or d["address"],
            password=d.get("imap_password") or str(creds.get("imap_password", "")),
            folder=d["imap_folder"].strip(),
        )
        smtp = ServerConfig(
            host=d["smtp_host"].strip(),
            port=d["smtp_port"],
            security=d["smtp_security"],
            user=d["smtp_user"].strip(),
            password=d.get("smtp_password") or str(creds.get("smtp_password", "")),
        )
        return imap, smtp


def _security_of(ssl: bool, starttls: bool) -> str:
    if ssl:
        return Security.SSL
    return Security.STARTTLS if starttls else Security.NONE


def routing_id_taken(kind: str, key: str, value: str, instance: ChannelAccount) -> bool:
    """Whether another account (of any tenant) already has this Meta routing id: webhooks are
    routed by it, so it must name one account only (else one company could take another's
    messages)."""
    from helpdesk.tenancy import bypass_context

    with bypass_context():
        others = ChannelAccount.all_tenants.filter(kind=kind, **{f"settings__{key}": value})
        if instance.pk:
            others = others.exclude(pk=instance.pk)
        return others.exists()


class MetaRoutingIdMixin:
    routing_key: ClassVar[str]
    kind: ClassVar[str]
    instance: ChannelAccount

    def clean_routing_id(self, value: str) -> str:
        value = value.strip()
        if value and routing_id_taken(self.kind, self.routing_key, value, self.instance):
            raise ValidationError(
                _("Este identificador ya está conectado en otra cuenta de la plataforma.")
            )
        return value


OWN_APP = _("Solo si la cuenta usa su propia app de Meta (si no, la de la plataforma).")


class WhatsAppAccountForm(MetaRoutingIdMixin, AccountForm):
    kind = ChannelKind.WHATSAPP
    settings_fields = ("phone_number_id", "waba_id", "display_phone_number")
    secret_fields = ("access_token", "app_secret", "verify_token")
    required_secrets = ("access_token",)
    routing_key = "phone_number_id"

    phone_number_id = forms.CharField(
        label=_("ID del número"),
        max_length=40,
        validators=[numeric_id],
        help_text=_("El «phone number id» de Meta."),
    )
    waba_id = forms.CharField(
        label=_("ID de la cuenta WABA"),
        max_length=40,
        validators=[numeric_id],
        help_text=_("La cuenta de WhatsApp Business."),
    )
    display_phone_number = forms.CharField(
        label=_("Número visible"), max_length=30, required=False, help_text=_("Ej.: 56940001234")
    )
    access_token = _secret(_("Token de acceso"))
    app_secret = _secret(_("Clave secreta de la app"), help_text=OWN_APP)
    verify_token = _secret(_("Token de verificación"), help_text=OWN_APP)

    def clean_phone_number_id(self) -> str:
        return self.clean_routing_id(str(self.cleaned_data.get("phone_number_id") or ""))


class FacebookAccountForm(MetaRoutingIdMixin, AccountForm):
    kind = ChannelKind.FACEBOOK
    settings_fields = ("page_id",)
    secret_fields = ("page_access_token", "app_secret")
    required_secrets = ("page_access_token",)

    page_id = forms.CharField(label=_("ID de la página"), max_length=40, validators=[numeric_id])
    page_access_token = _secret(_("Token de acceso de la página"))
    app_secret = _secret(_("Clave secreta de la app"), help_text=OWN_APP)
    routing_key = "page_id"

    def clean_page_id(self) -> str:
        return self.clean_routing_id(str(self.cleaned_data.get("page_id") or ""))


class InstagramAccountForm(MetaRoutingIdMixin, AccountForm):
    kind = ChannelKind.INSTAGRAM
    settings_fields = ("instagram_account_id", "username")
    secret_fields = ("page_access_token", "app_secret")
    required_secrets = ("page_access_token",)

    instagram_account_id = forms.CharField(
        label=_("ID de la cuenta de Instagram"), max_length=40, validators=[numeric_id]
    )
    username = forms.CharField(label=_("Usuario"), max_length=60, required=False)
    page_access_token = _secret(_("Token de acceso de la página"))
    app_secret = _secret(_("Clave secreta de la app"), help_text=OWN_APP)

    routing_key = "instagram_account_id"

    def clean_instagram_account_id(self) -> str:
        return self.clean_routing_id(str(self.cleaned_data.get("instagram_account_id") or ""))

    def clean_username(self) -> str:
        return str(self.cleaned_data.get("username") or "").strip().lstrip("@")


class TwitterAccountForm(AccountForm):
    kind = ChannelKind.TWITTER
    settings_fields = ("user_id", "username")
    secret_fields = ("api_key", "api_secret", "access_token", "access_token_secret", "bearer_token")
    required_secrets = secret_fields

    user_id = forms.CharField(label=_("ID de la cuenta"), max_length=40, validators=[numeric_id])
    username = forms.CharField(label=_("Usuario"), max_length=60, required=False)
    api_key = _secret(_("API key"))
    api_secret = _secret(_("API key secret"))
    access_token = _secret(_("Access token"))
    access_token_secret = _secret(_("Access token secret"))
    bearer_token = _secret(_("Bearer token"))

    def clean_username(self) -> str:
        return str(self.cleaned_data.get("username") or "").strip().lstrip("@")

    def x_credentials(self) -> XCredentials:
        """The credentials as typed in (a blank secret: the stored one), for the probe."""
        stored: Any = self.instance.credentials if self.instance.pk else {}
        stored = stored if isinstance(stored, dict) else {}

        def secret(name: str) -> str:
            return str(self.cleaned_data.get(name) or stored.get(name) or "")

        return XCredentials(
            user_id=str(self.cleaned_data.get("user_id") or ""),
            username=str(self.cleaned_data.get("username") or ""),
            api_key=secret("api_key"),
            api_secret=secret("api_secret"),
            access_token=secret("access_token"),
            access_token_secret=secret("access_token_secret"),
            bearer_token=secret("bearer_token"),
        )


class WebchatAccountForm(AccountForm):
    kind = ChannelKind.WEBCHAT
    settings_fields = ("allowed_origins", "greeting")

    allowed_origins = forms.CharField(
        label=_("Sitios permitidos"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Uno por línea, p. ej. https://www.tusitio.cl. Solo esos sitios pueden mostrar el chat."
        ),
    )
    greeting = forms.CharField(
        label=_("Saludo"),
        max_length=300,
        required=False,
        help_text=_("Lo primero que ve el visitante."),
    )

    def initial_from_settings(self, stored: dict[str, Any]) -> dict[str, Any]:
        return {
            "allowed_origins": "\n".join(stored.get("allowed_origins") or []),
            "greeting": stored.get("greeting", ""),
        }

    def clean_allowed_origins(self) -> list[str]:
        origins: list[str] = []
        for line in str(self.cleaned_data.get("allowed_origins") or "").splitlines():
            value = line.strip().rstrip("/")
            if not value:
                continue
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise ValidationError(
                    _("«%(value)s» no es un sitio: escribe solo https://dominio (sin ruta)."),
                    params={"value": value},
                )
            if value not in origins:
                origins.append(value)
        return origins


FORMS: dict[str, type[AccountForm]] = {
    str(form.kind): form
    for form in (
        EmailAccountForm,
        WhatsAppAccountForm,
        FacebookAccountForm,
        InstagramAccountForm,
        TwitterAccountForm,
        WebchatAccountForm,
    )
}


def form_class_for(kind: str) -> type[AccountForm]:
    return FORMS[str(kind)]
