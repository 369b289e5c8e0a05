"""The email and Meta branches each added a channels_conn 0004: neither depends on the other."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("channels_conn", "0004_email_ignored_participants"),
        ("channels_conn", "0004_meta_webhooks"),
    ]

    operations: list[migrations.operations.base.Operation] = []
