"""URLs of one administration section (see admin_config/urls.py)."""

from django.urls import URLPattern, path

from admin_config import views_users as views

urlpatterns: list[URLPattern] = [
    path("admin/users/", views.user_list, name="users"),
    path("admin/users/new/", views.user_new, name="users_new"),
    path("admin/users/<int:pk>/", views.user_edit, name="users_edit"),
    path("admin/users/<int:pk>/deactivate/", views.user_deactivate, name="users_deactivate"),
    path("admin/users/<int:pk>/reactivate/", views.user_reactivate, name="users_reactivate"),
    path("admin/users/<int:pk>/resend/", views.user_resend, name="users_resend"),
    # Public: the invited person is not logged in yet (the signed token is the key).
    path("accounts/invite/<str:token>/", views.invitation, name="invitation"),
]
