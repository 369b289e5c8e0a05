from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from admin_config import views_me
from helpdesk import views

admin.site.site_header = "Helpdesk · operadores de la plataforma"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("me/language/", views.set_language, name="set_language"),
    path("me/theme/", views.set_theme, name="set_theme"),
    path("me/availability/", views_me.set_availability, name="set_availability"),
    path("me/preferences/", views_me.preferences, name="preferences"),
    path("me/notifications/", views.notifications, name="notifications"),
    path("me/notifications/read/", views.notifications_read, name="notifications_read"),
    path("help/", views_me.help_page, name="help"),
    path("djadmin/", admin.site.urls),
    path("", include("desk.urls")),
    path("", include("channels_conn.urls")),
    path("", include("admin_config.urls")),
    path("", include("analytics.urls")),
    path("", include("exports.urls")),
    path("", include("publishing.urls")),
]
