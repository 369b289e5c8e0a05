"""Django's admin, for platform operators only (superusers without a tenant, in bypass)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from helpdesk.models import Notification, Tenant, User


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "time_zone", "language", "created_at")
    search_fields = ("name", "slug")


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "tenant", "role")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "name", "tenant", "role", "is_bot", "language", "is_active")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserCreateForm
    form = UserEditForm
    ordering = ("email",)
    list_display = ("email", "name", "tenant", "role", "is_bot", "is_active")
    list_filter = ("tenant", "role", "is_bot", "is_active")
    search_fields = ("email", "name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Perfil", {"fields": ("name", "tenant", "role", "is_bot", "language")}),
        ("Acceso", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = (
        (None, {"fields": ("email", "name", "tenant", "role", "password1", "password2")}),
    )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("text", "user", "tenant", "created_at", "read_at")
    list_filter = ("tenant",)


def _operators_only(request) -> bool:  # type: ignore[no-untyped-def]
    user = request.user
    return bool(user.is_active and user.is_superuser and getattr(user, "tenant_id", None) is None)


admin.site.has_permission = _operators_only  # type: ignore[method-assign]
