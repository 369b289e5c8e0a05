from django.urls import path

from admin_config import views

app_name = "admin_config"
urlpatterns = [
    path("admin/", views.index, name="index"),
]
