"""URLs of one administration section (see admin_config/urls.py)."""

from django.urls import URLPattern

from admin_config.views_metadata import metadata

urlpatterns: list[URLPattern] = metadata.urls()
