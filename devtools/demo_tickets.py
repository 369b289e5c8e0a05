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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from stdnum.cl import rut as cl_rut

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import (
    Department,
    DepartmentMembership,
    FieldType,
    ForbiddenWord,
    MessageTemplate,
    MetadataField,
    TenantSettings,
)
from devtools import demo_config as admin_demo
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


def rut(number: int) -> str:
    """A valid Chilean RUT for ``number``: the check digit is computed, never made up."""
    body = str(number)
    return str(cl_rut.format(body + cl_rut.calc_check_digit(body)))


# --- the steps of a conversation -----------------------------------------------------------


@dataclass(frozen=True)
class In:
    """A customer's message, ``minutes_ago`` before the seed (None: now)."""

    text: str
    minutes_ago: int | None = None
    subject: str = ""
    public: bool = False
    mention: bool = False


@dataclass(frozen=True)
class Out:
    """An agent's answer (queued for sending)."""

    who: str
    text: str


@dataclass(frozen=True)
class Assign:
    who: str
    by: str


@dataclass(frozen=True)
class Note:
    """An internal comment; "@agent2" and the like notify the person mentioned."""

    who: str
    text: str


@dataclass(frozen=True)
class Close:
    """Closes an answered ticket, ignores one nobody answered."""

    by: str


@dataclass(frozen=True)
class Important:
    by: str


@dataclass(frozen=True)
class Mood:
    sentiment: str
    by: str


@dataclass(frozen=True)
class Tag:
    """The ticket's typification."""

    values: dict[str, Any]
    by: str


@dataclass(frozen=True)
class Escalate:
    to: str
    note: str
    by: str


@dataclass(frozen=True)
class MergeInto:
    """Merge this conversation's ticket into another one's; later steps act on the target."""

    target: str
    by: str


Step = In | Out | Assign | Note | Close | Important | Mood | Tag | Escalate | MergeInto


@dataclass(frozen=True)
class Profile:
    """What an agent filled in about the customer."""

    rut: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conversation:
    key: str
    account: str
    identity: str
    name: str
    steps: Sequence[Step]
    profile: Profile | None = None


@dataclass(frozen=True)
class AccountSpec:
    kind: str
    name: str
    sla_minutes: int
    settings: dict[str, Any]


# --- Tienda Demo -----------------------------------------------------------------------------

DEMO_ACCOUNTS: dict[str, AccountSpec] = {
    "email": AccountSpec(
        ChannelKind.EMAIL, "soporte@tiendademo.cl", 120, {"address": "soporte@tiendademo.cl"}
    ),
    # A second mailbox: the same customer writing to both is the classic case for a merge.
    "email-ventas": AccountSpec(
        ChannelKind.EMAIL, "ventas@tiendademo.cl", 120, {"address": "ventas@tiendademo.cl"}
    ),
    "whatsapp": AccountSpec(
        ChannelKind.WHATSAPP,
        "+56 9 4000 1234",
        30,
        {"phone_number_id": "106540352242922", "display_phone_number": "56940001234"},
    ),
    "facebook": AccountSpec(
        ChannelKind.FACEBOOK, "Tienda Demo", 60, {"page_id": "104857623190455"}
    ),
    "instagram": AccountSpec(
        ChannelKind.INSTAGRAM,
        "@tiendademo",
        60,
        {"instagram_account_id": "17841452311860944", "username": "tiendademo"},
    ),
    "twitter": AccountSpec(
        ChannelKind.TWITTER,
        "@TiendaDemoCL",
        60,
        {"user_id": "1459830021774618625", "username": "TiendaDemoCL"},
    ),
    "webchat": AccountSpec(
        ChannelKind.WEBCHAT,
        "Chat del sitio",
        30,
        {
            "allowed_origins": ["https://www.tiendademo.cl"],
            "greeting": "¡Hola! ¿En qué te podemos ayudar?",
        },
    ),
}

