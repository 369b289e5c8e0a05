"""URLs of one administration section (see admin_config/urls.py)."""

from django.urls import path

from admin_config import views_skills_bot as views

urlpatterns = [
    path("admin/skills-bot/", views.skills_bot_list, name="skills_bot"),
    path(
        "admin/skills-bot/<int:account_id>/",
        views.skills_bot_account,
        name="skills_bot_account",
    ),
]
