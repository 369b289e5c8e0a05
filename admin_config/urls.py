from django.urls import include, path

from admin_config import views

app_name = "admin_config"
# One module per section, so each section's pages live (and change) on their own.
urlpatterns = [
    path("admin/", views.index, name="index"),
    path("admin/audit/", views.audit_log, name="audit"),
    path("", include("admin_config.urls_users")),
    path("", include("admin_config.urls_departments")),
    path("", include("admin_config.urls_channels")),
    path("", include("admin_config.urls_assignments")),
    path("", include("admin_config.urls_sla")),
    path("", include("admin_config.urls_hours")),
    path("", include("admin_config.urls_automation")),
    path("", include("admin_config.urls_skills_bot")),
    path("", include("admin_config.urls_templates")),
    path("", include("admin_config.urls_words")),
    path("", include("admin_config.urls_metadata")),
    path("", include("admin_config.urls_routing")),
]
