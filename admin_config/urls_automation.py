"""URLs of one administration section (see admin_config/urls.py)."""

from django.urls import path

from admin_config import views_automation as views

urlpatterns = [
    path("admin/auto-actions/", views.automation_list, name="automation"),
    path(
        "admin/auto-actions/<int:account_id>/",
        views.automation_account,
        name="automation_account",
    ),
]
