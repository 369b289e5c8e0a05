"""The skills bot end to end through the web chat: the customer picks a department by number
or name, unknown answers are asked again and then sent to the default department; the bot
stays quiet when turned off (per account or per customer) or once an agent answers. And the
page that configures it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from django.test import Client

from deskconfig.accounts import ChannelAccount
from deskconfig.models import ConfigChange, Department, SkillsBot, SkillsBotOption
from helpdesk.models import User
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import Cast, client_for
from tests.tickets.factories import BotUserFactory, ChannelAccountFactory
from tests.tickets.helpers import events
from tickets import services
from tickets.models import AuthorKind, EventKind, Message, Ticket
from workflow.skills_bot import ASKING, choose, normalize

pytestmark = pytest.mark.django_db


def new_account(**fields: object) -> ChannelAccount:
    """A channel account row (typed: the factory is not)."""
    return cast(ChannelAccount, ChannelAccountFactory(**fields))


GREETING = "¡Hola! ¿Con qué área quieres hablar?"
RETRY = "No te entendí. Responde con un número:"


@pytest.fixture
def in_a(cast: Cast) -> Iterator[Cast]:
    with bypass_context():
        BotUserFactory(tenant=cast.tenant_a)
    with tenant_context(cast.tenant_a.pk):
        yield cast


@pytest.fixture
def departments(in_a: Cast) -> dict[str, Department]:
    return {
        name: Department.objects.create(tenant_id=in_a.tenant_a.pk, name=name)
        for name in ("Ventas", "Soporte Técnico", "Reclamos")
    }


@pytest.fixture
def chat(in_a: Cast, departments: dict[str, Department]) -> ChannelAccount:
    account = ChannelAccount.objects.create(
        tenant=in_a.tenant_a, kind="webchat", name="Chat del sitio"
    )
    bot = SkillsBot.objects.create(
        tenant_id=account.tenant_id,
        account=account,
        enabled=True,
        greeting=GREETING,
        retry_text=RETRY,
        default_department=departments["Reclamos"],
    )
    for position, name in enumerate(("Ventas", "Soporte Técnico"), start=1):
        SkillsBotOption.objects.create(
            tenant_id=account.tenant_id, bot=bot, department=departments[name], position=position
        )
    return account


class Visitor:
    """A person writing in the web chat, in their own browser."""

    def __init__(self, chat: ChannelAccount) -> None:
        self.chat = chat
        self.browser = Client()

    def says(self, text: str) -> Ticket:
        response = self.browser.post(f"/chat/{self.chat.uuid}/send/", {"text": text})
        assert response.status_code == 302
        return Ticket.objects.order_by("-id").first()  # type: ignore[return-value]

    def page(self) -> str:
        return self.browser.get(f"/chat/{self.chat.uuid}/").content.decode()


def bot_texts(ticket: Ticket) -> list[str]:
    return list(
        Message.objects.filter(ticket=ticket, author_kind=AuthorKind.BOT)
        .order_by("id")
        .values_list("text", flat=True)
    )


MENU = "1. Ventas\n2. Soporte Técnico"


def test_the_customer_picks_by_number(chat, departments):
    visitor = Visitor(chat)
    ticket = visitor.says("Hola, necesito ayuda")
    assert ticket.bot_stage == ASKING and ticket.department is None
    assert bot_texts(ticket) == [f"{GREETING}\n\n{MENU}"]
    assert "1. Ventas" in visitor.page()  # the visitor sees the question
    ticket = visitor.says(" 2 ")
    assert ticket.department == departments["Soporte Técnico"] and ticket.bot_stage == ""
    choice = events(ticket, EventKind.BOT)[-1]
    assert choice.data["skills"] == "chosen" and choice.data["department"] == "Soporte Técnico"
    assert choice.actor is not None and choice.actor.is_bot
    # Nothing asked again; the visitor hears where the conversation goes.
    assert bot_texts(ticket)[1:] == [
        "Te comunicamos con Soporte Técnico. En breve te atenderá una persona."
    ]
    assert "Te comunicamos con Soporte Técnico" in visitor.page()


@pytest.mark.parametrize("answer", ["soporte tecnico", "SÓPORTE  técnico.", "  Soporte Técnico "])
def test_the_customer_picks_by_name_without_caring_for_case_or_accents(chat, departments, answer):
    visitor = Visitor(chat)
    visitor.says("Hola")
    assert visitor.says(answer).department == departments["Soporte Técnico"]


def test_unknown_answers_are_asked_again_twice_then_go_to_the_default(chat, departments, in_a):
    visitor = Visitor(chat)
    visitor.says("Hola")
    visitor.says("no sé")
    ticket = visitor.says("7")
    assert ticket.bot_stage == ASKING and ticket.department is None
    assert bot_texts(ticket)[1:] == [f"{RETRY}\n\n{MENU}"] * 2
    ticket = visitor.says("¿qué?")
    assert ticket.department == departments["Reclamos"] and ticket.bot_stage == ""
    assert len(bot_texts(ticket)) == 3  # no confirmation of a choice nobody made
    last = events(ticket, EventKind.BOT)[-1]
    assert last.data["skills"] == "default" and last.data["department"] == "Reclamos"
    history = client_for(in_a.agent).get(f"/tickets/{ticket.number}/?tab=historial")
    assert "sin respuesta válida, va a Reclamos" in history.content.decode()


def test_without_a_default_the_ticket_stays_without_department(chat):
    SkillsBot.objects.update(default_department=None)
    visitor = Visitor(chat)
    for text in ("Hola", "x", "y", "z"):
        ticket = visitor.says(text)
    assert ticket.department is None and ticket.bot_stage == ""


def test_turned_off_for_the_account_the_bot_says_nothing(chat):
    SkillsBot.objects.update(enabled=False)
    ticket = Visitor(chat).says("Hola")
    assert ticket.bot_stage == "" and bot_texts(ticket) == []


def test_turned_off_for_the_customer_from_the_ticket_bot_tab(chat, in_a):
    visitor = Visitor(chat)
    ticket = visitor.says("Hola")
    agent = client_for(in_a.agent)
    agent.post(f"/tickets/{ticket.number}/tab/bot/", {"enabled": "0"})
    ticket = visitor.says("1")
    assert ticket.bot_stage == "" and ticket.department is None  # no choice read
    assert events(ticket, EventKind.BOT)[-1].data["skills"] == "stopped"
    services.ticket_close(ticket=ticket, actor=in_a.agent)
    again = visitor.says("Hola de nuevo")
    assert again.pk != ticket.pk and bot_texts(again) == []  # not asked on the next ticket


def test_the_bot_stops_asking_once_an_agent_answers(chat, in_a):
    visitor = Visitor(chat)
    ticket = visitor.says("Hola")
    services.message_send(ticket=ticket, author=in_a.agent, text="Hola, te atiendo yo")
    ticket = visitor.says("gracias")
    assert ticket.bot_stage == "" and ticket.department is None
    assert len(bot_texts(ticket)) == 1


def test_the_bot_stops_asking_once_an_agent_takes_the_ticket(chat, in_a):
    visitor = Visitor(chat)
    ticket = visitor.says("Hola")
    services.ticket_assign(ticket=ticket, assignee=in_a.agent, actor=in_a.agent)
    ticket = visitor.says("1")
    assert ticket.bot_stage == "" and ticket.department is None


def test_automatic_mail_and_public_messages_are_not_asked(in_a, departments):
    mailbox = new_account(tenant=in_a.tenant_a, name="Correo")
    bot = SkillsBot.objects.create(
        tenant_id=mailbox.tenant_id, account=mailbox, enabled=True, greeting="Hola"
    )
    SkillsBotOption.objects.create(
        tenant_id=mailbox.tenant_id, bot=bot, department=departments["Ventas"], position=1
    )
    robot = services.message_receive(
        account=mailbox,
        inbound=services.Inbound(identity="noreply@x.test", text="Auto", auto_submitted=True),
    ).message.ticket
    assert robot.bot_stage == "" and bot_texts(robot) == []
    comment = services.message_receive(
        account=mailbox,
        inbound=services.Inbound(identity="pepe@x.test", text="Hola", is_public=True),
    ).message.ticket
    assert comment.bot_stage == "" and bot_texts(comment) == []  # never a public menu
    person = services.message_receive(
        account=mailbox, inbound=services.Inbound(identity="ana@x.test", text="Hola")
    ).message.ticket
    assert person.bot_stage == ASKING
    # A mail answer carries the quoted question below the first line.
    answer = services.message_receive(
        account=mailbox,
        inbound=services.Inbound(identity="ana@x.test", text="Ventas\n\n> Hola\n> 1. Ventas"),
    ).message.ticket
    assert answer.department == departments["Ventas"]


def test_matching_rules():
    options = [Department(name="Ventas"), Department(name="Atención al Cliente")]
    assert normalize("  ÁtenCIÓN   al cliente!! ") == "atencion al cliente"
    assert choose("2", options) is options[1]
    assert choose("2)", options) is options[1]
    assert choose("atencion al cliente", options) is options[1]
    assert choose("3", options) is None and choose("0", options) is None
    assert choose("ventas por favor", options) is None
    assert choose("", options) is None


# --- the page ------------------------------------------------------------------------------


def test_the_page_lists_accounts_with_their_bot(chat, in_a):
    with bypass_context():
        new_account(tenant=in_a.tenant_b, name="Cuenta ajena")
    body = client_for(in_a.admin).get("/admin/skills-bot/").content.decode()
    assert "Chat del sitio" in body and "Cuenta ajena" not in body
    assert "Activo" in body and "Soporte Técnico" in body
    assert client_for(in_a.analyst).get("/admin/skills-bot/").status_code == 403


def test_configuring_the_bot_orders_the_departments_and_is_audited(in_a, departments):
    account = new_account(tenant=in_a.tenant_a, name="WhatsApp")
    admin = client_for(in_a.admin)
    url = f"/admin/skills-bot/{account.pk}/"
    form = admin.get(url).content.decode()
    assert f'name="dept-{departments["Ventas"].pk}"' in form
    ids = {n: d.pk for n, d in departments.items()}
    response = admin.post(
        url,
        {
            "enabled": "on",
            "greeting": "Hola",
            "retry_text": "¿Cómo?",
            "default_department": ids["Ventas"],
            f"dept-{ids['Reclamos']}": "on",
            f"pos-{ids['Reclamos']}": "1",
            f"dept-{ids['Ventas']}": "on",
            f"pos-{ids['Ventas']}": "2",
            f"pos-{ids['Soporte Técnico']}": "3",  # a number without the box: not offered
        },
    )
    assert response.status_code == 302
    bot = SkillsBot.objects.get(account=account)
    assert [o.department.name for o in bot.options.all()] == ["Reclamos", "Ventas"]
    assert [o.position for o in bot.options.all()] == [1, 2]
    created = ConfigChange.objects.get(section="skills-bot")
    assert created.action == ConfigChange.Action.CREATE
    assert created.after["options"] == ["Reclamos", "Ventas"]
    # Reordered: Ventas first.
    admin.post(
        url,
        {
            "enabled": "on",
            "greeting": "Hola",
            "retry_text": "¿Cómo?",
            f"dept-{ids['Reclamos']}": "on",
            f"pos-{ids['Reclamos']}": "5",
            f"dept-{ids['Ventas']}": "on",
            f"pos-{ids['Ventas']}": "1",
        },
    )
    assert [o.department.name for o in bot.options.all()] == ["Ventas", "Reclamos"]
    update = ConfigChange.objects.filter(section="skills-bot").first()
    assert update is not None and update.action == ConfigChange.Action.UPDATE
    assert update.before["options"] == ["Reclamos", "Ventas"]
    assert update.after["options"] == ["Ventas", "Reclamos"]
    assert update.after["default_department_id"] is None
    assert "1. Ventas\n2. Reclamos" in admin.get(url).content.decode()  # the preview


def test_the_bot_form_explains_what_is_wrong(in_a, departments):
    account = new_account(tenant=in_a.tenant_a)
    ventas = departments["Ventas"].pk
    with bypass_context():
        foreign = Department.all_tenants.create(tenant=in_a.tenant_b, name="Ajeno")
    response = client_for(in_a.admin).post(
        f"/admin/skills-bot/{account.pk}/",
        {"enabled": "on", "greeting": " ", f"pos-{ventas}": "0", "default_department": foreign.pk},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Escribe el saludo" in body and "Escribe qué dice el bot" in body
    assert "Elige al menos un departamento" in body
    assert "Usa un número entre 1 y 99." in body
    assert "Escoja una opción válida" in body or "Select a valid choice" in body
    assert not SkillsBot.objects.exists() and not ConfigChange.objects.exists()


def test_another_tenants_account_is_not_found(in_a):
    with bypass_context():
        theirs = new_account(tenant=in_a.tenant_b)
    admin = client_for(in_a.admin)
    assert admin.get(f"/admin/skills-bot/{theirs.pk}/").status_code == 404
    assert admin.post(f"/admin/skills-bot/{theirs.pk}/", {"enabled": "on"}).status_code == 404


def test_a_tenant_made_without_a_bot_user_still_gets_the_question(cast):
    """Tenants made outside ``tenant_create`` have no bot user: one is made on first use
    instead of failing the customer's message (the web chat answered 500)."""
    with tenant_context(cast.tenant_a.pk):
        assert not User.objects.filter(is_bot=True).exists()
        account = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")
        department = Department.objects.create(tenant=cast.tenant_a, name="Ventas")
        bot = SkillsBot.objects.create(
            tenant=cast.tenant_a, account=account, enabled=True, greeting="¿Con qué área?"
        )
        SkillsBotOption.objects.create(
            tenant=cast.tenant_a, bot=bot, department=department, position=1
        )
        services.message_receive(
            account=account, inbound=services.Inbound(identity="v-1", text="Hola")
        )
        question = Message.objects.get(author__is_bot=True)
        assert "1. Ventas" in question.text
        assert User.objects.filter(is_bot=True).count() == 1


def test_the_card_keeps_what_the_customer_asked(chat):
    """The menu, «2» and the confirmation say nothing on a card: it shows the question."""
    visitor = Visitor(chat)
    ticket = visitor.says("Hola, mi pedido 10412 llegó roto")
    assert ticket.last_message_preview == "Hola, mi pedido 10412 llegó roto"
    ticket = visitor.says("2")
    assert ticket.last_message_preview == "Hola, mi pedido 10412 llegó roto"


def test_the_confirmation_comes_from_the_bots_settings(chat, departments):
    SkillsBot.objects.update(confirm_text="Listo, {departamento} ya tiene tu mensaje.")
    visitor = Visitor(chat)
    visitor.says("Hola")
    ticket = visitor.says("ventas")
    assert bot_texts(ticket)[-1] == "Listo, Ventas ya tiene tu mensaje."
