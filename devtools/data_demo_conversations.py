"""The demo's data, apart from the code that plays it (:mod:`devtools.demo_tickets`): the
demo tenants' channel accounts, configuration and a few dozen conversations in Chilean Spanish.

Each conversation puts its past customer messages first: whatever follows an agent's answer
happens "now" (the services stamp it with the real clock)."""

from __future__ import annotations

from deskconfig.kinds import ChannelKind
from deskconfig.models import (
    FieldType,
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
    rut,
)

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
