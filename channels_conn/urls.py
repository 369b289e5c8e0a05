"""Public channel endpoints: the web chat (and, with the other channels, their webhooks)."""

from django.urls import path

from channels_conn.webchat import views as webchat

app_name = "channels_conn"
urlpatterns = [
    path("chat/<uuid:account_uuid>/", webchat.chat_page, name="chat"),
    path("chat/<uuid:account_uuid>/send/", webchat.chat_send, name="chat_send"),
    path("chat/<uuid:account_uuid>/widget.js", webchat.widget_js, name="chat_widget"),
]