TICKET_FIELDS: list[tuple[str, str, str, list[str]]] = [
    (
        "tipo_atencion",
        "Tipo de atención",
        FieldType.CHOICE,
        ["Reclamo", "Consulta", "Spam", "Cliente molesto", "Cliente importante"],
    ),
    ("numero_pedido", "N° de pedido", FieldType.TEXT, []),
]
CUSTOMER_FIELDS: list[tuple[str, str, str, list[str]]] = [
    ("comuna", "Comuna", FieldType.TEXT, []),
    ("cliente_vip", "Cliente VIP", FieldType.BOOL, []),
    ("fecha_nacimiento", "Fecha de nacimiento", FieldType.DATE, []),
]
DEPARTMENTS = ["Ventas", "Postventa", "Despacho"]
DEPARTMENT_MEMBERS = ["agent@demo.test", "agent2@demo.test"]
FORBIDDEN_WORDS = ["idiota", "estúpido", "tonto"]
TEMPLATES: list[tuple[str, str, str]] = [
    (
        "Saludo",
        "saludo",
        "Hola {cliente}, soy {ejecutivo} de Tienda Demo. ¿En qué te puedo ayudar?",
    ),
    (
        "Estado del despacho",
        "despacho",
        "Hola {cliente}, tu pedido ya está en manos del courier. Te llegará el número de "
        "seguimiento por correo; los despachos a regiones demoran entre 3 y 7 días hábiles.",
    ),
    (
        "Cierre",
        "cierre",
        "Gracias por escribirnos, {cliente}. Damos por resuelto el ticket #{ticket}; si "
        "necesitas algo más, respóndenos por este mismo canal. Saludos, {ejecutivo}.",
    ),
    (
        "Cambio de producto",
        "cambio",
        "Hola {cliente}, tienes 30 días desde la entrega para cambiar tu producto. Déjalo en "
        "cualquier sucursal Starken con el código de devolución que te enviaremos por correo y "
        "despachamos el nuevo apenas lo recibamos.",
    ),
]

# The users of the steps, by the part of their email before the @.
AGENT, AGENT2, ADMIN = "agent", "agent2", "admin"

