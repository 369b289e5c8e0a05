"""One «Reconectar» for every channel: the account carries why it must be reconnected and since
when. What X (``TwitterState.reconnect_reason``) and Meta (``settings["reconnect"]``) marked
before moves onto the account, so nothing set today is lost."""

from django.db import migrations, models
from django.utils import timezone


def forwards(apps, schema_editor):
    from helpdesk.tenancy import bypass_context

    with bypass_context():  # the policies are FORCEd: even the owner sees rows only so
        _forwards(apps)


def _forwards(apps):
    Account = apps.get_model("channels_conn", "ChannelAccount")
    TwitterState = apps.get_model("twitter", "TwitterState")
    now = timezone.now()
    for state in TwitterState.objects.exclude(reconnect_reason=""):
        Account.objects.filter(pk=state.account_id).update(
            reconnect_reason=state.reconnect_reason, reconnect_since=state.polled_at or now
        )
    for account in Account.objects.filter(settings__has_key="reconnect"):
        settings = dict(account.settings or {})
        reason = str(settings.pop("reconnect") or "")
        account.settings = settings
        if reason and not account.reconnect_reason:
            account.reconnect_reason = reason
            account.reconnect_since = now
        account.save(update_fields=["settings", "reconnect_reason", "reconnect_since"])


def backwards(apps, schema_editor):
    from helpdesk.tenancy import bypass_context

    with bypass_context():
        _backwards(apps)


def _backwards(apps):
    Account = apps.get_model("channels_conn", "ChannelAccount")
    TwitterState = apps.get_model("twitter", "TwitterState")
    for account in Account.objects.exclude(reconnect_reason=""):
        if account.kind == "twitter":
            TwitterState.objects.filter(account_id=account.pk).update(
                reconnect_reason=account.reconnect_reason
            )
        elif account.kind in ("whatsapp", "facebook", "instagram"):
            account.settings = {**(account.settings or {}), "reconnect": account.reconnect_reason}
            account.save(update_fields=["settings"])


class Migration(migrations.Migration):
    dependencies = [
        ("channels_conn", "0006_meta5_pending_events"),
        ("twitter", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="channelaccount",
            name="reconnect_reason",
            field=models.TextField(blank=True, default="", verbose_name="motivo para reconectar"),
        ),
        migrations.AddField(
            model_name="channelaccount",
            name="reconnect_since",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="necesita reconectarse desde"
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
