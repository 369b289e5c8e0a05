"""Public channel endpoints: the web chat and the Meta webhook."""

from django.urls import path

from channels_conn.meta.views import meta_file, meta_webhook
from channels_conn.webchat import views as webchat

app_name = "channels_conn"
urlpatterns = [
    path("chat/<uuid:account_uuid>/", webchat.chat_page, name="chat"),
    path("chat/<uuid:account_uuid>/send/", webchat.chat_send, name="chat_send"),
    path("chat/<uuid:account_uuid>/widget.js", webchat.widget_js, name="chat_widget"),
    path("webhooks/meta/", meta_webhook, name="meta_webhook"),
    path("webhooks/meta/files/<str:token>/", meta_file, name="meta_file"),
]