# Oldest first: the services stamp updated_at with the real clock, so the last one seeded is
# the first one of the inbox.
DEMO_CONVERSATIONS: list[Conversation] = [
    Conversation(
        "benjamin-boleta",
        "whatsapp",
        "+56 9 7654 3210",
        "Benjamín Araya",
        [
            # WhatsApp answers only within 24 hours of the customer's message (the Out below is
            # sent at seed time): 1400 minutes keeps it inside the window.
            In("Hola, buenas tardes. Compré el viernes y no me llegó la boleta al correo 🙁", 1400),
            In("El pedido es el 10388", 1398),
            Assign(AGENT, by=AGENT),
            Out(
                AGENT,
                "Hola Benjamín, soy Valentina de Tienda Demo. Te reenvié la boleta electrónica "
                "del pedido 10388 a tu correo. ¿Me confirmas si te llegó?",
            ),
            In("Sí, me llegó. ¡Muchas gracias!"),
            Tag({"tipo_atencion": "Consulta", "numero_pedido": "10388"}, by=AGENT),
            Mood("happy", by=AGENT),
            Close(by=AGENT),
        ],
        Profile(rut(17890123), {"comuna": "Calama", "fecha_nacimiento": "1988-11-03"}),
    ),
    Conversation(
        "sebastian-mencion",
        "twitter",
        "@sebarojas_cl",
        "Sebastián Rojas",
        [
            In(
                "@TiendaDemoCL llevo 10 días esperando mi pedido y nadie responde los correos. "
                "Pésimo servicio 😡",
                3900,
                public=True,
                mention=True,
            ),
            Assign(AGENT2, by=ADMIN),
            Mood("angry", by=AGENT2),
            Important(by=ADMIN),
            Out(
                AGENT2,
                "Hola Sebastián, lamentamos mucho la demora 🙏 Te escribimos por mensaje "
                "directo para revisar tu pedido.",
            ),
            In("Les mando el número por acá: pedido 10275. Lo compré hace casi dos semanas."),
            Tag({"tipo_atencion": "Reclamo", "numero_pedido": "10275"}, by=AGENT2),
            Note(
                AGENT2,
                "El 10275 está retenido en el centro de distribución de Starken en Santiago. "
                "@agent ¿tú hablaste ayer con Starken por los pedidos atrasados?",
            ),
        ],
    ),
    Conversation(
        "ignacia-soporte",
        "email",
        "ignacia.vera@gmail.com",
        "Ignacia Vera",
        [
            In(
                "Hola, hice el pedido 10412 hace una semana y sigue en estado «preparando». "
                "¿Me pueden decir cuándo lo despachan?\n\nSaludos,\nIgnacia",
                3000,
                subject="Pedido 10412 sin despachar",
            ),
            Assign(AGENT, by=ADMIN),
        ],
        Profile(metadata={"comuna": "Viña del Mar"}),
    ),
    Conversation(
        "cristobal-danado",
        "email",
        "cristobal.munoz@hotmail.com",
        "Cristóbal Muñoz",
        [
            In(
                "Buenas tardes.\n\nHoy recibí la cafetera italiana del pedido 10397 y venía "
                "con el hervidor trizado. La caja estaba aplastada por un costado. Quiero que "
                "me la cambien lo antes posible.\n\nCristóbal Muñoz",
                2800,
                subject="Cafetera llegó rota - pedido 10397",
            ),
            Assign(AGENT, by=ADMIN),
            Mood("angry", by=AGENT),
            Important(by=AGENT),
            Out(
                AGENT,
                "Hola Cristóbal, lamento mucho lo ocurrido. Ya pedí a bodega la reposición de "
                "tu cafetera; hoy te confirmo la fecha de retiro del producto dañado y el envío "
                "del nuevo.",
            ),
            Escalate(
                "bodega@tiendademo.cl",
                "Reposición del pedido 10397: la cafetera italiana de 6 tazas llegó con el "
                "hervidor trizado. Por favor confirmar stock y coordinar el retiro con "
                "Chilexpress.",
                by=AGENT,
            ),
            Tag({"tipo_atencion": "Reclamo", "numero_pedido": "10397"}, by=AGENT),
            In("Ok, quedo atento. Espero que esta vez venga bien embalada."),
        ],
        Profile(
            rut(15678432),
            {"comuna": "La Florida", "cliente_vip": True, "fecha_nacimiento": "1979-06-21"},
        ),
    ),
    Conversation(
        "antonia-reembolso",
        "whatsapp",
        "+56 9 9234 5678",
        "Antonia Herrera",
        [
            In(
                "Hola! Cancelé la compra del pedido 10390 porque me equivoqué de modelo, "
                "¿cuándo me devuelven la plata?",
                1300,  # inside WhatsApp's 24-hour window when the answer below is sent
            ),
            Assign(AGENT2, by=AGENT2),
            Out(
                AGENT2,
                "Hola Antonia, el reembolso del pedido 10390 ya fue aprobado. Lo verás en tu "
                "tarjeta en 5 a 10 días hábiles, según tu banco.",
            ),
            In("Perfecto, muchas gracias por la rapidez 😊"),
            Tag({"tipo_atencion": "Consulta", "numero_pedido": "10390"}, by=AGENT2),
            Mood("happy", by=AGENT2),
            Close(by=AGENT2),
        ],
    ),
    Conversation(
        "spam",
        "whatsapp",
        "+56 9 3111 2233",
        "Inversiones Rápidas",
        [
            In(
                "🔥 GANA $500.000 SEMANALES DESDE TU CASA 🔥 Sin experiencia. Escríbenos y te "
                "explicamos cómo.",
                2500,
            ),
            Tag({"tipo_atencion": "Spam"}, by=AGENT),
            Close(by=AGENT),
        ],
    ),
    Conversation(
        "martina-stock",
        "instagram",
        "17845512340098765",
        "Martina Díaz",
        [
            In(
                "Hola! Vi en sus historias el polerón oversize. ¿Lo tienen en verde talla S?",
                2400,
            ),
            Assign(AGENT, by=AGENT),
            Out(
                AGENT,
                "¡Hola Martina! Sí, nos quedan 3 unidades en verde talla S. Te dejo el link: "
                "https://www.tiendademo.cl/poleron-oversize-verde",
            ),
            In("Listo, lo compré! Gracias 💚"),
            Tag({"tipo_atencion": "Consulta"}, by=AGENT),
            Mood("happy", by=AGENT),
            Close(by=AGENT),
        ],
    ),
    Conversation(
        "rocio-regiones",
        "facebook",
        "6283741098234561",
        "Rocío Valenzuela",
        [
            In("Hola, ¿hacen despacho a Coyhaique? ¿Cuánto cuesta?", 2200),
            Assign(AGENT, by=AGENT),
            Out(
                AGENT,
                "Hola Rocío, sí despachamos a Coyhaique por Starken. Sobre $50.000 el despacho "
                "es gratis; si no, cuesta $6.990 y demora entre 5 y 7 días hábiles.",
            ),
            Tag({"tipo_atencion": "Consulta"}, by=AGENT),
            In("Y si compro hoy, ¿alcanza a llegar antes del fin de semana largo?"),
        ],
        Profile(metadata={"comuna": "Coyhaique"}),
    ),
    Conversation(
        "javiera-reembolso",
        "email",
        "javiera.castillo@gmail.com",
        "Javiera Castillo",
        [
            In(
                "Hola,\n\nDevolví la chaqueta del pedido 10401 hace 10 días por Blue Express "
                "y todavía no recibo el reembolso. Necesito que me confirmen cuándo lo "
                "depositan.\n\nJaviera",
                2000,
                subject="Solicitud de reembolso pedido 10401",
            ),
            Assign(AGENT, by=ADMIN),
            Important(by=AGENT),
            Out(
                AGENT,
                "Hola Javiera, ya recibimos tu devolución en bodega. Estoy revisando con "
                "finanzas el estado del reembolso y te escribo hoy mismo.",
            ),
            Note(
                AGENT,
                "@agent2 ¿puedes revisar con finanzas si salió el reembolso del 10401? "
                "Es clienta VIP.",
            ),
            Tag({"tipo_atencion": "Cliente importante", "numero_pedido": "10401"}, by=AGENT),
        ],
        Profile(
            rut(13456789),
            {"comuna": "Las Condes", "cliente_vip": True, "fecha_nacimiento": "1985-02-14"},
        ),
    ),
    Conversation(
        "gabriel-talla",
        "whatsapp",
        "+56 9 6543 2109",
        "Gabriel Olivares",
        [
            In(
                "Hola, compré unas zapatillas talla 42 y me quedaron chicas. ¿Puedo cambiarlas "
                "por una 43?",
                1800,
            ),
            In("Pedido 10420", 1797),
            Assign(AGENT2, by=ADMIN),
            # Nobody answered within 24 hours: WhatsApp now takes only an approved template
            # (the ticket page shows the template picker).
            Tag({"tipo_atencion": "Consulta", "numero_pedido": "10420"}, by=AGENT2),
        ],
    ),
    Conversation(
        "maria-jose-factura",
        "email",
        "mjfuentes@outlook.com",
        "María José Fuentes",
        [
            In(
                "Estimados:\n\nNecesito que la compra del pedido 10415 se emita con factura a "
                f"nombre de mi empresa, Comercial Fuentes SpA, RUT {rut(76543210)}, giro "
                "comercio al por menor. ¿Es posible cambiar la boleta por factura?\n\n"
                "Saludos cordiales,\nMaría José Fuentes",
                1600,
                subject="Factura a nombre de empresa",
            ),
            Assign(AGENT, by=AGENT),
            Out(
                AGENT,
                "Hola María José, sí es posible. Anulamos la boleta y emitimos la factura a "
                "nombre de Comercial Fuentes SpA; te llegará a este correo en un plazo de 48 "
                "horas hábiles.",
            ),
            Note(
                AGENT,
                "@agent2 ¿me ayudas a pedirle a contabilidad la nota de crédito de la boleta "
                "del 10415?",
            ),
            Tag({"tipo_atencion": "Consulta", "numero_pedido": "10415"}, by=AGENT),
        ],
        Profile(rut(12345678), {"comuna": "Providencia"}),
    ),
    Conversation(
        "ignacia-ventas",
        "email-ventas",
        "ignacia.vera@gmail.com",
        "Ignacia Vera",
        [
            In(
                "Escribo de nuevo porque en soporte nadie me contesta. Necesito el pedido "
                "10412 para el sábado, es un regalo de cumpleaños.",
                1500,
                subject="Re: pedido 10412",
            ),
            MergeInto("ignacia-soporte", by=AGENT),
            Out(
                AGENT,
                "Hola Ignacia, disculpa la demora. Tu pedido 10412 sale hoy de nuestra bodega "
                "por Chilexpress y llega antes del sábado; te enviaremos el número de "
                "seguimiento por correo.",
            ),
            Note(
                AGENT,
                "@agent2 ¿puedes revisar el despacho? Bodega dice que salió, pero todavía no "
                "hay número de seguimiento.",
            ),
            Tag({"tipo_atencion": "Reclamo", "numero_pedido": "10412"}, by=AGENT),
        ],
    ),
    Conversation(
        "florencia-stock",
        "webchat",
        "v-7c21e9a4d05b",
        "Florencia Silva",
        [
            In("Hola, ¿les queda stock del hervidor eléctrico negro?", 1400),
            Assign(AGENT, by=AGENT),
            Out(AGENT, "Hola Florencia, sí, tenemos stock del hervidor eléctrico negro de 1,7 L."),
            In("Buenísimo, gracias!"),
            Mood("happy", by=AGENT),
            Tag({"tipo_atencion": "Consulta"}, by=AGENT),
            Close(by=AGENT),
        ],
    ),
    Conversation(
        "catalina-comentario",
        "facebook",
        "7012345678901234",
        "Catalina Morales",
        [
            In("¿Hacen envíos a Punta Arenas? Me interesa la parka del post 😍", 1200, public=True),
            Assign(AGENT2, by=ADMIN),
            Out(
                AGENT2,
                "¡Hola Catalina! Sí, despachamos a todo Chile, incluida Punta Arenas 🚚 Te "
                "escribimos por interno con el detalle.",
            ),
            Tag({"tipo_atencion": "Consulta"}, by=AGENT2),
        ],
    ),
    Conversation(
        "constanza-gracias",
        "instagram",
        "17841598765432100",
        "Constanza Sepúlveda",
        [
            In("Me llegó el pedido súper rápido y bien embalado, ¡gracias! ✨", 1100),
            Assign(AGENT, by=AGENT),
            Out(AGENT, "¡Qué bueno, Constanza! Gracias por tu compra, que lo disfrutes 💛"),
            Mood("happy", by=AGENT),
            Close(by=AGENT),
        ],
    ),
    Conversation(
        "emilia-mencion",
        "twitter",
        "@emigutierrez",
        "Emilia Gutiérrez",
        [
            In(
                "Gracias @TiendaDemoCL, el pedido llegó en 24 horas a Rancagua 🙌",
                1000,
                public=True,
                mention=True,
            ),
            Assign(AGENT2, by=AGENT2),
            Out(AGENT2, "¡Gracias a ti, Emilia! Nos alegra que haya llegado tan rápido 💙"),
            Mood("happy", by=AGENT2),
            Close(by=AGENT2),
        ],
    ),
    Conversation(
        "vicente-doble-cobro",
        "facebook",
        "5874123690012345",
        "Vicente Castro",
        [
            In(
                "Hola, me cobraron dos veces la misma compra (pedido 10433). Necesito que me "
                "devuelvan uno de los cobros.",
                900,
            ),
            Assign(AGENT2, by=AGENT2),
            Important(by=AGENT2),
            Note(
                AGENT2,
                "Revisé Transbank: hay dos cargos del 10433. Pedí la reversa del segundo, "
                "espero la confirmación antes de contestarle.",
            ),
            Tag({"tipo_atencion": "Reclamo", "numero_pedido": "10433"}, by=AGENT2),
        ],
    ),
    Conversation(
        "isidora-boleta",
        "email",
        "isidora.nunez@gmail.com",
        "Isidora Núñez",
        [
            In(
                "Hola, compré ayer un set de sartenes y no me llegó la boleta ni la "
                "confirmación del pedido. ¿Se hizo la compra?",
                700,
                subject="No me llegó la boleta",
            ),
            Assign(AGENT, by=AGENT),
            Out(
                AGENT,
                "Hola Isidora, tu pedido 10441 está confirmado. Te reenvié la boleta "
                "electrónica; si no la ves, revisa la carpeta de spam.",
            ),
            Tag({"tipo_atencion": "Consulta", "numero_pedido": "10441"}, by=AGENT),
        ],
    ),
    Conversation(
        "josefa-atrasado",
        "email",
        "josefa.contreras@gmail.com",
        "Josefa Contreras",
        [
            In(
                "Hola,\n\nMi pedido 10398 debía llegar el martes y todavía nada. El "
                "seguimiento dice «en tránsito» desde hace 4 días. ¿Qué pasa?\n\nJosefa",
                500,
                subject="Pedido atrasado 10398",
            ),
            In(
                "¿Alguien me puede responder? Necesito una respuesta hoy, por favor.",
                300,
            ),
            Mood("angry", by=AGENT),
        ],
        Profile(
            rut(16234567),
            {"comuna": "Ñuñoa", "cliente_vip": False, "fecha_nacimiento": "1992-04-17"},
        ),
    ),
    Conversation(
        "tomas-talla",
        "whatsapp",
        "+56 9 8123 4567",
        "Tomás Pizarro",
        [
            In("Hola! Compré un jeans talla 32 y me queda grande, ¿lo puedo cambiar por 30?", 240),
            In("Pedido 10450 😅", 238),
        ],
        Profile(rut(19876543), {"comuna": "Maipú"}),
    ),
    Conversation(
        "agustin-cupon",
        "twitter",
        "@agustintorres_",
        "Agustín Torres",
        [In("Hola, el cupón BIENVENIDA10 no me funciona en el carrito, me dice que expiró", 180)],
    ),
    Conversation(
        "trinidad-temuco",
        "whatsapp",
        "+56 9 5432 1098",
        "Trinidad Espinoza",
        [In("Buenas, ¿el despacho a Temuco demora mucho? Necesito el regalo para el domingo", 120)],
    ),
    Conversation(
        "maximiliano-cotizacion",
        "email-ventas",
        "max.tapia@constructoratapia.cl",
        "Maximiliano Tapia",
        [
            In(
                "Buenos días,\n\nNecesitamos cotizar 20 mochilas para un regalo corporativo, "
                "con factura. ¿Tienen precio por volumen?\n\nMaximiliano Tapia\n"
                "Constructora Tapia Ltda.",
                90,
                subject="Cotización para empresa",
            ),
            Important(by=ADMIN),
            Tag({"tipo_atencion": "Cliente importante"}, by=ADMIN),
        ],
    ),
    Conversation(
        "fernanda-chaqueta",
        "instagram",
        "17849876543210123",
        "Fernanda Soto",
        [
            In("Hola, ¿tienen la chaqueta de cuero en talla M? En la web aparece agotada", 60),
            Assign(AGENT, by=ADMIN),
        ],
    ),
    Conversation(
        "felipe-lampara",
        "webchat",
        "v-b41d0f37e2a9",
        "Felipe Carrasco",
        [
            In("Hola, me llegó la lámpara de pie con la pantalla quebrada, ¿qué hago?", 45),
            In("El pedido es el 10447. Estoy bien molesto, era para un regalo.", 44),
            Mood("angry", by=AGENT2),
            Tag({"tipo_atencion": "Cliente molesto", "numero_pedido": "10447"}, by=AGENT2),
        ],
    ),
    Conversation(
        "visitante-vina",
        "webchat",
        "v-0e9d5a1283fc",
        "",
        [In("¿Tienen tienda física en Viña del Mar?", 20)],
    ),
    Conversation(
        "benjamin-sofa",
        "whatsapp",
        "+56 9 7654 3210",
        "Benjamín Araya",
        [
            In(
                "Hola de nuevo! Ahora quiero comprar un sofá, ¿hacen despacho a Calama? "
                "¿Cuánto sale?"
            )
        ],
    ),
]

