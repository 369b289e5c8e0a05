"""URLs of one administration section (see admin_config/urls.py): business hours."""

from django.urls import path

from admin_config import views_hours

urlpatterns = [
    path("admin/business-hours/", views_hours.schedule_list, name="hours"),
    path("admin/business-hours/new/", views_hours.schedule_form, name="hours_new"),
    path("admin/business-hours/<int:pk>/", views_hours.schedule_form, name="hours_edit"),
    path("admin/business-hours/<int:pk>/main/", views_hours.schedule_make_main, name="hours_main"),
    path("admin/business-hours/<int:pk>/delete/", views_hours.schedule_delete, name="hours_delete"),
]
