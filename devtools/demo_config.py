"""The demo tenant's automation, set up after its conversations are played (so the scripted
history has no bot messages in it): business hours, automatic replies, the skills bot on the
web chat (try it from the chat page), assignment modes, a routing rule and WhatsApp
templates."""

from __future__ import annotations

import datetime

from deskconfig.accounts import ChannelAccount
from deskconfig.models import (
    AccountAutomation,
    AssignmentMode,
    AssignmentRule,
    BusinessInterval,
    BusinessSchedule,
    Department,
    Holiday,
    RoutingRule,
    SkillsBot,
    SkillsBotOption,
    WhatsAppTemplate,
)
from helpdesk.models import Tenant, User

WEEKDAY_HOURS = [(datetime.time(9), datetime.time(13)), (datetime.time(14), datetime.time(18, 30))]
SATURDAY_HOURS = [(datetime.time(10), datetime.time(14))]
HOLIDAYS = [
    (datetime.date(2026, 12, 8), "Inmaculada Concepción"),
    (datetime.date(2026, 12, 25), "Navidad"),
    (datetime.date(2027, 1, 1), "Año Nuevo"),
]
AUTOMATIC_AGENTS = ["agent@demo.test", "agent2@demo.test"]
AUTOMATIC_ACCOUNTS = ["webchat", "whatsapp"]
DEMO_WORKLOAD = 25


def _schedule(tenant: Tenant) -> BusinessSchedule:
    schedule = BusinessSchedule.objects.create(
        tenant=tenant, name="Horario Chile", time_zone=tenant.time_zone, is_default=True
    )
    for weekday in range(5):
        for start, end in WEEKDAY_HOURS:
            BusinessInterval.objects.create(
                tenant=tenant, schedule=schedule, weekday=weekday, start=start, end=end
            )
    for start, end in SATURDAY_HOURS:
        BusinessInterval.objects.create(
            tenant=tenant, schedule=schedule, weekday=5, start=start, end=end
        )
    for date, name in HOLIDAYS:
        Holiday.objects.create(tenant=tenant, schedule=schedule, date=date, name=name)
    return schedule


def configure(tenant: Tenant, accounts: dict[str, ChannelAccount]) -> list[str]:
    schedule = _schedule(tenant)
    email = accounts["email"]
    email.schedule = schedule  # the support mailbox counts its SLA in business hours
    email.resolution_minutes = 3 * 24 * 60
    email.save(update_fields=["schedule", "resolution_minutes"])

    webchat = accounts["webchat"]
    AccountAutomation.objects.create(
        tenant=tenant,
        account=webchat,
        out_of_hours_enabled=True,
        out_of_hours_text=(
            "Hola {cliente}, nuestro horario es de lunes a viernes de 9:00 a 18:30 y sábados "
            "de 10:00 a 14:00. Te responderemos apenas abramos."
        ),
        ignore_after_hours=48,
    )
    AccountAutomation.objects.create(
        tenant=tenant,
        account=email,
        welcome_enabled=True,
        welcome_text=(
            "Hola {cliente}, recibimos tu correo y lo registramos como el ticket {ticket}. "
            "Te responderemos dentro del día hábil."
        ),
        close_after_hours=72,
        close_message="Cerramos el ticket {ticket} por falta de respuesta. Si necesitas algo "
        "más, solo responde este correo.",
    )

    departments = list(Department.objects.order_by("name"))
    bot = SkillsBot.objects.create(
        tenant=tenant,
        account=webchat,
        enabled=True,
        greeting="¡Hola! Para atenderte mejor, responde con el número del área que necesitas:",
        retry_text="No entendí tu respuesta. Escribe el número o el nombre del área:",
        default_department=departments[0] if departments else None,
    )
    for position, department in enumerate(departments, start=1):
        SkillsBotOption.objects.create(
            tenant=tenant, bot=bot, department=department, position=position
        )

    agents = list(User.objects.filter(email__in=AUTOMATIC_AGENTS))
    # Room for the demo's waiting tickets and the chats a person tries, so a new chat is
    # assigned even with one agent connected.
    User.objects.filter(pk__in=[a.pk for a in agents]).update(max_open_tickets=DEMO_WORKLOAD)
    for agent in agents:
        for key in AUTOMATIC_ACCOUNTS:
            AssignmentRule.objects.create(
                tenant=tenant, user=agent, account=accounts[key], mode=AssignmentMode.AUTOMATIC
            )

    dispatch = Department.objects.filter(name="Despacho").first()
    RoutingRule.objects.create(
        tenant=tenant,
        name="Consultas de despacho",
        position=1,
        keywords=["despacho", "courier", "seguimiento"],
        set_department=dispatch,
    )
    RoutingRule.objects.create(
        tenant=tenant,
        name="Reclamos por Twitter",
        position=2,
        channels=["twitter"],
        keywords=["reclamo", "sernac"],
        mark_important=True,
    )

    whatsapp = accounts["whatsapp"]
    WhatsAppTemplate.objects.create(
        tenant=tenant,
        account=whatsapp,
        name="confirmacion_pedido",
        language="es",
        category=WhatsAppTemplate.Category.UTILITY,
        body="Hola {{1}}, tu pedido {{2}} fue confirmado y llegará el {{3}}.",
        status=WhatsAppTemplate.Status.APPROVED,
    )
    WhatsAppTemplate.objects.create(
        tenant=tenant,
        account=whatsapp,
        name="retomar_conversacion",
        language="es",
        category=WhatsAppTemplate.Category.UTILITY,
        body="Hola {{1}}, te escribimos por tu consulta del ticket {{2}}. ¿Podemos ayudarte?",
        status=WhatsAppTemplate.Status.APPROVED,
    )
    return [
        "business hours (main schedule, 3 holidays)",
        "automatic replies on the web chat and the support mailbox",
        "skills bot on the web chat",
        f"{len(agents) * len(AUTOMATIC_ACCOUNTS)} automatic assignment cells",
        "2 routing rules",
        "2 WhatsApp templates",
    ]
