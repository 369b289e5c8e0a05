from django.urls import path

from exports import views

app_name = "exports"
urlpatterns = [
    path("admin/exports/", views.index, name="index"),
    path("admin/exports/list/", views.job_list, name="list"),
    path("admin/exports/retention/", views.retention, name="retention"),
    path("admin/exports/<str:token>/download/", views.download, name="download"),
]
