"""URLs of one administration section (see admin_config/urls.py)."""

from django.urls import URLPattern

from admin_config.views_words import urls

urlpatterns: list[URLPattern] = urls
