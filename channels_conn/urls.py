"""Provider webhooks (WhatsApp, Facebook, Instagram, X) and the web chat mount here.

Each channel issue adds its routes; the include in helpdesk/urls.py is already in place so the
isolation tests walk them as soon as they exist.
"""

from django.urls import URLPattern

app_name = "channels_conn"
urlpatterns: list[URLPattern] = []
