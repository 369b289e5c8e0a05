"""URLs of one administration section (see admin_config/urls.py): SLA."""

from django.urls import path

from admin_config import views_sla

urlpatterns = [path("admin/sla/", views_sla.sla, name="sla")]
