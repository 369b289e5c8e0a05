"""URLs of one administration section (see admin_config/urls.py)."""

from django.urls import URLPattern, path

from admin_config import views_departments as views

urlpatterns: list[URLPattern] = [
    path("admin/departments/", views.department_list, name="departments"),
    path("admin/departments/new/", views.department_form, name="departments_new"),
    path("admin/departments/<int:pk>/", views.department_form, name="departments_edit"),
    path("admin/departments/<int:pk>/delete/", views.department_delete, name="departments_delete"),
]
