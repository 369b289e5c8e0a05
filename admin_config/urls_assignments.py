"""URLs of the assignments section (see admin_config/urls.py)."""

from django.urls import path

from admin_config import views_assignments

urlpatterns = [
    path("admin/assignments/", views_assignments.assignments, name="assignments"),
]
