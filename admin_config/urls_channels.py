"""URLs of the Channels section (see admin_config/urls.py)."""

from django.urls import path

from admin_config import views_channels as views
from admin_config import views_channels_x as views_x

urlpatterns = [
    path("admin/channels/", views.channel_list, name="channels"),
    path("admin/channels/new/<slug:kind>/", views.channel_new, name="channels_new"),
    path("admin/channels/<int:pk>/", views.channel_edit, name="channels_edit"),
    path(
        "admin/channels/<int:pk>/disconnect/",
        views.channel_disconnect,
        name="channels_disconnect",
    ),
    path("admin/channels/<int:pk>/reconnect/", views.channel_reconnect, name="channels_reconnect"),
    path("admin/channels/<int:pk>/x/retry/", views_x.channel_x_retry, name="channels_x_retry"),
    path(
        "admin/channels/<int:pk>/emails/<int:email_id>/retry/",
        views.channel_email_retry,
        name="channels_email_retry",
    ),
    path(
        "admin/channels/<int:pk>/emails/<int:email_id>/eml/",
        views.channel_email_raw,
        name="channels_email_raw",
    ),
]
