"""The ticket workspace of the demo tenants: channel accounts, configuration and a few dozen
conversations in Chilean Spanish, every ticket change written through ``tickets.services``.

Called by ``devtools.demo.seed``. A tenant that already has channel accounts is left alone, so
running it again creates nothing. Each tenant is seeded in one transaction: all or nothing.

The services stamp agents' answers, closes and history with the real clock; only the customers'
messages can carry an earlier time (``Inbound.received_at``). So every conversation puts its
past customer messages first, and whatever follows an agent's answer happens "now".
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import (
    Department,
    DepartmentMembership,
    ForbiddenWord,
    MessageTemplate,
    MetadataField,
    TenantSettings,
)
from devtools import demo_config as admin_demo
from devtools.data_demo_conversations import (
    ACME_ACCOUNTS,
    ACME_CONVERSATIONS,
    AGENT,
    CUSTOMER_FIELDS,
    DEMO_ACCOUNTS,
    DEMO_CONVERSATIONS,
    DEPARTMENT_MEMBERS,
    DEPARTMENTS,
    FORBIDDEN_WORDS,
    TEMPLATES,
    TICKET_FIELDS,
)
from devtools.demo_script import (
    AccountSpec,
    Assign,
    Close,
    Conversation,
    Escalate,
    Important,
    In,
    MergeInto,
    Mood,
    Note,
    Out,
    Profile,
    Tag,
)
from helpdesk.models import Tenant, User
from helpdesk.tenancy import tenant_context
from tickets.models import Customer, DeliveryStatus, Direction, Message, Ticket
from tickets.services import (
    Inbound,
    comment_add,
    customer_set_metadata,
    customer_update,
    message_receive,
    message_send,
    ticket_assign,
    ticket_close,
    ticket_escalate,
    ticket_mark_important,
    ticket_merge,
    ticket_set_metadata,
    ticket_set_sentiment,
)

# --- playing it ------------------------------------------------------------------------------

_PROVIDER_ID_FORMATS: dict[str, str] = {
    # A Message-ID is made by the sender's mail server.
    ChannelKind.EMAIL: "<{slug}-{n:03d}@mail.{domain}>",
    ChannelKind.WHATSAPP: "wamid.{slug}-{n:03d}",
    ChannelKind.FACEBOOK: "mid.{slug}-{n:03d}",
    ChannelKind.INSTAGRAM: "ig.mid.{slug}-{n:03d}",
    ChannelKind.TWITTER: "dm.{slug}-{n:03d}",
    ChannelKind.WEBCHAT: "wc.{slug}-{n:03d}",
}
_PUBLIC_PROVIDER_ID_FORMATS: dict[str, str] = {
    ChannelKind.FACEBOOK: "comment.{slug}-{n:03d}",
    ChannelKind.TWITTER: "tweet.{slug}-{n:03d}",
}


class _Player:
    def __init__(self, tenant: Tenant, accounts: dict[str, ChannelAccount]) -> None:
        self.tenant = tenant
        self.accounts = accounts
        self.now = timezone.now()
        self.sequence = 0
        self.tickets: dict[str, Ticket] = {}
        self._users: dict[str, User] = {}

    def user(self, who: str) -> User:
        if who not in self._users:
            domain = f"{self.tenant.slug}.test"
            self._users[who] = User.objects.get(email=f"{who}@{domain}")
        return self._users[who]

    def provider_id(self, account: ChannelAccount, identity: str, public: bool) -> str:
        self.sequence += 1
        fmt = _PROVIDER_ID_FORMATS[account.kind]
        if public:
            fmt = _PUBLIC_PROVIDER_ID_FORMATS.get(account.kind, fmt)
        domain = identity.rpartition("@")[2]
        return fmt.format(slug=self.tenant.slug, n=self.sequence, domain=domain)

    def play(self, conversation: Conversation) -> Ticket:
        account = self.accounts[conversation.account]
        ticket: Ticket | None = None
        for step in conversation.steps:
            if isinstance(step, In):
                at = (
                    None
                    if step.minutes_ago is None
                    else self.now - datetime.timedelta(minutes=step.minutes_ago)
                )
                received = message_receive(
                    account=account,
                    inbound=Inbound(
                        identity=conversation.identity,
                        text=step.text,
                        provider_id=self.provider_id(account, conversation.identity, step.public),
                        customer_name=conversation.name,
                        subject=step.subject,
                        is_public=step.public,
                        is_mention=step.mention,
                        received_at=at,
                    ),
                )
                ticket = received.message.ticket
                continue
            if ticket is None:
                raise ValueError(f"{conversation.key}: a conversation starts with a message")
            if isinstance(step, Out):
                message_send(ticket=ticket, author=self.user(step.who), text=step.text)
            elif isinstance(step, Assign):
                ticket = ticket_assign(
                    ticket=ticket, assignee=self.user(step.who), actor=self.user(step.by)
                )
            elif isinstance(step, Note):
                comment_add(ticket=ticket, author=self.user(step.who), text=step.text)
            elif isinstance(step, Close):
                ticket = ticket_close(ticket=ticket, actor=self.user(step.by))
            elif isinstance(step, Important):
                ticket = ticket_mark_important(ticket=ticket, actor=self.user(step.by))
            elif isinstance(step, Mood):
                ticket = ticket_set_sentiment(
                    ticket=ticket, actor=self.user(step.by), sentiment=step.sentiment
                )
            elif isinstance(step, Tag):
                ticket = ticket_set_metadata(
                    ticket=ticket, actor=self.user(step.by), values=step.values
                )
            elif isinstance(step, Escalate):
                ticket = ticket_escalate(
                    ticket=ticket, actor=self.user(step.by), to=step.to, note=step.note
                )
            elif isinstance(step, MergeInto):
                self.tickets[conversation.key] = ticket
                ticket = ticket_merge(
                    source=ticket, target=self.tickets[step.target], actor=self.user(step.by)
                )
        if ticket is None:
            raise ValueError(f"{conversation.key}: a conversation needs a message")
        self.tickets.setdefault(conversation.key, ticket)
        if conversation.profile is not None:
            self.fill_profile(ticket.customer_id, conversation.profile)
        return ticket

    def fill_profile(self, customer_id: int, profile: Profile) -> None:
        customer = Customer.objects.get(pk=customer_id)
        agent = self.user(AGENT)
        if profile.rut:
            customer = customer_update(
                customer=customer, actor=agent, name=customer.name, rut=profile.rut
            )
        if profile.metadata:
            customer_set_metadata(customer=customer, actor=agent, values=profile.metadata)


def _configure(tenant: Tenant) -> list[str]:
    """The demo tenant's configuration rows (written directly: they have no services yet)."""
    created: list[str] = []
    for position, (key, label, field_type, choices) in enumerate(TICKET_FIELDS):
        MetadataField.objects.create(
            tenant=tenant,
            target=MetadataField.Target.TICKET,
            key=key,
            label=label,
            field_type=field_type,
            choices=choices,
            position=position,
        )
    for position, (key, label, field_type, choices) in enumerate(CUSTOMER_FIELDS):
        MetadataField.objects.create(
            tenant=tenant,
            target=MetadataField.Target.CUSTOMER,
            key=key,
            label=label,
            field_type=field_type,
            choices=choices,
            position=position,
        )
    created.append(f"{len(TICKET_FIELDS) + len(CUSTOMER_FIELDS)} metadata fields")
    members = list(User.objects.filter(email__in=DEPARTMENT_MEMBERS))
    for name in DEPARTMENTS:
        department = Department.objects.create(tenant=tenant, name=name)
        for member in members:
            DepartmentMembership.objects.create(tenant=tenant, department=department, user=member)
    created.append(f"departments {', '.join(DEPARTMENTS)}")
    for word in FORBIDDEN_WORDS:
        ForbiddenWord.objects.create(tenant=tenant, word=word)
    created.append(f"{len(FORBIDDEN_WORDS)} forbidden words")
    for name, shortcut, body in TEMPLATES:
        MessageTemplate.objects.create(tenant=tenant, name=name, shortcut=shortcut, body=body)
    created.append(f"{len(TEMPLATES)} message templates")
    if not TenantSettings.objects.exists():
        # 0: a customer writing after the close opens a new ticket linked to the previous one.
        TenantSettings.objects.create(tenant=tenant, reopen_window_hours=0)
    return created


