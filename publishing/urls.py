from django.urls import path

from publishing import views

app_name = "publishing"

urlpatterns = [
    path("publishing/", views.post_list, name="posts"),
    path("publishing/settings/", views.settings_save, name="settings"),
    path("publishing/<int:pk>/edit/", views.post_edit, name="edit"),
    path("publishing/<int:pk>/cancel/", views.post_cancel, name="cancel"),
    path("publishing/<int:pk>/retry/", views.post_retry, name="retry"),
]
