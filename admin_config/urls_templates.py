"""URLs of one administration section (see admin_config/urls.py): quick replies under
/admin/templates/, WhatsApp templates under /admin/templates/whatsapp/."""

from django.urls import URLPattern

from admin_config.views_templates import templates, whatsapp_templates

urlpatterns: list[URLPattern] = [*templates.urls(), *whatsapp_templates.urls()]
