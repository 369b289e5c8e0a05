"""ASGI entry point: HTTP through Django, WebSockets through Channels (daphne serves both).

Outermost, :mod:`helpdesk.proxy` decides the client's address and scheme (forwarded headers are
believed from trusted proxies only); websockets must then come from our own origin. Meta's
webhook POSTs skip Django's request stack (:mod:`channels_conn.meta.asgi`)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from channels_conn.meta.asgi import MetaWebhookFastPath  # noqa: E402
from helpdesk.proxy import TrustedProxyMiddleware  # noqa: E402
from helpdesk.routing import websocket_urlpatterns  # noqa: E402
from helpdesk.ws_origin import SameOriginValidator  # noqa: E402

application = TrustedProxyMiddleware(
    ProtocolTypeRouter(
        {
            "http": MetaWebhookFastPath(django_asgi_app),
            "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)
