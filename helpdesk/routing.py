from django.urls import path

from channels_conn.webchat.consumers import ChatConsumer
from desk.consumers import InboxConsumer, TicketConsumer

websocket_urlpatterns = [
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/tickets/<int:number>/", TicketConsumer.as_asgi()),
    path("ws/chat/<uuid:account_uuid>/", ChatConsumer.as_asgi()),
]