def _seed_tenant(
    tenant: Tenant,
    accounts: dict[str, AccountSpec],
    conversations: list[Conversation],
    *,
    configure: bool,
) -> list[str]:
    with tenant_context(tenant.pk), transaction.atomic():
        if ChannelAccount.objects.exists() or Ticket.objects.exists():
            return []
        created: list[str] = []
        rows = {
            key: ChannelAccount.objects.create(
                tenant=tenant,
                kind=spec.kind,
                name=spec.name,
                sla_minutes=spec.sla_minutes,
                settings=spec.settings,
                credentials={},
            )
            for key, spec in accounts.items()
        }
        created.append(f"{tenant.slug}: {len(rows)} channel accounts")
        if configure:
            created += [f"{tenant.slug}: {line}" for line in _configure(tenant)]
        player = _Player(tenant, rows)
        for conversation in conversations:
            player.play(conversation)
        _mark_history_delivered()
        created.append(f"{tenant.slug}: {Ticket.objects.count()} tickets")
        if configure:
            created += [f"{tenant.slug}: {line}" for line in admin_demo.configure(tenant, rows)]
        return created


def _mark_history_delivered() -> None:
    """The demo's answers belong to conversations that happened before the demo began: they
    were delivered and read then (the send tasks queued for them find nothing to do)."""
    for message in Message.objects.filter(
        direction=Direction.OUT, status=DeliveryStatus.QUEUED
    ).only("pk", "created_at"):
        Message.objects.filter(pk=message.pk).update(
            status=DeliveryStatus.READ,
            sent_at=message.created_at,
            provider_id=f"demo-out-{message.pk}",
        )


def seed(tenant: Tenant) -> list[str]:
    """The channel accounts, configuration and tickets of a demo tenant; nothing when it has
    channel accounts or tickets already."""
    if tenant.slug == "demo":
        return _seed_tenant(tenant, DEMO_ACCOUNTS, DEMO_CONVERSATIONS, configure=True)
    if tenant.slug == "acme":
        return _seed_tenant(tenant, ACME_ACCOUNTS, ACME_CONVERSATIONS, configure=False)
    return []
