"""Customers, tickets, messages, comments and the history of every change."""

from __future__ import annotations

import secrets
import uuid

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department
from helpdesk.models import TenantModel, User


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Correo")
    PHONE = "phone", _("Teléfono")
    TWITTER = "twitter", _("Twitter/X")
    FACEBOOK = "facebook", _("Facebook")
    INSTAGRAM = "instagram", _("Instagram")
    WEBCHAT = "webchat", _("Visitante web")


# The identity a channel's customers are known by.
IDENTITY_OF_CHANNEL: dict[str, str] = {
    ChannelKind.EMAIL: IdentityKind.EMAIL,
    ChannelKind.WHATSAPP: IdentityKind.PHONE,
    ChannelKind.TWITTER: IdentityKind.TWITTER,
    ChannelKind.FACEBOOK: IdentityKind.FACEBOOK,
    ChannelKind.INSTAGRAM: IdentityKind.INSTAGRAM,
    ChannelKind.WEBCHAT: IdentityKind.WEBCHAT,
}


def keeps_one_open(kind: str) -> bool:
    """Whether a channel keeps one open conversation per customer and account (every chat
    channel); email threads by its references, so a customer may have several open there."""
    return kind != ChannelKind.EMAIL


class Customer(TenantModel):
    name = models.CharField(_("nombre"), max_length=200, blank=True, default="")
    rut = models.CharField(_("RUT"), max_length=12, blank=True, default="")  # digits + DV
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    bot_disabled = models.BooleanField(_("bot desactivado"), default=False)
    # What a web chat visitor typed as their email: contact data nobody verified. It is shown
    # as such and never becomes an identity (mail from that address is not theirs by it).
    contact_email = models.EmailField(
        _("correo de contacto (sin verificar)"), max_length=254, blank=True, default=""
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("cliente")
        verbose_name_plural = _("clientes")
        indexes = [
            models.Index(fields=["tenant", "rut"], name="customer_rut", condition=~Q(rut="")),
            # Names are searched through columns of migration 0008 (full text) and 0011 (trigrams
            # on ``name_folded``, which row-level security lets the planner use).
        ]

    def __str__(self) -> str:
        return self.name or str(_("Cliente sin nombre"))


class CustomerIdentity(TenantModel):
    """How a customer is reached on one channel. Unique per tenant and kind."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("tipo"), max_length=12, choices=IdentityKind.choices)
    value = models.CharField(_("valor"), max_length=255)
    display = models.CharField(_("como se muestra"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("identidad")
        verbose_name_plural = _("identidades")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "value"], name="identity_unique")
        ]
        indexes = [
            GinIndex(name="identity_value_trgm", fields=["value"], opclasses=["gin_trgm_ops"])
        ]

    def __str__(self) -> str:
        return self.display or self.value


class TicketCounter(TenantModel):
    """The last ticket number of a tenant. Incremented in the transaction that creates the
    ticket, so numbers have no gaps (a rollback undoes the increment) and no duplicates (the
    row lock serializes creators of one tenant)."""

    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="ticket_counter_one")]


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Abierto")
    CLOSED = "closed", _("Cerrado")
    IGNORED = "ignored", _("Ignorado")


class Sentiment(models.TextChoices):
    HAPPY = "happy", _("Contento")
    NEUTRAL = "neutral", _("Neutral")
    ANGRY = "angry", _("Molesto")


class Ticket(TenantModel):
    number = models.PositiveBigIntegerField(_("número"))
    # The single-column indexes Django would add are covered by composite indexes that
    # start with tenant_id (below), which the inbox's queries need anyway.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    account = models.ForeignKey(ChannelAccount, on_delete=models.PROTECT, related_name="tickets")
    status = models.CharField(
        _("estado"), max_length=8, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    assignee = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,
    )
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    important = models.BooleanField(_("importante"), default=False)
    sentiment = models.CharField(
        _("sentimiento"), max_length=8, choices=Sentiment.choices, default=Sentiment.NEUTRAL
    )
    addressed = models.BooleanField(_("abordado"), default=False)
    awaiting_response = models.BooleanField(_("espera respuesta"), default=False)
    has_comments = models.BooleanField(default=False)
    metadata = models.JSONField(_("tipificación"), default=dict, blank=True)
    subject = models.CharField(_("asunto"), max_length=255, blank=True, default="")
    last_message_preview = models.CharField(max_length=200, blank=True, default="")

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_message_at = models.DateTimeField(null=True, blank=True)
    # The SLA clock of the current wait: set when a customer message leaves the ticket
    # waiting for a human, cleared by the human's answer.
    waiting_since = models.DateTimeField(null=True, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # When the wait enters its last stretch ("at risk"); stored so columns can filter on it.
    sla_risk_at = models.DateTimeField(null=True, blank=True)
    sla_breached = models.BooleanField(default=False)
    # The optional resolution deadline of the account (from the ticket's opening).
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # The skills bot's conversation: "asking" while it waits for the customer's choice.
    bot_stage = models.CharField(max_length=16, blank=True, default="")
    bot_attempts = models.PositiveSmallIntegerField(default=0)

    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_tickets",
        db_index=False,  # see the partial index ticket_merged
    )
    previous_ticket = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="next_tickets"
    )
    escalated_to = models.EmailField(_("escalado a"), blank=True, default="")
    escalated_at = models.DateTimeField(null=True, blank=True)
    # keeps_one_open(account.kind), copied when the ticket is created: the account's kind is
    # not a column of the ticket, and the unique index below needs one to tell chats apart.
    single_open = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="ticket_number_unique"),
            # `important` can be set, never unset: enforced in the service and by this check
            # against the history is not possible in SQL, so the service is the only writer.
            #
            # A chat keeps one open conversation per customer and account (receiving appends
            # to it); email may have several (a new conversation is a new ticket).
            models.UniqueConstraint(
                fields=["tenant", "customer", "account"],
                name="ticket_one_open_chat",
                condition=Q(status="open", merged_into__isnull=True, single_open=True),
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "customer", "status"], name="ticket_customer_status"),
            models.Index(
                fields=["tenant", "status", "-updated_at", "-id"], name="ticket_status_updated"
            ),
            models.Index(
                fields=["tenant", "assignee", "status", "-updated_at", "-id"],
                name="ticket_assignee_updated",
            ),
            # The "waiting" sort: longest-waiting first among those awaiting an answer.
            models.Index(
                fields=["tenant", "waiting_since", "id"],
                name="ticket_waiting",
                condition=Q(awaiting_response=True, status="open"),
            ),
            models.Index(
                fields=["tenant", "merged_into"],
                name="ticket_merged",
                condition=Q(merged_into__isnull=False),
            ),
            models.Index(
                fields=["tenant", "sla_due_at"],
                name="ticket_sla_due",
                condition=Q(sla_due_at__isnull=False, sla_breached=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status == TicketStatus.OPEN

    @property
    def close_label(self) -> str:
        """Postcenter's rule: a ticket nobody answered is ignored, not closed."""
        return str(_("Cerrar") if self.addressed else _("Ignorar"))


class Direction(models.TextChoices):
    IN = "in", _("Entrante")
    OUT = "out", _("Saliente")


class AuthorKind(models.TextChoices):
    CUSTOMER = "customer", _("Cliente")
    AGENT = "agent", _("Ejecutivo")
    BOT = "bot", _("Bot")


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Recibido")
    QUEUED = "queued", _("En cola")
    SENT = "sent", _("Enviado")
    DELIVERED = "delivered", _("Entregado")
    READ = "read", _("Leído")
    FAILED = "failed", _("Falló")


class Message(TenantModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    account = models.ForeignKey(ChannelAccount, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    is_public = models.BooleanField(_("público"), default=False)
    author_kind = models.CharField(max_length=8, choices=AuthorKind.choices)
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(blank=True, default="")
    html = models.TextField(blank=True, default="")  # sanitized on the way in, never raw
    # NULL, not "": messages we have not sent yet have none, and the unique key skips NULLs.
    provider_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_mention = models.BooleanField(default=False)
    # Written by a robot (an auto-reply, a bounce): shown muted, never answered automatically.
    is_automatic = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    failure_reason = models.CharField(max_length=500, blank=True, default="")
    send_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mensaje")
        verbose_name_plural = _("mensajes")
        constraints = [
            # The idempotency key of inbound (and sent) messages.
            models.UniqueConstraint(
                fields=["account", "provider_id"],
                condition=Q(provider_id__isnull=False),
                name="message_provider_id_unique",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "ticket", "created_at", "id"], name="message_thread"),
            models.Index(fields=["tenant", "-created_at", "-id"], name="message_recent"),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def is_inbound(self) -> bool:
        return self.direction == Direction.IN


def _attachment_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: unguessable


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is random; the person's file name is kept in `name` only, so a name
    # with path separators can never escape the folder.
    return f"attachments/{instance.tenant_id}/{uuid.uuid4().hex}"


class Attachment(TenantModel):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    token = models.CharField(max_length=40, unique=True, default=_attachment_token)
    file = models.FileField(upload_to=attachment_path, max_length=255)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120)
    sha256 = models.CharField(max_length=64)
    content_id = models.CharField(max_length=255, blank=True, default="")  # inline (cid:) parts

    class Meta:
        indexes = [models.Index(fields=["tenant", "message"], name="attachment_message")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type in {"image/png", "image/jpeg", "image/gif", "image/webp"}


class Comment(TenantModel):
    """An internal note. Never edited, never deleted."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    mentions = models.ManyToManyField(User, through="CommentMention", related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "ticket", "created_at"], name="comment_ticket")]

    def __str__(self) -> str:
        return self.text[:60]


class CommentMention(TenantModel):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)


class EventKind(models.TextChoices):
    CREATED = "created", _("Ticket creado")
    MESSAGE_IN = "message_in", _("Mensaje recibido")
    MESSAGE_OUT = "message_out", _("Respuesta enviada")
    SEND_FAILED = "send_failed", _("Envío fallido")
    SEND_RETRIED = "send_retried", _("Envío reintentado")
    ASSIGNED = "assigned", _("Asignación")
    STATUS = "status", _("Estado")
    IMPORTANT = "important", _("Marcado importante")
    SENTIMENT = "sentiment", _("Sentimiento")
    METADATA = "metadata", _("Tipificación")
    CUSTOMER_METADATA = "customer_metadata", _("Datos del cliente")
    MERGED = "merged", _("Fusión")
    ESCALATED = "escalated", _("Escalado")
    COMMENT = "comment", _("Comentario")
    SLA = "sla", _("SLA")
    BOT = "bot", _("Bot")
    SPLIT = "split", _("Mensaje separado")
    DEPARTMENT = "department", _("Departamento")
    ROUTED = "routed", _("Regla de enrutamiento")
    AUTOMATION = "automation", _("Acción automática")
    IDENTITY = "identity", _("Identidad vinculada")


class ActorKind(models.TextChoices):
    USER = "user", _("Persona")
    BOT = "bot", _("Bot")
    SYSTEM = "system", _("Sistema")


class Event(TenantModel):
    """One line of a ticket's history: who, what, from what to what, when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "ticket", "created_at", "id"], name="event_ticket"),
            models.Index(fields=["tenant", "kind", "created_at"], name="event_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.data}"


class ColumnKind(models.TextChoices):
    TICKETS = "tickets", _("Tickets")
    MESSAGES = "messages", _("Mensajes")
    SCHEDULED = "scheduled", _("Mensajes programados")


class ColumnSort(models.TextChoices):
    UPDATED = "updated", _("Última actualización")
    WAITING = "waiting", _("Tiempo de espera")


class Column(TenantModel):
    """One column of a person's inbox: a saved filter, shown live."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(_("nombre"), max_length=60)
    position = models.PositiveIntegerField(_("posición"), default=0)
    kind = models.CharField(
        _("tipo"), max_length=10, choices=ColumnKind.choices, default=ColumnKind.TICKETS
    )
    filters = models.JSONField(_("filtros"), default=dict, blank=True)
    sort = models.CharField(
        _("orden"), max_length=10, choices=ColumnSort.choices, default=ColumnSort.UPDATED
    )
    sound = models.BooleanField(_("sonido"), default=False)
    desktop_notify = models.BooleanField(_("notificación de escritorio"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("columna")
        verbose_name_plural = _("columnas")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["tenant", "user", "position"], name="column_user_position")]

    def __str__(self) -> str:
        return self.name


def post_image_path(instance: ScheduledPost, filename: str) -> str:
    return f"posts/{instance.tenant_id}/{uuid.uuid4().hex}"  # random: never the person's name


class ScheduledPost(TenantModel):
    """A public post to publish later on Twitter/X or a Facebook page (``publishing`` writes
    and publishes them). Publishing is at most once: a post goes scheduled → publishing (a
    claim, in one transaction) → published or failed; one found still publishing after a crash
    is failed, never sent again by itself."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Programado")
        PUBLISHING = "publishing", _("Publicando")
        PUBLISHED = "published", _("Publicado")
        FAILED = "failed", _("Falló")
        MISSED = "missed", _("No publicado a tiempo")
        CANCELLED = "cancelled", _("Cancelado")

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("texto"))
    image = models.FileField(_("imagen"), upload_to=post_image_path, blank=True, max_length=255)
    publish_at = models.DateTimeField(_("publicar el"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    provider_id = models.CharField(max_length=255, blank=True, default="")
    url = models.URLField(_("enlace"), max_length=500, blank=True, default="")
    error = models.CharField(_("motivo"), max_length=500, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "status", "publish_at"], name="scheduled_due"),
            # The publisher's sweep over every tenant: only the rows still to go.
            models.Index(
                fields=["publish_at"],
                name="scheduled_pending_all",
                condition=Q(status__in=["scheduled", "publishing"]),
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]
