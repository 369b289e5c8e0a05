"""URLs of one administration section (see admin_config/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
