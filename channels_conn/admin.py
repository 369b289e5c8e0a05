"""The platform operators' view of what no tenant owns: signed Meta webhooks that were not JSON."""

from django.contrib import admin

from channels_conn.meta.models import MetaRejectedWebhook


@admin.register(MetaRejectedWebhook)
class MetaRejectedWebhookAdmin(admin.ModelAdmin):
    list_display = ("created_at", "reason")
    readonly_fields = ("created_at", "reason", "raw")