# --- Acme Chile: a little, so the isolation between tenants is visible ----------------------

ACME_ACCOUNTS: dict[str, AccountSpec] = {
    "email": AccountSpec(
        ChannelKind.EMAIL, "contacto@acmechile.cl", 240, {"address": "contacto@acmechile.cl"}
    ),
}

ACME_CONVERSATIONS: list[Conversation] = [
    Conversation(
        "rodrigo-cotizacion",
        "email",
        "rcampos@constructoraandes.cl",
        "Rodrigo Campos",
        [
            In(
                "Estimados, necesitamos cotizar 50 sillas ergonómicas para nuestra nueva "
                "oficina en Santiago Centro. ¿Cuál es el plazo de entrega?",
                1300,
                subject="Cotización 50 sillas ergonómicas",
            ),
            Assign(ADMIN, by=ADMIN),
            Out(
                ADMIN,
                "Hola Rodrigo, te adjuntaremos la cotización hoy. El plazo de entrega para 50 "
                "unidades es de 10 días hábiles.",
            ),
        ],
    ),
    Conversation(
        "paula-orden",
        "email",
        "paula.lagos@gmail.com",
        "Paula Lagos",
        [
            In(
                "Hola, ¿me pueden decir el estado de mi orden de compra 5521?",
                200,
                subject="Estado de mi orden de compra",
            )
        ],
    ),
]


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
