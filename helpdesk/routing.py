from django.urls import path

from tickets.consumers import InboxConsumer, TicketConsumer

websocket_urlpatterns = [
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/tickets/<int:number>/", TicketConsumer.as_asgi()),
]
